// Quick exit: replace this page (not push) so Back does not return to the app.
(function () {
  "use strict";
  function leave(url) {
    try { document.body.innerHTML = ""; } catch (e) { /* keep going */ }
    window.location.replace(url);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var link = document.getElementById("quick-exit");
    if (!link) { return; }
    var url = link.getAttribute("data-exit-url");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      leave(url);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { leave(url); }
    });
  });
})();
