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

// Registration: the browser knows its time zone, so days and times can be local from
// the start. Without JavaScript the field stays empty and the server uses UTC.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var field = document.querySelector("input[data-browser-time-zone]");
    if (!field || field.value) { return; }
    try {
      field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) { /* an old browser: UTC, changeable on the Account page */ }
  });
})();
