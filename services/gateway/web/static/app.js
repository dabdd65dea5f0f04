/* chainclub pages: htmx settings, the CSRF header, and keeping a form when the network fails.
 * No inline scripts (the pages' Content-Security-Policy allows only files from this site). */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    htmx.config.timeout = 20000;
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
    htmx.config.historyCacheSize = 0; /* member data never goes to localStorage */
    htmx.config.refreshOnHistoryMiss = true;
    /* A refused request (4xx) still shows its answer: the form comes back with its messages. */
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[4]..", swap: true, error: false },
      { code: "5..", swap: true, error: true },
      { code: "...", swap: false }
    ];
    bindOffline();
    focusFirst(document);
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = csrf();
  });

  /* The gateway is unreachable (or timed out): say so, keep the form as it is (with its
   * Idempotency-Key), and send the same request again when the clerk asks. */
  var failed = null;
  function bindOffline() {
    var banner = document.getElementById("offline");
    if (!banner) return;
    document.getElementById("offline-retry").addEventListener("click", function () {
      banner.hidden = true;
      if (failed && document.body.contains(failed.elt)) {
        htmx.trigger(failed.elt, failed.event);
      }
    });
    document.getElementById("offline-close").addEventListener("click", function () {
      banner.hidden = true;
    });
  }
  function offline(evt) {
    var elt = evt.detail.elt;
    var trigger = evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent;
    failed = { elt: elt, event: trigger ? trigger.type : (elt.tagName === "FORM" ? "submit" : "click") };
    var banner = document.getElementById("offline");
    if (banner) {
      banner.hidden = false;
      document.getElementById("offline-retry").focus();
    }
  }
  document.addEventListener("htmx:sendError", offline);
  document.addEventListener("htmx:timeout", offline);
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.successful || (evt.detail.xhr && evt.detail.xhr.status)) {
      var banner = document.getElementById("offline");
      if (banner && failed && failed.elt === evt.detail.elt) banner.hidden = true;
    }
  });

  /* Keyboard first: after a swap, the element marked data-autofocus takes the focus, so a
   * barcode scanner (digits + Enter) can go on without a mouse — unless the person is typing in
   * another field (say the amount paid while the quote refreshes): taking the focus then would
   * send their digits to the scanner's field. */
  function typingElsewhere(el) {
    var active = document.activeElement;
    return !!active && active !== el && document.contains(active) &&
      /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
  }
  function focusFirst(root) {
    var el = root.querySelector && root.querySelector("[data-autofocus]");
    if (el && (root === document || !typingElsewhere(el))) { el.focus(); if (el.select) el.select(); }
  }
  document.addEventListener("htmx:afterSettle", function (evt) { focusFirst(evt.detail.elt); });

  /* Printing a receipt. */
  document.addEventListener("click", function (evt) {
    var t = evt.target.closest && evt.target.closest("[data-print]");
    if (t) { evt.preventDefault(); window.print(); }
  });

})();
