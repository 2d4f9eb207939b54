/* The live show room: websocket chat, reactions, viewers, status and the pinned product.
 *
 * Server -> client: {"type": "status"|"pinned"|"viewers"|"chat"|"reaction"|"error", ...}
 * Client -> server: {"action": "chat"|"react"|"go_live"|"end"|"pin", ...}
 * (see shared/CONTRACT.md). On every (re)connect the server replays the current state and the
 * last 50 chat messages, so the list is cleared when the socket opens and deduplicated by id.
 *
 * User text is only ever inserted with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var room = document.querySelector("[data-show-room]");
  if (!room) return;

  var cfg = {
    showId: room.dataset.showId,
    wsPath: room.dataset.wsPath,
    isHost: room.dataset.isHost === "true",
    loggedIn: room.dataset.loggedIn === "true",
    loginUrl: room.dataset.loginUrl,
    buyUrl: room.dataset.buyUrl,
    waitlistUrl: room.dataset.waitlistUrl,
    next: room.dataset.next,
  };

  var REACTIONS = { heart: "❤️", fire: "🔥", clap: "👏", wow: "😮", laugh: "😂" };
  var STATUS_LABELS = { live: "Live", scheduled: "Upcoming", ended: "Ended", cancelled: "Cancelled" };
  var MAX_CHAT = 200;
  var MAX_FLOATERS = 24;

  var els = {
    chatList: room.querySelector("[data-chat-list]"),
    chatForm: room.querySelector("[data-chat-form]"),
    statusBadge: room.querySelector("[data-status-badge]"),
    viewers: room.querySelector("[data-viewers]"),
    viewersWrap: room.querySelector("[data-viewers-wrap]"),
    connLabel: room.querySelector("[data-conn-label]"),
    reactionLayer: room.querySelector("[data-reaction-layer]"),
    toasts: room.querySelector("[data-toasts]"),
    pinned: room.querySelector("[data-pinned]"),
    video: room.querySelector("[data-player]"),
    problem: room.querySelector("[data-player-problem]"),
  };

  var seenIds = new Set();
  var socket = null;
  var attempts = 0;
  var reconnectTimer = null;
  var closedByPage = false;
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

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // "49" -> "49.00", "12.5" -> "12.50": the same two decimals the server renders.
  function money(amount) {
    var text = String(amount);
    var match = /^(-?\d+)(?:\.(\d*))?$/.exec(text);
    if (!match) return text;
    return match[1] + "." + ((match[2] || "") + "00").slice(0, 2);
  }

  function toast(message, kind) {
    if (!els.toasts) return;
    var node = el("div", "room-toast" + (kind === "info" ? " room-toast--info" : ""), message);
    els.toasts.appendChild(node);
    while (els.toasts.children.length > 3) els.toasts.firstChild.remove();
    setTimeout(function () { node.remove(); }, 4000);
  }

  function setConn(state) {
    room.dataset.conn = state;
    if (!els.connLabel) return;
    els.connLabel.textContent = state === "connecting" ? "Connecting…"
      : state === "reconnecting" ? "Reconnecting…"
      : state === "offline" ? "Offline: retrying…" : "";
  }

  // --- chat ------------------------------------------------------------------------------
  function isNearBottom() {
    var list = els.chatList;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  }

  function scrollToBottom() {
    els.chatList.scrollTop = els.chatList.scrollHeight;
  }

  function addChat(msg) {
    if (!els.chatList) return;
    if (msg.id !== undefined && msg.id !== null) {
      var key = String(msg.id);
      if (seenIds.has(key)) return;
      seenIds.add(key);
    }
    var stick = isNearBottom();
    var item = el("li", "chat__msg chat__msg--new");
    if (msg.id !== undefined) item.dataset.id = msg.id;
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
    els.chatList.appendChild(item);
    while (els.chatList.children.length > MAX_CHAT) {
      els.chatList.firstChild.remove();
    }
    if (stick) scrollToBottom();
  }

  function resetChat() {
    seenIds.clear();
    if (els.chatList) els.chatList.replaceChildren();
  }

  // --- status, viewers, video -------------------------------------------------------------
  function setStatus(status) {
    if (!STATUS_LABELS[status]) return;
    var previous = room.dataset.status;
    room.dataset.status = status;
    if (els.statusBadge) {
      var cls = status === "live" ? "badge badge-live"
        : status === "scheduled" ? "badge badge-scheduled" : "badge badge-" + status;
      els.statusBadge.replaceChildren(el("span", cls, STATUS_LABELS[status]));
    }
    if (previous && previous !== status) {
      if (status === "live") toast("The show is live!", "info");
      if (status === "ended") toast("The show has ended. Thanks for watching!", "info");
    }
    updateVideo(status);
  }

  function videoProblem(title, text) {
    var box = els.problem;
    if (!box) return;
    if (!title) {
      box.hidden = true;
      return;
    }
    box.querySelector("[data-problem-title]").textContent = title;
    box.querySelector("[data-problem-text]").textContent = text;
    box.hidden = false;
  }

  function updateVideo(status) {
    var video = els.video;
    if (!video) return;
    if (status !== "live") {
      video.hidden = true;
      videoProblem(null);
      if (!video.paused) video.pause();
      return;
    }
    var src = video.dataset.src;
    var isHls = /\.m3u8(\?|$)/i.test(src);
    if (isHls && !video.canPlayType("application/vnd.apple.mpegurl")) {
      // hls.js is not bundled yet: say so instead of showing a broken player.
      video.hidden = true;
      videoProblem("Video isn’t supported in this browser",
        "Try Safari or a phone to watch. Chat and shopping work right here.");
      return;
    }
    video.hidden = false;
    videoProblem(null);
    if (!video.getAttribute("src") || video.error) {
      video.src = src;
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay blocked: controls remain */ });
    }
  }

  if (els.video) {
    els.video.addEventListener("error", function () {
      if (room.dataset.status !== "live") return;
      els.video.hidden = true;
      videoProblem("The stream isn’t reachable right now",
        "We’ll keep trying. Chat and shopping still work right here.");
      setTimeout(function () { updateVideo(room.dataset.status); }, 15000);
    });
    els.video.addEventListener("playing", function () { videoProblem(null); });
  }

  function setViewers(count) {
    if (!els.viewers) return;
    var n = Math.max(0, parseInt(count, 10) || 0);
    els.viewers.textContent = n >= 1000 ? (n / 1000).toFixed(1).replace(/\.0$/, "") + "k" : String(n);
    if (els.viewersWrap) {
      els.viewersWrap.hidden = false;
      els.viewersWrap.title = n + " watching";
    }
  }

  // --- reactions ---------------------------------------------------------------------------
  function floatReaction(kind) {
    var layer = els.reactionLayer;
    if (!layer || !REACTIONS[kind]) return;
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    if (layer.childElementCount >= MAX_FLOATERS) layer.firstChild.remove();
    var node = el("span", "reaction-float", REACTIONS[kind]);
    var drift = function () { return Math.round(Math.random() * 50 - 25) + "px"; };
    node.style.setProperty("--dx1", drift());
    node.style.setProperty("--dx2", drift());
    node.style.setProperty("--rise", Math.round(220 + Math.random() * 200) + "px");
    node.style.animationDuration = (1.8 + Math.random() * 0.9).toFixed(2) + "s";
    node.addEventListener("animationend", function () { node.remove(); }, { once: true });
    layer.appendChild(node);
  }

  // --- pinned product -----------------------------------------------------------------------
  var lastPinned = null;

  // A `stock` event: units left changed (a sale, a hold, a release) on the pinned product.
  function updateStock(data) {
    if (!lastPinned || lastPinned.id !== data.product_id) return;
    var byId = {};
    (data.variants || []).forEach(function (v) { byId[v.id] = v.available; });
    lastPinned.available = data.available;
    (lastPinned.variants || []).forEach(function (v) {
      if (byId[v.id] !== undefined) v.available = byId[v.id];
    });
    renderPinned(lastPinned, { quiet: true });
  }

  function renderPinned(product, options) {
    lastPinned = product;
    var box = els.pinned;
    if (!box) return;
    markLineup(product ? product.id : null);
    if (!product) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var media = el("a", "pinned__media");
    media.href = product.url;
    media.tabIndex = -1;
    media.setAttribute("aria-hidden", "true");
    if (product.image) {
      var img = el("img");
      img.src = product.image;
      img.alt = "";
      img.width = 56;
      img.height = 56;
      media.appendChild(img);
    } else {
      media.appendChild(el("div", "placeholder-art", (product.title || "?").charAt(0)));
    }

    var info = el("div", "pinned__info");
    info.appendChild(el("span", "pinned__label", "Pinned"));
    var title = el("a", "pinned__title", product.title);
    title.href = product.url;
    info.appendChild(title);
    var meta = el("div", "pinned__meta");
    if (product.price !== null && product.price !== undefined) {
      var price = el("span", "price", money(product.price) + " ");
      price.appendChild(el("span", "price__currency", product.currency));
      meta.appendChild(price);
    }
    var available = parseInt(product.available, 10) || 0;
    if (available <= 0) meta.appendChild(el("span", "stock-note stock-note--out", "Sold out"));
    else if (available <= 10) meta.appendChild(el("span", "stock-note", available + " left"));
    info.appendChild(meta);

    var variants = Array.isArray(product.variants) ? product.variants : [];
    var inStock = variants.filter(function (v) { return v.available > 0; });
    var form = el("form", "pinned__form");
    form.method = "post";
    function hidden(name, value) {
      var input = el("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    hidden("csrfmiddlewaretoken", csrfToken());
    if (inStock.length) {
      // Buy now: a plain POST that holds the unit and lands on checkout.
      form.action = cfg.buyUrl;
      if (variants.length > 1) {
        var label = el("label", "visually-hidden", "Option");
        label.htmlFor = "pinned-variant";
        var select = el("select");
        select.id = "pinned-variant";
        select.name = "variant_id";
        variants.forEach(function (v) {
          var option = el("option", null, v.name + (v.available > 0 ? "" : " (sold out)"));
          option.value = v.id;
          option.disabled = !(v.available > 0);
          select.appendChild(option);
        });
        select.value = String(inStock[0].id);
        form.appendChild(label);
        form.appendChild(select);
        form.classList.add("pinned__form--options");
      } else {
        hidden("variant_id", inStock[0].id);
      }
      var buy = el("button", "btn btn-primary btn-sm", "Buy now");
      buy.type = "submit";
      form.appendChild(buy);
    } else if (variants.length) {
      form.action = cfg.waitlistUrl;
      form.setAttribute("hx-post", cfg.waitlistUrl);
      form.setAttribute("hx-swap", "none");
      hidden("variant_id", variants[0].id);
      var wait = el("button", "btn btn-secondary btn-sm", "Join waitlist");
      wait.type = "submit";
      form.appendChild(wait);
    }

    box.replaceChildren(media, info, form);
    box.hidden = false;
    if (!(options && options.quiet)) {
      // Restart the pop-in animation so a new pin is noticed.
      box.style.animation = "none";
      void box.offsetWidth;
      box.style.animation = "";
    }
    if (window.htmx) window.htmx.process(box);
  }

  function markLineup(productId) {
    document.querySelectorAll("[data-product-card]").forEach(function (card) {
      card.classList.toggle("is-pinned", productId !== null && card.dataset.productCard === String(productId));
    });
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
    switch (data.type) {
      case "chat": addChat(data); break;
      case "status": setStatus(data.status); break;
      case "pinned": renderPinned(data.product); break;
      case "viewers": setViewers(data.count); break;
      case "reaction": floatReaction(data.kind); break;
      case "error": toast(data.message || "Something went wrong."); break;
      case "stock": updateStock(data); break;
      case "waitlist": toast(data.message || "A unit is held for you: check out now."); break;
      default: break; // deal, bid, lot, moderation: not shown on this page yet
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
      // The server replays the last 50 messages: start from a clean list.
      resetChat();
    });
    ws.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) return;
      socket = null;
      if (closedByPage) return;
      if (event.code === 4404) {
        setConn("offline");
        toast("This show is no longer available.");
        return;
      }
      scheduleReconnect();
    });
    ws.addEventListener("error", function () { /* a close event follows */ });
  }

  function scheduleReconnect() {
    attempts += 1;
    setConn(navigator.onLine === false ? "offline" : "reconnecting");
    // Exponential backoff with jitter: ~1s, 2s, 4s … capped at 20s.
    var delay = Math.min(20000, 1000 * Math.pow(2, Math.min(attempts - 1, 5)));
    delay = delay / 2 + Math.random() * delay / 2;
    reconnectTimer = setTimeout(connect, delay);
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

  // --- UI events ---------------------------------------------------------------------------
  if (els.chatForm) {
    els.chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = els.chatForm.elements.namedItem("text");
      var text = (input.value || "").trim();
      if (!text) return;
      if (send({ action: "chat", text: text.slice(0, 500) })) {
        input.value = "";
        scrollToBottom();
      }
      input.focus();
    });
  }

  var lastReact = 0;
  room.addEventListener("click", function (event) {
    var react = event.target.closest("[data-react]");
    if (react) {
      if (!cfg.loggedIn) {
        toast("Log in to react.");
        return;
      }
      var now = Date.now();
      if (now - lastReact < 250) return;
      lastReact = now;
      send({ action: "react", kind: react.dataset.react });
      return;
    }
    var host = event.target.closest("[data-host]");
    if (host && cfg.isHost) {
      var action = host.dataset.host;
      if (action === "end" && !window.confirm("End the show for everyone?")) return;
      send({ action: action });
    }
  });

  // Pin buttons live in the lineup (outside the room element) and in the host controls.
  document.addEventListener("click", function (event) {
    var pin = event.target.closest("[data-pin]");
    if (!pin || !cfg.isHost) return;
    var id = pin.dataset.pin;
    if (send({ action: "pin", product_id: id ? parseInt(id, 10) : null }) && id) {
      window.scrollTo({ top: 0, behavior: "smooth" });
    }
  });

  // --- start -------------------------------------------------------------------------------
  if (els.chatList) {
    els.chatList.querySelectorAll("[data-id]").forEach(function (item) { seenIds.add(item.dataset.id); });
    scrollToBottom();
  }
  updateVideo(room.dataset.status);
  if ("WebSocket" in window) {
    connect();
  } else {
    setConn("offline");
  }
})();
