/* The host console: the same room socket as the show page (/ws/shows/<id>/), seen from backstage.
 *
 * Sends (see shared/CONTRACT.md): go_live, end, pin {product_id|null}, moderate {op, message_id|user_id},
 * deal_start {variant_id, price, units, per_buyer_limit, duration_seconds}, deal_end,
 * giveaway_start {variant_id, duration_seconds, followers_only}, giveaway_draw {giveaway_id}.
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
  var STATUS_LABELS = { live: "Live", scheduled: "Upcoming", ended: "Ended", cancelled: "Cancelled" };
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
    dealForm: root.querySelector("[data-deal-form]"),
    dealState: root.querySelector("[data-deal-state]"),
    dealEnd: root.querySelector("[data-deal-end]"),
    giveawayForm: root.querySelector("[data-giveaway-form]"),
    giveawayState: root.querySelector("[data-giveaway-state]"),
    giveawayDraw: root.querySelector("[data-giveaway-draw]"),
  };

  var socket = null;
  var attempts = 0;
  var reconnectTimer = null;
  var closedByPage = false;
  var seenIds = new Set();
  var replay = null;
  var giveaway = null;
  var timeFormat = (window.Intl && Intl.DateTimeFormat)
    ? new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" })
    : null;

  // --- helpers ---------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function toInt(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? null : n;
  }

  function money(amount) {
    var text = String(amount);
    var match = /^(-?\d+)(?:\.(\d*))?$/.exec(text);
    if (!match) return text;
    return match[1] + "." + ((match[2] || "") + "00").slice(0, 2);
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  function toast(message, kind) {
    if (!els.toasts) return;
    var node = el("div", "console-toast" + (kind === "info" ? " console-toast--info" : ""), message);
    els.toasts.appendChild(node);
    while (els.toasts.children.length > 4) els.toasts.firstChild.remove();
    setTimeout(function () { node.remove(); }, kind === "info" ? 4000 : 7000);
  }

  function setConn(state) {
    root.dataset.conn = state;
    if (!els.connLabel) return;
    els.connLabel.textContent = state === "connecting" ? "Connecting…"
      : state === "reconnecting" ? "Reconnecting…"
      : state === "offline" ? "Offline: retrying…" : "";
  }

  function tickCountdowns() {
    var now = Date.now();
    root.querySelectorAll("[data-ends-at]").forEach(function (node) {
      var end = Date.parse(node.dataset.endsAt);
      if (isNaN(end)) return;
      var left = Math.max(0, Math.round((end - now) / 1000));
      node.textContent = left > 0 ? clock(left) : (node.dataset.doneText || "0:00");
    });
  }
  setInterval(tickCountdowns, 1000);

  function countdown(iso, doneText) {
    var node = el("time", "countdown");
    node.dataset.endsAt = iso;
    node.dateTime = iso;
    if (doneText) node.dataset.doneText = doneText;
    return node;
  }

  function row(label, valueNode) {
    var wrap = el("div", "console-live-box__row");
    wrap.appendChild(el("span", "console-live-box__label", label));
    if (typeof valueNode === "string") valueNode = el("strong", null, valueNode);
    wrap.appendChild(valueNode);
    return wrap;
  }

  // --- status and viewers ----------------------------------------------------------------
  function setStatus(status) {
    if (!STATUS_LABELS[status]) return;
    root.dataset.status = status;
    if (els.statusBadge) {
      var cls = status === "live" ? "badge badge-live"
        : status === "scheduled" ? "badge badge-scheduled" : "badge badge-" + status;
      els.statusBadge.replaceChildren(el("span", cls, STATUS_LABELS[status]));
    }
    if (els.statusText) els.statusText.textContent = STATUS_TEXT[status];
  }

  function setViewers(count) {
    if (els.viewers) els.viewers.textContent = String(Math.max(0, parseInt(count, 10) || 0));
  }

  function setPinned(product) {
    var id = product && product.id !== undefined ? product.id : null;
    root.dataset.pinnedId = id === null ? "" : String(id);
    root.querySelectorAll("[data-lineup-item]").forEach(function (item) {
      item.classList.toggle("is-pinned", id !== null && item.dataset.lineupItem === String(id));
    });
  }

  // --- chat and moderation ---------------------------------------------------------------
  function modButtons(userId) {
    var wrap = el("span", "chat__mod");
    function button(op, label, title) {
      var b = el("button", "chat__mod-btn" + (op === "ban" ? " chat__mod-btn--danger" : ""), label);
      b.type = "button";
      b.dataset.mod = op;
      b.title = title;
      wrap.appendChild(b);
    }
    button("delete", "Delete", "Delete this message");
    if (userId !== null && userId !== cfg.userId) {
      button("mute", "Mute", "Mute them in this show");
      button("ban", "Ban", "Ban them from the shop's shows");
    }
    return wrap;
  }

  function addChat(msg) {
    if (!els.chatList) return;
    var id = toInt(msg.id);
    if (id !== null) {
      if (replay) {
        replay.ids.add(id);
        replay.min = Math.min(replay.min, id);
        replay.max = Math.max(replay.max, id);
      }
      if (seenIds.has(id)) return;
      seenIds.add(id);
    }
    var list = els.chatList;
    var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    var item = el("li", "chat__msg chat__msg--new");
    if (id !== null) item.dataset.messageId = id;
    var authorId = toInt(msg.user_id);
    if (authorId !== null) item.dataset.userId = authorId;
    item.appendChild(el("span", "chat__user", msg.user || "Someone"));
    item.appendChild(el("span", "chat__text", msg.text || ""));
    var when = msg.at ? new Date(msg.at) : null;
    if (when && !isNaN(when.getTime())) {
      var t = el("time", "chat__time", timeFormat ? timeFormat.format(when) : when.toLocaleTimeString());
      t.setAttribute("datetime", msg.at);
      item.appendChild(t);
    }
    if (cfg.canModerate && id !== null) item.appendChild(modButtons(authorId));
    var before = null;
    var node = list.lastElementChild;
    while (id !== null && node && toInt(node.dataset.messageId) > id) {
      before = node;
      node = node.previousElementSibling;
    }
    list.insertBefore(item, before);
    while (list.children.length > MAX_CHAT) {
      seenIds.delete(toInt(list.firstElementChild.dataset.messageId));
      list.firstElementChild.remove();
    }
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function removeMessages(ids) {
    if (!els.chatList) return;
    (ids || []).forEach(function (id) {
      var item = els.chatList.querySelector('[data-message-id="' + toInt(id) + '"]');
      if (item) item.remove();
    });
  }

  function finishReplay() {
    var done = replay;
    replay = null;
    if (!done || !done.ids.size || !els.chatList) return;
    Array.prototype.slice.call(els.chatList.children).forEach(function (item) {
      var id = toInt(item.dataset.messageId);
      if (id !== null && id >= done.min && id <= done.max && !done.ids.has(id)) item.remove();
    });
  }

  function moderation(data) {
    if (data.op === "delete") {
      removeMessages([data.message_id]);
    } else if (data.op === "ban") {
      removeMessages(data.message_ids);
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
  function send(payload) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      toast("Not connected yet: trying again…");
      return false;
    }
    socket.send(JSON.stringify(payload));
    return true;
  }

  function handle(data) {
    if (!data || typeof data !== "object") return;
    if (replay && !{ status: 1, pinned: 1, viewers: 1, chat: 1 }[data.type]) finishReplay();
    switch (data.type) {
      case "batch":
        (Array.isArray(data.events) ? data.events : []).forEach(function (event) {
          if (event && event.type !== "batch") handle(event);
        });
        break;
      case "status": setStatus(data.status); break;
      case "viewers": setViewers(data.count); break;
      case "pinned": setPinned(data.product); break;
      case "chat": addChat(data); break;
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

  function connect() {
    clearTimeout(reconnectTimer);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + location.host + cfg.wsPath);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener("open", function () {
      attempts = 0;
      setConn("open");
      replay = { ids: new Set(), min: Infinity, max: -Infinity };
    });
    ws.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) return;
      socket = null;
      replay = null;
      if (closedByPage) return;
      if (event.code === 4404) {
        setConn("offline");
        toast("This show no longer exists.");
        return;
      }
      scheduleReconnect();
    });
    ws.addEventListener("error", function () { /* a close event follows */ });
  }

  function scheduleReconnect() {
    attempts += 1;
    setConn(navigator.onLine === false ? "offline" : "reconnecting");
    var delay = Math.min(20000, 1000 * Math.pow(2, Math.min(attempts - 1, 5)));
    delay = delay / 2 + Math.random() * delay / 2;
    reconnectTimer = setTimeout(connect, delay);
  }

  window.addEventListener("online", function () { if (!socket) connect(); });
  window.addEventListener("pagehide", function () {
    closedByPage = true;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      closedByPage = false;
      connect();
    }
  });

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
    var mod = event.target.closest("[data-mod]");
    if (mod && cfg.canModerate) {
      var item = mod.closest("[data-message-id]");
      if (!item) return;
      var op = mod.dataset.mod;
      var who = (item.querySelector(".chat__user") || {}).textContent || "this viewer";
      if (op === "delete") {
        send({ action: "moderate", op: "delete", message_id: toInt(item.dataset.messageId) });
      } else if (op === "mute" || op === "ban") {
        var question = op === "ban"
          ? "Ban " + who + " from all of this shop's shows? Their messages here will be hidden."
          : "Mute " + who + " for the rest of this show?";
        if (!window.confirm(question)) return;
        send({ action: "moderate", op: op, user_id: toInt(item.dataset.userId) });
      }
    }
  });

  // --- start -------------------------------------------------------------------------------
  if (els.chatList) {
    els.chatList.querySelectorAll("[data-message-id]").forEach(function (item) {
      seenIds.add(toInt(item.dataset.messageId));
    });
    els.chatList.scrollTop = els.chatList.scrollHeight;
  }
  if ("WebSocket" in window) connect();
  else setConn("offline");
})();
