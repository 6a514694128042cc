// The calculator works without JavaScript (the "Show its request types" button narrows the
// request types on the server); with it, the request types follow the jurisdiction at once.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-calculator]");
    var dataNode = document.getElementById("calculator-data");
    if (!form || !dataNode) return;
    var data = JSON.parse(dataNode.textContent);
    var jurisdiction = form.querySelector("[data-calc=jurisdiction]");
    var requestType = form.querySelector("[data-calc=request_type]");
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    function narrow() {
      var regime = data.regimes[jurisdiction.value];
      if (!regime) return;
      var current = requestType.value;
      var placeholder = requestType.querySelector("option[value='']");
      requestType.textContent = "";
      if (placeholder) requestType.appendChild(placeholder);
      data.types[regime].forEach(function (pair) {
        var option = new Option(pair[1], pair[0], false, pair[0] === current);
        requestType.appendChild(option);
      });
    }
    jurisdiction.addEventListener("change", narrow);
    narrow();
  });
})();
