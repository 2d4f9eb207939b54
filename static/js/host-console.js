/* The host console: the same room socket as the show page (/ws/shows/<id>/), seen from backstage.
 *
 * Sends (see shared/CONTRACT.md): go_live, end, pin {product_id|null}, moderate {op, message_id|user_id},
 * deal_start {variant_id, price, units, per_buyer_limit, duration_seconds}, deal_end,
 * giveaway_start {variant_id, duration_seconds, followers_only}, giveaway_draw {giveaway_id}, chat {text}.
 * Ids and counts go out as JSON numbers, the price as a "12.00" string. Every action is checked on
 * the server again; its `error` answers show as toasts.
 *
 * User text is only ever inserted with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-host-console]");
  if (!root) return;

  var cfg = {
    wsPath: root.dataset.wsPath,
    canHost: root.dataset.canHost === "true",
    canModerate: root.dataset.canModerate === "true",
    userId: parseInt(root.dataset.userId, 10) || null,
  };
  var R = window.LivemarketRoom;
  var el = R.el;
  var toInt = R.toInt;
  var money = R.money;
  var countdown = R.countdown;
  var STATUS_TEXT = {
    live: "You’re live.",
    scheduled: "Not live yet.",
    ended: "This show is over.",
    cancelled: "This show was cancelled.",
  };
  var MAX_CHAT = 300;

  var els = {
    statusBadge: root.querySelector("[data-status-badge]"),
    statusText: root.querySelector("[data-status-text]"),
    viewers: root.querySelector("[data-viewers]"),
    connLabel: root.querySelector("[data-conn-label]"),
    toasts: root.querySelector("[data-toasts]"),
    chatList: root.querySelector("[data-chat-list]"),
    chatForm: root.querySelector("[data-chat-form]"),
    dealForm: root.querySelector("[data-deal-form]"),
    dealState: root.querySelector("[data-deal-state]"),
    dealEnd: root.querySelector("[data-deal-end]"),
    giveawayForm: root.querySelector("[data-giveaway-form]"),
    giveawayState: root.querySelector("[data-giveaway-state]"),
    giveawayDraw: root.querySelector("[data-giveaway-draw]"),
  };

  var giveaway = null;

  // --- helpers ---------------------------------------------------------------------------
  var toast = R.toaster(els.toasts, {
    className: "console-toast",
    max: 4,
    timeout: function (kind) { return kind === "info" ? 4000 : 7000; },
  });

  function setConn(state) {
    R.setConn(root, els.connLabel, state);
  }

  var tickCountdowns = R.startCountdowns(root, { format: R.minuteClock });

  function row(label, valueNode) {
    var wrap = el("div", "console-live-box__row");
    wrap.appendChild(el("span", "console-live-box__label", label));
    if (typeof valueNode === "string") valueNode = el("strong", null, valueNode);
    wrap.appendChild(valueNode);
    return wrap;
  }

  // --- status and viewers ----------------------------------------------------------------
  function setStatus(status) {
    if (!R.STATUS_LABELS[status]) return;
    root.dataset.status = status;
    R.renderStatusBadge(els.statusBadge, status);
    if (els.statusText) els.statusText.textContent = STATUS_TEXT[status];
  }

  function setViewers(count) {
    if (els.viewers) els.viewers.textContent = String(Math.max(0, parseInt(count, 10) || 0));
  }

  // Sent to the show's team only after an order of this show is paid (the room never carries it).
  function setSales(data) {
    var fields = { "[data-sales-orders]": data.orders, "[data-sales-units]": data.units, "[data-sales-total]": data.sales };
    Object.keys(fields).forEach(function (selector) {
      var el = root.querySelector(selector);
      if (el && fields[selector] !== undefined) el.textContent = String(fields[selector]);
    });
  }

  function setPinned(product) {
    var id = product && product.id !== undefined ? product.id : null;
    root.dataset.pinnedId = id === null ? "" : String(id);
    root.querySelectorAll("[data-lineup-item]").forEach(function (item) {
      item.classList.toggle("is-pinned", id !== null && item.dataset.lineupItem === String(id));
    });
  }

  // --- chat and moderation ---------------------------------------------------------------
  var chat = R.chat({
    list: els.chatList,
    max: MAX_CHAT,
    canModerate: cfg.canModerate,
    selfId: cfg.userId,
    tagAuthors: true,
  });

  function moderation(data) {
    if (data.op === "delete") {
      chat.remove([data.message_id]);
    } else if (data.op === "ban") {
      chat.remove(data.message_ids);
      if (data.user) toast(data.user + " is banned from the shop's shows.", "info");
    } else if (data.op === "mute") {
      if (data.user) toast(data.user + " is muted in this show.", "info");
    }
  }

  // --- deal and giveaway state -------------------------------------------------------------
  function renderDeal(deal) {
    var box = els.dealState;
    if (els.dealEnd) els.dealEnd.hidden = !deal;
    if (!box) return;
    if (!deal) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var title = el("p", "console-live-box__title", "⚡ " + deal.title);
    var price = el("strong", null, money(deal.price) + " " + (deal.currency || ""));
    box.replaceChildren(
      title,
      row("Deal price", price),
      row("Units left", Math.max(0, parseInt(deal.units_left, 10) || 0) + " of " + deal.units_total),
      row("Per buyer", String(deal.per_buyer_limit)),
      row("Ends in", countdown(deal.ends_at, "ending…"))
    );
    box.hidden = false;
    tickCountdowns();
  }

  function renderGiveaway(g) {
    giveaway = g && g.id ? g : null;
    var box = els.giveawayState;
    var open = giveaway && giveaway.status === "open";
    if (els.giveawayDraw) els.giveawayDraw.hidden = !open;
    if (!box) return;
    if (!giveaway) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var children = [el("p", "console-live-box__title", "🎁 " + giveaway.title)];
    if (open) {
      children.push(row("Entries", String(parseInt(giveaway.entries, 10) || 0)));
      children.push(row("Closes in", countdown(giveaway.closes_at, "drawing…")));
      if (giveaway.followers_only) children.push(row("Who", "Followers only"));
    } else if (giveaway.status === "drawn") {
      children.push(row("Winner", giveaway.winner || "Someone"));
      children.push(row("Entries", String(parseInt(giveaway.entries, 10) || 0)));
    } else {
      children.push(el("p", "muted small", "Closed without a winner (no eligible entries or no stock)."));
    }
    box.replaceChildren.apply(box, children);
    box.hidden = false;
    tickCountdowns();
  }

  // --- socket ------------------------------------------------------------------------------
  var conn = R.roomSocket({
    path: cfg.wsPath,
    setConn: setConn,
    toast: function (message) { toast(message); },
    goneMessage: "This show no longer exists.",
    onOpen: function () { chat.startReplay(); },
    onClose: function () { chat.cancelReplay(); },
    onMessage: function (data) { handle(data); },
  });
  var send = conn.send;

  function handle(data) {
    if (!data || typeof data !== "object") return;
    chat.noteEvent(data.type);
    switch (data.type) {
      case "batch":
        R.batchEvents(data).forEach(handle);
        break;
      case "status": setStatus(data.status); break;
      case "viewers": setViewers(data.count); break;
      case "sales": setSales(data); break;
      case "pinned": setPinned(data.product); break;
      case "chat": chat.add(data); break;
      case "moderation": moderation(data); break;
      case "deal": renderDeal(data.deal); break;
      case "giveaway":
        var before = giveaway;
        renderGiveaway(data.giveaway);
        if (before && data.giveaway && before.id === data.giveaway.id && before.status === "open") {
          if (data.giveaway.status === "drawn") toast("🎉 " + (data.giveaway.winner || "Someone") + " won the giveaway.", "info");
          else if (data.giveaway.status === "cancelled") toast("The giveaway closed without a winner.", "info");
        }
        break;
      case "error": toast(data.message || "Something went wrong."); break;
      default: break; // reaction, stock, bid, lot: not shown here
    }
  }

  // --- forms -------------------------------------------------------------------------------
  function intField(form, name) {
    return toInt(form.elements.namedItem(name).value);
  }

  if (els.dealForm) {
    var variantSelect = els.dealForm.elements.namedItem("variant_id");
    var priceInput = els.dealForm.elements.namedItem("price");
    // Suggest 20% off the variant's price; the host types the real one.
    var suggest = function () {
      var option = variantSelect.selectedOptions[0];
      var base = option ? parseFloat(option.dataset.price) : NaN;
      if (!isNaN(base)) priceInput.placeholder = (Math.round(base * 80) / 100).toFixed(2);
    };
    variantSelect.addEventListener("change", suggest);
    suggest();
    els.dealForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var form = els.dealForm;
      if (!priceInput.value && priceInput.placeholder) priceInput.value = priceInput.placeholder;
      if (!form.reportValidity()) return;
      send({
        action: "deal_start",
        variant_id: intField(form, "variant_id"),
        price: money(Number(priceInput.value).toFixed(2)),
        units: intField(form, "units"),
        per_buyer_limit: intField(form, "per_buyer_limit"),
        duration_seconds: intField(form, "duration_seconds"),
      });
    });
  }

  // The host talks to the room from here too, under their own name.
  if (els.chatForm) {
    els.chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = els.chatForm.elements.namedItem("text");
      var text = (input.value || "").trim();
      if (text && send({ action: "chat", text: text.slice(0, 500) })) {
        input.value = "";
        chat.scrollToBottom();
      }
      input.focus();
    });
  }

  if (els.giveawayForm) {
    els.giveawayForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var form = els.giveawayForm;
      if (!form.reportValidity()) return;
      send({
        action: "giveaway_start",
        variant_id: intField(form, "variant_id"),
        duration_seconds: intField(form, "duration_seconds"),
        followers_only: form.elements.namedItem("followers_only").checked,
      });
    });
  }

  // --- buttons -----------------------------------------------------------------------------
  root.addEventListener("click", function (event) {
    var host = event.target.closest("[data-host]");
    if (host && cfg.canHost) {
      var action = host.dataset.host;
      if (action === "end" && !window.confirm("End the show for everyone?")) return;
      send({ action: action });
      return;
    }
    var pin = event.target.closest("[data-pin]");
    if (pin) {
      send({ action: "pin", product_id: pin.dataset.pin ? toInt(pin.dataset.pin) : null });
      return;
    }
    if (event.target.closest("[data-deal-end]")) {
      send({ action: "deal_end" });
      return;
    }
    if (event.target.closest("[data-giveaway-draw]")) {
      if (giveaway) send({ action: "giveaway_draw", giveaway_id: giveaway.id });
      return;
    }
    var reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      var secret = document.getElementById(reveal.dataset.reveal);
      var show = secret.type === "password";
      secret.type = show ? "text" : "password";
      reveal.textContent = show ? "Hide" : "Reveal";
      reveal.setAttribute("aria-pressed", show ? "true" : "false");
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.dataset.copy);
      var done = function () { toast("Copied.", "info"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { toast("Copy failed: select and copy by hand."); });
      } else {
        var type = field.type;
        field.type = "text";
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { toast("Copy failed: select and copy by hand."); }
        field.type = type;
      }
      return;
    }
    if (cfg.canModerate) R.moderateClick(event.target, send);
  });

  // --- start -------------------------------------------------------------------------------
  chat.seedFromPage();
  conn.start();
})();
