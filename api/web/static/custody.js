/* Progressive enhancement only: every page works without this file.
   - marks <html> with "js" so hints meant for no-script browsers can hide;
   - shows the print buttons and wires them to the browser's print dialog;
   - moves focus to an error summary or a result so screen readers announce it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
