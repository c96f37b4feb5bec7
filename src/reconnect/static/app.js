// Quick exit: sign out quietly, then replace this page (not push) with a neutral
// one, so neither Back nor a reload brings anything private back.
// Esc outside a text box leaves at once. In a box being typed in, one Esc does nothing
// (a slip must not throw a draft away); two presses within a second leave as well.
(function () {
  "use strict";
  var TWICE_WITHIN_MS = 1000;
  var NOT_TYPED_IN = ["button", "checkbox", "color", "file", "hidden", "image", "radio",
    "range", "reset", "submit"];
  function typingIn(element) {
    if (!element) { return false; }
    if (element.isContentEditable) { return true; }
    var tag = element.tagName;
    if (tag === "TEXTAREA") { return true; }
    if (tag !== "INPUT") { return false; }
    return NOT_TYPED_IN.indexOf((element.getAttribute("type") || "text").toLowerCase()) < 0;
  }
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
    var lastEscInBox = 0;
    document.addEventListener("keydown", function (event) {
      // A held key repeats, and Esc also ends an input method's composition: neither
      // is a press meant for the page.
      if (event.key !== "Escape" || event.repeat || event.isComposing) { return; }
      if (!typingIn(event.target)) { leave(url); return; }
      var now = Date.now();
      if (now - lastEscInBox <= TWICE_WITHIN_MS) { leave(url); return; }
      lastEscInBox = now;
      // Esc in a search box would clear it: keep every word.
      event.preventDefault();
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

// The navigation's "More" closes when a tap lands anywhere outside it, as a menu does.
// Without JavaScript it still opens and closes from its own summary.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var open = document.querySelector("details.nav-more[open]");
    if (open && !open.contains(event.target)) { open.removeAttribute("open"); }
  });
})();
