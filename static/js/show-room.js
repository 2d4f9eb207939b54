/* The live show room: websocket chat, reactions, viewers, status, the pinned product, flash deals,
 * giveaways, moderation, and the player (live stream, then the replay with product chapters).
 *
 * Server -> client: {"type": "status"|"pinned"|"viewers"|"chat"|"reaction"|"stock"|"deal"|"giveaway"|
 *   "giveaway_entered"|"moderation"|"waitlist"|"error", ...}, or {"type": "batch", "events": [...]}
 *   holding several of them (reactions then carry a `count`).
 * Client -> server: {"action": "chat"|"react"|"go_live"|"end"|"pin"|"giveaway_enter"|"moderate", ...}
 * (see shared/CONTRACT.md). On every (re)connect the server replays the current state and the last
 * 50 chat messages: messages are deduplicated by id, missed ones slot in by id, and ones deleted
 * while we were away disappear.
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
    canPin: room.dataset.canPin === "true",
    canModerate: room.dataset.canModerate === "true",
    userId: room.dataset.userId ? parseInt(room.dataset.userId, 10) : null,
    loggedIn: room.dataset.loggedIn === "true",
    loginUrl: room.dataset.loginUrl,
    buyUrl: room.dataset.buyUrl,
    waitlistUrl: room.dataset.waitlistUrl,
    oneTapCard: room.dataset.oneTapCard || "",
    next: room.dataset.next,
  };

  var R = window.LivemarketRoom;
  var el = R.el;
  var toInt = R.toInt;
  var money = R.money;
  var countdown = R.countdown;

  var REACTIONS = { heart: "❤️", fire: "🔥", clap: "👏", wow: "😮", laugh: "😂" };
  var MAX_CHAT = 200;
  var MAX_FLOATERS = 24;
  var MAX_BURST = 8;

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
    deal: room.querySelector("[data-deal]"),
    giveaway: room.querySelector("[data-giveaway]"),
    chapters: room.querySelector("[data-chapters]"),
    video: room.querySelector("[data-player]"),
    problem: room.querySelector("[data-player-problem]"),
  };

  // --- helpers ---------------------------------------------------------------------------
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  var toast = R.toaster(els.toasts, {
    className: "room-toast",
    max: 3,
    timeout: function () { return 4000; },
  });

  function setConn(state) {
    R.setConn(room, els.connLabel, state);
  }

  // Countdowns: every [data-ends-at] in the room ticks once a second.
  var tickCountdowns = R.startCountdowns(room, { format: R.clock, urgent: true });

  // --- chat ------------------------------------------------------------------------------
  var chat = R.chat({
    list: els.chatList,
    max: MAX_CHAT,
    canModerate: cfg.canModerate,
    selfId: cfg.userId,
    tagAuthors: cfg.canModerate,
  });

  function moderation(data) {
    var me = cfg.userId !== null && toInt(data.user_id) === cfg.userId;
    if (data.op === "delete") {
      chat.remove([data.message_id]);
    } else if (data.op === "ban") {
      chat.remove(data.message_ids);
      if (me) {
        toast("You can no longer take part in this shop's shows.");
        if (els.chatForm) els.chatForm.hidden = true;
      } else if (cfg.canModerate && data.user) {
        toast(data.user + " was banned.", "info");
      }
    } else if (data.op === "mute") {
      if (me) toast("You've been muted in this show. You can still watch and shop.");
      else if (cfg.canModerate && data.user) toast(data.user + " was muted.", "info");
    }
  }

  // --- status, viewers, video -------------------------------------------------------------
  function setStatus(status) {
    if (!R.STATUS_LABELS[status]) return;
    var previous = room.dataset.status;
    room.dataset.status = status;
    R.renderStatusBadge(els.statusBadge, status);
    if (previous && previous !== status) {
      if (status === "live") toast("The show is live!", "info");
      if (status === "ended") toast("The show has ended. Thanks for watching!", "info");
    }
    if (status !== "live") {
      renderDeal(null);
      offerProductPage();
    }
    updateVideo(status);
  }

  // Buying in the show ends with it (the server answers 409): the pinned card's buy and waitlist
  // forms give way to a link to the product page.
  function offerProductPage() {
    var box = els.pinned;
    if (!box) return;
    var form = box.querySelector(".pinned__form");
    var title = box.querySelector(".pinned__title");
    if (!form || !title) return;
    var link = el("a", "btn btn-secondary btn-sm pinned__shop-link", "View product");
    link.href = title.getAttribute("href");
    link.setAttribute("data-pinned-shop-link", "");
    form.replaceWith(link);
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

  var player = { mode: null, src: null, hls: null, pendingSeek: null, retry: null, netRetries: 0, recovered: false };
  var hlsLoading = null;

  // hls.js is only fetched for browsers without native HLS that can run it (Media Source Extensions).
  function loadHls(done) {
    if (window.Hls) return done(window.Hls);
    if (!hlsLoading) {
      hlsLoading = [];
      var script = document.createElement("script");
      script.src = els.video.dataset.hlsLib;
      script.async = true;
      script.onload = function () { hlsLoading.forEach(function (cb) { cb(window.Hls || null); }); };
      script.onerror = function () { hlsLoading.forEach(function (cb) { cb(null); }); };
      document.head.appendChild(script);
    }
    hlsLoading.push(done);
  }

  function wantedSource(status) {
    var video = els.video;
    if (status === "live" && video.dataset.liveSrc) return { mode: "live", src: video.dataset.liveSrc };
    if (status === "ended" && video.dataset.replaySrc) return { mode: "replay", src: video.dataset.replaySrc };
    return null;
  }

  function stopVideo() {
    var video = els.video;
    clearTimeout(player.retry);
    if (player.hls) {
      player.hls.destroy();
      player.hls = null;
    }
    if (!video.paused) video.pause();
    if (video.getAttribute("src")) {
      video.removeAttribute("src");
      video.load();
    }
    player.mode = null;
    player.src = null;
  }

  function streamFailed() {
    var video = els.video;
    var mode = player.mode;
    stopVideo();
    video.hidden = true;
    videoProblem(mode === "replay" ? "The replay isn’t reachable right now" : "The stream isn’t reachable right now",
      "We’ll keep trying. Chat and shopping still work right here.");
    player.retry = setTimeout(function () { updateVideo(room.dataset.status); }, 15000);
  }

  function startPlayback(want) {
    var video = els.video;
    if (want.mode === "live") {
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay blocked: controls remain */ });
    }
  }

  function updateVideo(status) {
    var video = els.video;
    if (!video) return;
    var want = wantedSource(status);
    room.dataset.replay = want && want.mode === "replay" ? "on" : "off";
    if (!want) {
      if (player.mode) stopVideo();
      video.hidden = true;
      videoProblem(null);
      return;
    }
    if (player.mode === want.mode && player.src === want.src) {
      video.hidden = false;
      return;
    }
    stopVideo();
    player.mode = want.mode;
    player.src = want.src;
    player.netRetries = 0;
    player.recovered = false;
    video.muted = want.mode === "live";
    video.autoplay = want.mode === "live";
    video.preload = want.mode === "live" ? "auto" : "metadata";
    video.setAttribute("aria-label", (want.mode === "live" ? "Live video" : "Replay") + " of the show");
    video.hidden = false;
    videoProblem(null);

    var isHls = /\.m3u8(\?|#|$)/i.test(want.src);
    var mse = window.MediaSource || window.ManagedMediaSource;
    if (isHls && mse && video.dataset.hlsLib) {
      loadHls(function (Hls) {
        if (player.src !== want.src || player.hls) return; // the source changed meanwhile
        if (Hls && Hls.isSupported()) {
          var hls = new Hls({
            lowLatencyMode: want.mode === "live",
            startPosition: player.pendingSeek !== null ? player.pendingSeek : -1,
          });
          player.hls = hls;
          hls.on(Hls.Events.ERROR, function (event, data) {
            if (!data || !data.fatal) return;
            // A playlist that can't be fetched (hls.js already retried it) means the stream is down;
            // a lost segment is worth another try.
            var playlist = /manifest|level/i.test(String(data.details || ""));
            if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !playlist && player.netRetries < 3) {
              player.netRetries += 1;
              hls.startLoad();
            } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !player.recovered) {
              player.recovered = true;
              hls.recoverMediaError();
            } else {
              streamFailed();
            }
          });
          hls.loadSource(want.src);
          hls.attachMedia(video);
          startPlayback(want);
        } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
          video.src = want.src;
          startPlayback(want);
        } else {
          unsupported();
        }
      });
      return;
    }
    if (isHls && !video.canPlayType("application/vnd.apple.mpegurl")) {
      unsupported();
      return;
    }
    video.src = want.src; // native HLS (Safari, iOS) or a plain MP4 recording
    startPlayback(want);
  }

  function unsupported() {
    stopVideo();
    els.video.hidden = true;
    videoProblem("Video isn’t supported in this browser",
      "Try another browser or a phone to watch. Chat and shopping work right here.");
  }

  if (els.video) {
    els.video.addEventListener("error", function () {
      if (!player.mode || player.hls) return; // hls.js reports its own errors
      streamFailed();
    });
    els.video.addEventListener("playing", function () { videoProblem(null); });
    els.video.addEventListener("loadedmetadata", function () {
      if (player.pendingSeek !== null && player.mode === "replay") {
        els.video.currentTime = player.pendingSeek;
        player.pendingSeek = null;
      }
    });
    els.video.addEventListener("timeupdate", markChapter);
  }

  // --- replay chapters ------------------------------------------------------------------------
  function seekTo(seconds, play) {
    var video = els.video;
    if (!video || seconds === null || seconds < 0) return;
    if (player.mode !== "replay") {
      player.pendingSeek = seconds; // applied when the replay loads
      return;
    }
    if (video.readyState >= 1) video.currentTime = seconds;
    else player.pendingSeek = seconds;
    if (play) {
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () {});
    }
    markChapter(seconds);
  }

  function markChapter(at) {
    if (!els.chapters || !els.video) return;
    var now = typeof at === "number" ? at : els.video.currentTime;
    var current = null;
    els.chapters.querySelectorAll("[data-chapter]").forEach(function (item) {
      if (toInt(item.dataset.chapter) <= now) current = item;
    });
    els.chapters.querySelectorAll("[data-chapter]").forEach(function (item) {
      if (item === current) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
  }

  // #t=90 (or #t=90s) in the address seeks the replay.
  function seekFromHash() {
    var match = /^#t=(\d+)s?$/.exec(location.hash);
    if (match) seekTo(parseInt(match[1], 10), false);
  }
  window.addEventListener("hashchange", seekFromHash);

  // --- viewers ---------------------------------------------------------------------------------
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
  function floatOne(kind) {
    var layer = els.reactionLayer;
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

  // A summed burst (`count`) floats up to MAX_BURST icons, staggered.
  function floatReaction(kind, count) {
    if (!els.reactionLayer || !REACTIONS[kind]) return;
    if (document.hidden) return;
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    var n = Math.min(Math.max(parseInt(count, 10) || 1, 1), MAX_BURST);
    for (var i = 0; i < n; i++) {
      setTimeout(floatOne, i * 110, kind);
    }
  }

  // --- pinned product and flash deal --------------------------------------------------------
  var lastPinned = null;
  var currentDeal = null;

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

  function dealOn(product) {
    return currentDeal && product && currentDeal.product_id === product.id ? currentDeal : null;
  }

  function renderDeal(deal) {
    currentDeal = deal && deal.id ? deal : null;
    var box = els.deal;
    if (box) {
      if (!currentDeal) {
        box.hidden = true;
        box.replaceChildren();
      } else {
        var d = currentDeal;
        var left = Math.max(0, parseInt(d.units_left, 10) || 0);
        var head = el("div", "deal-banner__head");
        head.appendChild(el("span", "deal-banner__label", "⚡ Flash deal"));
        head.appendChild(countdown(d.ends_at, "ending…"));
        var body = el("div", "deal-banner__body");
        var price = el("span", "deal-banner__price", money(d.price) + " ");
        price.appendChild(el("span", "price__currency", d.currency));
        body.appendChild(price);
        var pinnedHere = lastPinned && lastPinned.id === d.product_id;
        if (!pinnedHere) body.appendChild(el("span", "deal-banner__title", d.title));
        var units = el("span", "deal-banner__units" + (left === 0 ? " is-out" : ""),
          left === 0 ? "Deal sold out" : left + " of " + d.units_total + " left");
        body.appendChild(units);
        if (d.per_buyer_limit > 1) body.appendChild(el("span", "deal-banner__limit", "max " + d.per_buyer_limit + " each"));
        else body.appendChild(el("span", "deal-banner__limit", "1 per buyer"));
        box.replaceChildren(head, body);
        box.hidden = false;
        box.classList.toggle("deal-banner--attached", !!pinnedHere && !(els.pinned && els.pinned.hidden));
        tickCountdowns();
      }
    }
    if (lastPinned) renderPinned(lastPinned, { quiet: true });
  }

  function renderPinned(product, options) {
    lastPinned = product;
    var box = els.pinned;
    if (!box) return;
    markLineup(product ? product.id : null);
    if (els.deal) els.deal.classList.toggle("deal-banner--attached", !!dealOn(product));
    if (!product) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var deal = dealOn(product);
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
    info.appendChild(el("span", "pinned__label", deal ? "Pinned · deal on now" : "Pinned"));
    var title = el("a", "pinned__title", product.title);
    title.href = product.url;
    info.appendChild(title);
    var meta = el("div", "pinned__meta");
    if (deal) {
      var dealPrice = el("span", "price price--deal", money(deal.price) + " ");
      dealPrice.appendChild(el("span", "price__currency", deal.currency));
      meta.appendChild(dealPrice);
      var dealVariant = (product.variants || []).filter(function (v) { return v.id === deal.variant_id; })[0];
      if (dealVariant) meta.appendChild(el("s", "price-compare", money(dealVariant.price)));
    } else if (product.price !== null && product.price !== undefined) {
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
      // Buy now: a plain POST that holds the unit and lands on checkout (at the deal price if one runs).
      form.action = cfg.buyUrl;
      var preferred = inStock[0];
      if (deal) {
        preferred = inStock.filter(function (v) { return v.id === deal.variant_id; })[0] || preferred;
      }
      if (variants.length > 1) {
        var label = el("label", "visually-hidden", "Option");
        label.htmlFor = "pinned-variant";
        var select = el("select");
        select.id = "pinned-variant";
        select.name = "variant_id";
        variants.forEach(function (v) {
          var text = v.name + (v.available > 0 ? "" : " (sold out)") + (deal && deal.variant_id === v.id ? " ⚡ deal" : "");
          var option = el("option", null, text);
          option.value = v.id;
          option.disabled = !(v.available > 0);
          select.appendChild(option);
        });
        select.value = String(preferred.id);
        form.appendChild(label);
        form.appendChild(select);
        form.classList.add("pinned__form--options");
      } else {
        hidden("variant_id", preferred.id);
      }
      var buy = el("button", "btn btn-primary btn-sm", "Buy now");
      buy.type = "submit";
      form.appendChild(buy);
      if (cfg.oneTapCard) {
        form.classList.add("pinned__form--options");
        // One tap: an order paid by the saved card, no checkout. The key makes a double tap buy once.
        hidden("checkout_key", window.crypto && crypto.randomUUID ? crypto.randomUUID() : "");
        var oneTap = el("button", "btn btn-secondary btn-sm", "1-tap · •••• " + cfg.oneTapCard);
        oneTap.type = "submit";
        oneTap.name = "one_tap";
        oneTap.value = "1";
        form.appendChild(oneTap);
      }
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
    if (room.dataset.status !== "live") offerProductPage();
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

  // --- giveaway ------------------------------------------------------------------------------
  var giveaway = null;
  var entered = new Set();
  var giveawayHideTimer = null;

  function renderGiveaway(g, announce) {
    var box = els.giveaway;
    if (!box) return;
    clearTimeout(giveawayHideTimer);
    var previous = giveaway;
    giveaway = g && g.id ? g : null;
    if (!giveaway) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var head = el("div", "giveaway__head");
    head.appendChild(el("span", "giveaway__label", "🎁 Giveaway"));
    var title = el("p", "giveaway__title", giveaway.title);
    var foot = el("div", "giveaway__foot");
    var entries = Math.max(0, parseInt(giveaway.entries, 10) || 0);

    if (giveaway.status === "open") {
      head.appendChild(countdown(giveaway.closes_at, "drawing…"));
      foot.appendChild(el("span", "giveaway__meta",
        entries + (entries === 1 ? " entry" : " entries") + (giveaway.followers_only ? " · followers only" : "")));
      if (entered.has(giveaway.id)) {
        foot.appendChild(el("span", "giveaway__in", "You’re in ✓"));
      } else if (!cfg.loggedIn) {
        var login = el("a", "btn btn-primary btn-sm", "Log in to enter");
        login.href = cfg.loginUrl;
        foot.appendChild(login);
      } else {
        var enter = el("button", "btn btn-primary btn-sm", "Enter giveaway");
        enter.type = "button";
        enter.dataset.giveawayEnter = giveaway.id;
        foot.appendChild(enter);
      }
    } else if (giveaway.status === "drawn") {
      box.classList.add("giveaway--drawn");
      var won = el("p", "giveaway__winner");
      won.appendChild(el("span", null, "🎉 "));
      won.appendChild(el("strong", null, giveaway.winner || "Someone"));
      won.appendChild(el("span", null, " won!"));
      foot.appendChild(won);
      var close = el("button", "giveaway__close", "×");
      close.type = "button";
      close.setAttribute("aria-label", "Hide the giveaway");
      close.dataset.giveawayClose = "";
      head.appendChild(close);
      if (announce && previous && previous.id === giveaway.id && previous.status === "open") {
        toast("🎉 " + (giveaway.winner || "Someone") + " won the giveaway!", "info");
      }
    } else {
      foot.appendChild(el("p", "giveaway__meta", "Closed without a winner."));
      giveawayHideTimer = setTimeout(function () { renderGiveaway(null); }, 8000);
    }
    box.classList.toggle("giveaway--drawn", giveaway.status === "drawn");
    box.replaceChildren(head, title, foot);
    box.hidden = false;
    tickCountdowns();
  }

  // --- socket ------------------------------------------------------------------------------
  var conn = R.roomSocket({
    path: cfg.wsPath,
    setConn: setConn,
    toast: function (message) { toast(message); },
    goneMessage: "This show is no longer available.",
    // The server replays the state and the last 50 messages on open: catch up without duplicates.
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
      case "chat": chat.add(data); break;
      case "status": setStatus(data.status); break;
      case "pinned": renderPinned(data.product); break;
      case "viewers": setViewers(data.count); break;
      case "reaction": floatReaction(data.kind, data.count); break;
      case "deal": renderDeal(data.deal); break;
      case "giveaway": renderGiveaway(data.giveaway, true); break;
      case "giveaway_entered":
        var id = toInt(data.giveaway_id);
        entered.add(id);
        // The count comes with the room's `giveaway` event (everyone's, from the server).
        if (giveaway && giveaway.id === id) renderGiveaway(giveaway);
        toast("You’re in the giveaway. Good luck! 🍀", "info");
        break;
      case "moderation": moderation(data); break;
      case "error": toast(data.message || "Something went wrong."); break;
      case "stock": updateStock(data); break;
      case "waitlist": toast(data.message || "A unit is held for you: check out now."); break;
      default: break; // bid, lot: not shown on this page yet
    }
  }

  // --- UI events ---------------------------------------------------------------------------
  if (els.chatForm) {
    els.chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = els.chatForm.elements.namedItem("text");
      var text = (input.value || "").trim();
      if (!text) return;
      if (send({ action: "chat", text: text.slice(0, 500) })) {
        input.value = "";
        chat.scrollToBottom();
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
      return;
    }
    var enter = event.target.closest("[data-giveaway-enter]");
    if (enter) {
      send({ action: "giveaway_enter", giveaway_id: toInt(enter.dataset.giveawayEnter) });
      return;
    }
    if (event.target.closest("[data-giveaway-close]")) {
      renderGiveaway(null);
      return;
    }
    var seek = event.target.closest("[data-seek]");
    if (seek && els.video) {
      event.preventDefault();
      var seconds = toInt(seek.dataset.seek);
      if (history.replaceState) history.replaceState(null, "", "#t=" + seconds);
      seekTo(seconds, true);
      return;
    }
    if (cfg.canModerate) R.moderateClick(event.target, send);
  });

  // Pin buttons live in the lineup (outside the room element) and in the host controls.
  document.addEventListener("click", function (event) {
    var pin = event.target.closest("[data-pin]");
    if (!pin || !cfg.canPin) return;
    var id = pin.dataset.pin;
    if (send({ action: "pin", product_id: id ? parseInt(id, 10) : null }) && id) {
      window.scrollTo({ top: 0, behavior: "smooth" });
    }
  });

  // --- start -------------------------------------------------------------------------------
  chat.seedFromPage();
  updateVideo(room.dataset.status);
  seekFromHash();
  conn.start();
})();
