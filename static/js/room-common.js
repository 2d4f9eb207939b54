/* Pieces shared by the show page (show-room.js) and the host console (host-console.js): DOM helpers,
 * countdowns, toasts, the connection label, chat rendering with replay catch-up, and the room socket
 * with reconnect backoff. Loaded before either page script; exposes window.LivemarketRoom.
 *
 * User text is only ever inserted with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var STATUS_LABELS = { live: "Live", scheduled: "Upcoming", ended: "Ended", cancelled: "Cancelled" };
  // Event types the server replays on (re)connect; anything else ends the replay.
  var STATE_TYPES = { status: true, pinned: true, viewers: true, chat: true };
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

  // "49" -> "49.00", "12.5" -> "12.50": the same two decimals the server renders.
  function money(amount) {
    var text = String(amount);
    var match = /^(-?\d+)(?:\.(\d*))?$/.exec(text);
    if (!match) return text;
    return match[1] + "." + ((match[2] || "") + "00").slice(0, 2);
  }

  // 75 -> "1:15", 3725 -> "1:02:05"
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = String(seconds % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  // 75 -> "1:15", 3725 -> "62:05" (minutes never roll over into hours)
  function minuteClock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  // --- countdowns --------------------------------------------------------------------------
  // Every [data-ends-at] inside `scope` ticks once a second. Returns the tick, to run it at once.
  // options: format(seconds) -> text (default clock), urgent: mark the last 10 seconds with is-urgent.
  function startCountdowns(scope, options) {
    options = options || {};
    var format = options.format || clock;
    function tick() {
      var now = Date.now();
      scope.querySelectorAll("[data-ends-at]").forEach(function (node) {
        var end = Date.parse(node.dataset.endsAt);
        if (isNaN(end)) return;
        var left = Math.max(0, Math.round((end - now) / 1000));
        node.textContent = left > 0 ? format(left) : (node.dataset.doneText || "0:00");
        if (options.urgent) node.classList.toggle("is-urgent", left > 0 && left <= 10);
      });
    }
    setInterval(tick, 1000);
    return tick;
  }

  function countdown(iso, doneText) {
    var node = el("time", "countdown");
    node.dataset.endsAt = iso;
    node.dateTime = iso;
    if (doneText) node.dataset.doneText = doneText;
    return node;
  }

  // --- toasts, connection, status ------------------------------------------------------------
  // options: className (the info variant adds className + "--info"), max, timeout(kind) -> ms.
  function toaster(container, options) {
    return function toast(message, kind) {
      if (!container) return;
      var cls = options.className + (kind === "info" ? " " + options.className + "--info" : "");
      var node = el("div", cls, message);
      container.appendChild(node);
      while (container.children.length > options.max) container.firstChild.remove();
      setTimeout(function () { node.remove(); }, options.timeout(kind));
    };
  }

  function setConn(root, label, state) {
    root.dataset.conn = state;
    if (!label) return;
    label.textContent = state === "connecting" ? "Connecting…"
      : state === "reconnecting" ? "Reconnecting…"
      : state === "offline" ? "Offline: retrying…" : "";
  }

  function renderStatusBadge(badge, status) {
    if (!badge) return;
    var cls = status === "live" ? "badge badge-live"
      : status === "scheduled" ? "badge badge-scheduled" : "badge badge-" + status;
    badge.replaceChildren(el("span", cls, STATUS_LABELS[status]));
  }

  // --- chat ------------------------------------------------------------------------------
  function modButtons(userId, selfId) {
    var wrap = el("span", "chat__mod");
    function button(op, label, title) {
      var b = el("button", "chat__mod-btn" + (op === "ban" ? " chat__mod-btn--danger" : ""), label);
      b.type = "button";
      b.dataset.mod = op;
      b.title = title;
      wrap.appendChild(b);
    }
    button("delete", "Delete", "Delete this message");
    // Mute and ban need the author's id; never offered on your own messages.
    if (userId !== null && userId !== selfId) {
      button("mute", "Mute", "Mute them in this show");
      button("ban", "Ban", "Ban them from the shop's shows");
    }
    return wrap;
  }

  // The chat list: messages deduplicated by id and kept in id order. On every (re)connect the server
  // replays the last messages; what we show inside the replayed id range but wasn't sent was deleted.
  // options: list, max, canModerate, selfId, tagAuthors (put data-user-id on each message).
  function chat(options) {
    var list = options.list;
    var seenIds = new Set();
    var replay = null;

    function isNearBottom() {
      return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    }

    function scrollToBottom() {
      list.scrollTop = list.scrollHeight;
    }

    function add(msg) {
      if (!list) return;
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
      var stick = isNearBottom();
      var item = el("li", "chat__msg chat__msg--new");
      if (id !== null) item.dataset.messageId = id;
      var authorId = toInt(msg.user_id);
      if (options.tagAuthors && authorId !== null) item.dataset.userId = authorId;
      item.appendChild(el("span", "chat__user", msg.user || "Someone"));
      item.appendChild(el("span", "chat__text", msg.text || ""));
      if (msg.at) {
        var when = new Date(msg.at);
        if (!isNaN(when.getTime())) {
          var t = el("time", "chat__time", timeFormat ? timeFormat.format(when) : when.toLocaleTimeString());
          t.setAttribute("datetime", msg.at);
          item.appendChild(t);
        }
      }
      if (options.canModerate && id !== null) item.appendChild(modButtons(authorId, options.selfId));
      // Keep the list in id order: messages missed while offline slot in where they belong.
      var before = null;
      var node = list.lastElementChild;
      while (id !== null && node && toInt(node.dataset.messageId) > id) {
        before = node;
        node = node.previousElementSibling;
      }
      list.insertBefore(item, before);
      while (list.children.length > options.max) {
        var first = list.firstElementChild;
        seenIds.delete(toInt(first.dataset.messageId));
        first.remove();
      }
      if (stick) scrollToBottom();
    }

    function remove(ids) {
      if (!list) return;
      (ids || []).forEach(function (id) {
        var item = list.querySelector('[data-message-id="' + toInt(id) + '"]');
        if (item) item.remove();
      });
    }

    function finishReplay() {
      var done = replay;
      replay = null;
      if (!done || !done.ids.size || !list) return;
      Array.prototype.slice.call(list.children).forEach(function (item) {
        var id = toInt(item.dataset.messageId);
        if (id !== null && id >= done.min && id <= done.max && !done.ids.has(id)) item.remove();
      });
    }

    return {
      add: add,
      remove: remove,
      scrollToBottom: scrollToBottom,
      startReplay: function () { replay = { ids: new Set(), min: Infinity, max: -Infinity }; },
      cancelReplay: function () { replay = null; },
      // The replay ends with the first event that isn't part of it.
      noteEvent: function (type) { if (replay && !STATE_TYPES[type]) finishReplay(); },
      // Messages rendered by the server count as seen.
      seedFromPage: function () {
        if (!list) return;
        list.querySelectorAll("[data-message-id]").forEach(function (item) {
          seenIds.add(toInt(item.dataset.messageId));
        });
        scrollToBottom();
      },
    };
  }

  // A click on a chat moderation button: confirm mute/ban, then send. Returns whether it was one.
  function moderateClick(target, send) {
    var mod = target.closest("[data-mod]");
    if (!mod) return false;
    var item = mod.closest("[data-message-id]");
    if (!item) return true;
    var op = mod.dataset.mod;
    var who = (item.querySelector(".chat__user") || {}).textContent || "this viewer";
    if (op === "delete") {
      send({ action: "moderate", op: "delete", message_id: toInt(item.dataset.messageId) });
    } else if (op === "mute" || op === "ban") {
      var question = op === "ban"
        ? "Ban " + who + " from all of this shop's shows? Their messages here will be hidden."
        : "Mute " + who + " for the rest of this show?";
      if (!window.confirm(question)) return true;
      send({ action: "moderate", op: op, user_id: toInt(item.dataset.userId) });
    }
    return true;
  }

  // The events of a {"type": "batch", "events": [...]} frame (never nested batches).
  function batchEvents(data) {
    return (Array.isArray(data.events) ? data.events : []).filter(function (event) {
      return event && event.type !== "batch";
    });
  }

  // --- socket ------------------------------------------------------------------------------
  // The room websocket with reconnects (exponential backoff with jitter: ~1s, 2s, 4s … capped at 20s).
  // options: path, setConn(state), toast(message), goneMessage (shown on close code 4404),
  // onOpen(), onClose(), onMessage(data).
  function roomSocket(options) {
    var socket = null;
    var attempts = 0;
    var reconnectTimer = null;
    var closedByPage = false;

    function connect() {
      clearTimeout(reconnectTimer);
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var ws;
      try {
        ws = new WebSocket(scheme + location.host + options.path);
      } catch (e) {
        scheduleReconnect();
        return;
      }
      socket = ws;
      ws.addEventListener("open", function () {
        attempts = 0;
        options.setConn("open");
        options.onOpen();
      });
      ws.addEventListener("message", function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        options.onMessage(data);
        // Other page modules (auction.js) listen for room events without owning the socket.
        (data.type === "batch" ? batchEvents(data) : [data]).forEach(function (item) {
          document.dispatchEvent(new CustomEvent("livemarket:room-event", { detail: item }));
        });
      });
      ws.addEventListener("close", function (event) {
        if (socket !== ws) return;
        socket = null;
        options.onClose();
        if (closedByPage) return;
        if (event.code === 4404) {
          options.setConn("offline");
          options.toast(options.goneMessage);
          return;
        }
        scheduleReconnect();
      });
      ws.addEventListener("error", function () { /* a close event follows */ });
    }

    function scheduleReconnect() {
      attempts += 1;
      options.setConn(navigator.onLine === false ? "offline" : "reconnecting");
      var delay = Math.min(20000, 1000 * Math.pow(2, Math.min(attempts - 1, 5)));
      delay = delay / 2 + Math.random() * delay / 2;
      reconnectTimer = setTimeout(connect, delay);
    }

    function send(payload) {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        options.toast("Not connected yet: trying again…");
        return false;
      }
      socket.send(JSON.stringify(payload));
      return true;
    }

    window.addEventListener("online", function () {
      if (!socket) connect();
    });
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

    // Connects now, or shows "offline" where the browser has no WebSocket.
    function start() {
      if ("WebSocket" in window) connect();
      else options.setConn("offline");
    }

    if (window.LivemarketRoom) window.LivemarketRoom.send = send;
    return { start: start, send: send };
  }

  window.LivemarketRoom = {
    STATUS_LABELS: STATUS_LABELS,
    el: el,
    toInt: toInt,
    money: money,
    clock: clock,
    minuteClock: minuteClock,
    startCountdowns: startCountdowns,
    countdown: countdown,
    toaster: toaster,
    setConn: setConn,
    renderStatusBadge: renderStatusBadge,
    chat: chat,
    moderateClick: moderateClick,
    batchEvents: batchEvents,
    roomSocket: roomSocket,
  };
})();
