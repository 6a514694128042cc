/* Progressive enhancement for the public form: everything works without it. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  ready(function () {
    // Move focus to the error summary so screen readers announce it (autofocus does it too).
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }

    // Show the US state only for the United States (it stays visible without JavaScript).
    var country = document.getElementById("id_country");
    var stateField = document.querySelector(".js-us-state");
    if (country && stateField) {
      var syncState = function () { stateField.classList.toggle("is-hidden", country.value !== "US"); };
      country.addEventListener("change", syncState);
      syncState();
    }

    // Show "about you" fields only to someone acting for another person.
    var onBehalf = document.querySelector(".js-on-behalf");
    var radios = document.querySelectorAll(".js-filer input[type=radio]");
    if (onBehalf && radios.length) {
      var hasError = onBehalf.querySelector(".field--error");
      var syncFiler = function () {
        var checked = document.querySelector(".js-filer input[type=radio]:checked");
        onBehalf.classList.toggle("is-hidden", !hasError && (!checked || checked.value === "self"));
      };
      radios.forEach(function (r) { r.addEventListener("change", function () { hasError = null; syncFiler(); }); });
      syncFiler();
    }
  });
})();
