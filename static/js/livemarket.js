/* Livemarket: small progressive enhancements shared by every page.
 *
 * Everything here is optional: pages work as plain HTML forms and links without it.
 *  - toasts: auto-hide and dismiss Django messages
 *  - quantity steppers (+/-) that fire `change` so htmx forms can react
 *  - product page: variant price display, gallery thumbnails
 *  - checkout: "use this address" buttons, one-submit guard
 *  - <time data-local> shown in the visitor's own time zone
 */
(function () {
  "use strict";

  var AUTOHIDE_MS = 6000;

  function dismiss(el) {
    if (!el || el.classList.contains("is-leaving")) return;
    el.classList.add("is-leaving");
    el.addEventListener("animationend", function () { el.remove(); }, { once: true });
    // Reduced-motion users get no animationend; remove anyway.
    setTimeout(function () { el.remove(); }, 400);
  }

  function scheduleAutohide(root) {
    (root || document).querySelectorAll("[data-autohide]").forEach(function (el) {
      if (el.dataset.autohideArmed) return;
      el.dataset.autohideArmed = "1";
      // Errors stay until dismissed; other messages fade on their own.
      if (el.classList.contains("message--error")) return;
      var timer = setTimeout(function () { dismiss(el); }, AUTOHIDE_MS);
      el.addEventListener("mouseenter", function () { clearTimeout(timer); });
      el.addEventListener("focusin", function () { clearTimeout(timer); });
    });
  }

  function localizeTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var formats = {
      "time": { hour: "2-digit", minute: "2-digit" },
      "weekday-time": { weekday: "long", hour: "2-digit", minute: "2-digit" },
      "datetime": { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" },
    };
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      var fmt = formats[el.dataset.local];
      if (isNaN(when.getTime()) || !fmt) return;
      try {
        el.textContent = new Intl.DateTimeFormat(undefined, fmt).format(when);
        el.title = when.toLocaleString();
      } catch (e) { /* keep the server-rendered UTC text */ }
    });
  }

  function setupVariants(root) {
    var radios = (root || document).querySelectorAll("[data-variant-radio]");
    if (!radios.length) return;
    var amount = document.querySelector("[data-price-amount]");
    var compareWrap = document.querySelector("[data-compare-display]");
    var compareAmount = document.querySelector("[data-compare-amount]");
    var anyChecked = Array.prototype.some.call(radios, function (r) { return r.checked; });
    if (!anyChecked) {
      var firstOpen = Array.prototype.find.call(radios, function (r) { return !r.disabled; });
      if (firstOpen) firstOpen.checked = true;
    }
    function show(radio) {
      if (!radio || !amount) return;
      amount.textContent = radio.dataset.price;
      if (compareWrap && compareAmount) {
        var compare = radio.dataset.compare;
        var showCompare = compare && parseFloat(compare) > parseFloat(radio.dataset.price);
        compareWrap.hidden = !showCompare;
        compareAmount.textContent = showCompare ? compare : "";
      }
    }
    radios.forEach(function (r) {
      r.addEventListener("change", function () { if (r.checked) show(r); });
      if (r.checked) show(r);
    });
  }

  function setupGallery(root) {
    (root || document).querySelectorAll("[data-gallery]").forEach(function (gallery) {
      var track = gallery.querySelector("[data-gallery-track]");
      var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
      if (!track || !thumbs.length) return;
      thumbs.forEach(function (thumb) {
        thumb.addEventListener("click", function (event) {
          event.preventDefault();
          var index = parseInt(thumb.dataset.galleryThumb, 10);
          track.scrollTo({ left: index * track.clientWidth, behavior: "smooth" });
          thumbs.forEach(function (t) { t.removeAttribute("aria-current"); });
          thumb.setAttribute("aria-current", "true");
        });
      });
      track.addEventListener("scroll", function () {
        var index = Math.round(track.scrollLeft / Math.max(track.clientWidth, 1));
        thumbs.forEach(function (t, i) {
          if (i === index) t.setAttribute("aria-current", "true");
          else t.removeAttribute("aria-current");
        });
      }, { passive: true });
    });
  }

  // Delegated handlers work for content htmx swaps in later.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dismiss]");
    if (close) {
      dismiss(close.closest(".message"));
      return;
    }

    var step = event.target.closest("[data-qty] [data-step]");
    if (step) {
      var input = step.closest("[data-qty]").querySelector("input[type=number]");
      if (!input) return;
      var min = input.min === "" ? 0 : parseInt(input.min, 10);
      var max = input.max === "" ? 99 : parseInt(input.max, 10);
      var next = (parseInt(input.value, 10) || 0) + parseInt(step.dataset.step, 10);
      next = Math.max(min, Math.min(max, next));
      if (String(next) !== input.value) {
        input.value = next;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }

    var fill = event.target.closest("[data-fill-address]");
    if (fill) {
      var form = fill.closest("form");
      ["full_name", "line1", "line2", "city", "postal_code", "country", "phone"].forEach(function (name) {
        var field = form && form.elements.namedItem(name);
        if (field) field.value = fill.dataset[name] || "";
      });
      var first = form && form.elements.namedItem("full_name");
      if (first) first.focus();
    }
  });

  // A checkout button that can't be double-submitted (the server is idempotent anyway).
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-submit-once]");
    if (!button) return;
    if (button.dataset.submitting) {
      event.preventDefault();
      return;
    }
    button.dataset.submitting = "1";
    button.setAttribute("aria-disabled", "true");
    button.lastChild.textContent = " Placing order…";
  });

  // Bump the cart badge whenever htmx replaces it.
  document.addEventListener("htmx:afterSwap", function () {
    var badge = document.getElementById("cart-badge");
    if (badge) {
      badge.classList.remove("bump");
      void badge.offsetWidth;
      badge.classList.add("bump");
    }
  });

  document.addEventListener("htmx:load", function (event) {
    scheduleAutohide(event.target);
    localizeTimes(event.target);
  });

  document.addEventListener("htmx:oobAfterSwap", function () {
    scheduleAutohide(document.getElementById("messages"));
  });

  // A network failure on an htmx request falls back to a full page submit/visit.
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest("form"));
    if (form) {
      form.removeAttribute("hx-post");
      form.submit();
    }
  });

  // <time data-countdown="ISO"> ticks down as m:ss; at zero it says the hold has lapsed.
  function setupCountdowns(root) {
    var nodes = Array.prototype.slice.call(root.querySelectorAll("[data-countdown]"));
    if (!nodes.length) return;
    function tick() {
      var now = Date.now();
      nodes.forEach(function (node) {
        var left = Math.max(0, Math.round((Date.parse(node.getAttribute("data-countdown")) - now) / 1000));
        node.textContent = left > 0
          ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0")
          : "0:00 (the hold has lapsed)";
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  function init() {
    setupCountdowns(document);
    scheduleAutohide(document);
    localizeTimes(document);
    setupVariants(document);
    setupGallery(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.Livemarket = { dismiss: dismiss, localizeTimes: localizeTimes, setupCountdowns: setupCountdowns };
})();
