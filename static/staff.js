// Staff pages: behaviour that used to be inline handlers (the Content-Security-Policy allows only
// scripts served from here).
document.addEventListener("DOMContentLoaded", () => {
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("click", () => {
      for (const box of document.querySelectorAll(`input[name=${all.dataset.selectAll}]`)) box.checked = all.checked;
    });
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
