// Quick exit: sign out quietly, then replace this page (not push) with a neutral
// one, so neither Back nor a reload brings anything private back.
(function () {
  "use strict";
  function signOut() {
    var form = document.querySelector('form[action="/logout"]');
    if (form && navigator.sendBeacon) {
      try { navigator.sendBeacon("/logout", new FormData(form)); } catch (e) { /* leave anyway */ }
    }
  }
  function leave(url) {
    signOut();
    try { document.body.innerHTML = ""; document.title = ""; } catch (e) { /* keep going */ }
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
