/* Live auctions on the show page and the host console. Listens to the room's events (room-common.js
 * dispatches each as a "livemarket:room-event") and sends actions through LivemarketRoom.send.
 *
 * The clock counts down from the server's `seconds_left` on this device's clock, so a phone whose
 * time is off still shows the right number. When it reaches zero the page asks the server to close
 * the lot (`lot_sync`): the server closes it only if it is really due, once, whoever asks.
 * An amount far above the current price (over the lot's `confirm_above`, but within what the server
 * accepts) asks the shopper to confirm before it is sent; the server enforces the bounds either way.
 * User text (titles, names) is inserted with textContent only.
 */
(function () {
  "use strict";

  var panel = document.querySelector("[data-auction]");
  if (!panel) return;

  var lot = null;
  var endsAtLocal = 0;
  var syncTimer = null;
  var STATUS_TEXT = {
    open: "Bidding open",
    awaiting_payment: "Sold: charging the winner",
    paid: "Sold",
    payment_failed: "Winner's payment failed",
    unsold: "No bids",
    relisted: "Relisted",
    released: "Returned to stock",
  };

  function $(selector) { return panel.querySelector(selector); }
  function text(selector, value) { var node = $(selector); if (node) node.textContent = value; }
  function send(payload) {
    var room = window.LivemarketRoom;
    return room && room.send ? room.send(payload) : false;
  }
  function note(message, kind) {
    var node = $("[data-lot-note]");
    if (!node) return;
    node.textContent = message || "";
    node.dataset.kind = kind || "";
  }
  function secondsLeft() {
    return Math.max(0, Math.ceil((endsAtLocal - Date.now()) / 1000));
  }

  function render(next) {
    if (!next) return;
    if (lot && next.id === lot.id && next.status === "open" && lot.status !== "open") return;  // stale
    var fresh = !lot || lot.id !== next.id;
    lot = next;
    endsAtLocal = Date.now() + (next.seconds_left || 0) * 1000;
    panel.hidden = false;
    panel.dataset.lotId = String(next.id);
    panel.classList.toggle("is-open", next.status === "open");
    text("[data-lot-title]", next.title + (next.quantity > 1 ? " × " + next.quantity : ""));
    text("[data-lot-status]", STATUS_TEXT[next.status] || next.status);
    $("[data-lot-status]").dataset.status = next.status;
    var price = next.status === "open" ? next.current_price : (next.winning_price || next.current_price);
    text("[data-lot-price]", price ? price : "Starts at " + next.starting_price);
    text("[data-lot-currency]", next.currency);
    var leader = next.status === "open" ? next.leader : (next.winner || next.leader);
    text("[data-lot-leader]", leader || "no bids yet");
    tick();
    var form = $("[data-bid-form]");
    if (form) {
      form.hidden = next.status !== "open";
      var amount = form.querySelector("[name=amount]");
      if (fresh || !amount.value || parseFloat(amount.value) < parseFloat(next.next_minimum)) {
        amount.value = next.next_minimum;
      }
      amount.min = next.next_minimum;
      bidLabel();
    }
    if (next.status !== "open") {
      if (next.status === "unsold") note("Nobody bid: the item is back in stock.");
      else if (next.winner) note(next.winner + " won it for " + next.winning_price + " " + next.currency + ".");
    } else if (fresh) {
      note((next.mode === "extend"
        ? "A bid in the last " + next.extend_seconds + " seconds resets the clock to " + next.extend_seconds + "."
        : "Sudden death: the clock never extends.")
        + (next.bid_ceiling ? " No bids above " + next.bid_ceiling + " " + next.currency + "." : ""));
    }
    var settle = document.querySelector("[data-lot-settle]");
    if (settle) settle.hidden = next.status !== "payment_failed";
  }

  // The button names the amount it will send: the typed one (or the minimum while the field is empty).
  function bidLabel() {
    var form = $("[data-bid-form]");
    if (!form || !lot) return;
    var typed = form.querySelector("[name=amount]").value.trim();
    form.querySelector("[data-bid-button]").textContent = "Bid " + (typed || lot.next_minimum) + " " + lot.currency;
  }

  function tick() {
    if (!lot) return;
    var left = lot.status === "open" ? secondsLeft() : 0;
    text("[data-lot-clock]", String(left));
    panel.classList.toggle("is-urgent", lot.status === "open" && left > 0 && left <= 5);
    if (lot.status === "open" && left === 0 && !syncTimer) {
      // Ask the server to close it (it won't if a late bid extended the clock meanwhile).
      syncTimer = setTimeout(function () {
        syncTimer = null;
        if (lot && lot.status === "open" && secondsLeft() === 0) send({ action: "lot_sync", lot_id: lot.id });
      }, 700 + Math.random() * 600);
    }
  }
  setInterval(tick, 250);

  document.addEventListener("livemarket:room-event", function (event) {
    var data = event.detail || {};
    switch (data.type) {
      case "lot":
        render(data.lot);
        break;
      case "bid":
        render(data.lot);
        break;
      case "bid_placed":
        note(data.leading ? "You're the highest bidder at " + data.price + "." : "Another bidder's maximum beat that: bid again?", data.leading ? "good" : "warn");
        break;
      case "outbid":
        note(data.message, "warn");
        break;
      case "lot_won": {
        var node = $("[data-lot-note]");
        if (node) {
          node.textContent = data.message + " ";
          var link = document.createElement("a");
          link.href = data.url;
          link.textContent = "See order " + data.order;
          link.dataset.wonOrder = data.order;
          node.appendChild(link);
          node.dataset.kind = "good";
        }
        break;
      }
      case "lot_payment_failed":
        note(data.message, "warn");
        break;
      case "error":
        if (/^(bid_|lot_)/.test(data.code || "") || data.code === "rate_limited") note(data.message, "warn");
        break;
    }
  });

  // The question to ask before sending an amount far above the current price, or "" to send at once.
  // Amounts the server will refuse anyway are sent unasked, so its message names the limit.
  function largeJumpQuestion(amount, max) {
    var bid = parseFloat(amount), top = parseFloat(max);
    var over = bid > parseFloat(lot.bid_limit) || top > parseFloat(lot.max_limit);
    var threshold = parseFloat(lot.confirm_above);
    if (over || !(bid > threshold || top > threshold)) return "";
    var now = lot.current_price ? "the current bid is " + lot.current_price : "it starts at " + lot.starting_price;
    var what = top > threshold ? "a maximum of " + max : amount;
    return "Bid " + what + " " + lot.currency + "? That is far above the price (" + now + " " + lot.currency + ").";
  }

  var bidForm = $("[data-bid-form]");
  if (bidForm) {
    bidForm.querySelector("[name=amount]").addEventListener("input", bidLabel);
    bidForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!lot) return;
      var amount = bidForm.querySelector("[name=amount]").value.trim();
      var max = bidForm.querySelector("[name=max_amount]").value.trim();
      var payload = { action: "bid", lot_id: lot.id, amount: amount };
      if (max) payload.max_amount = max;
      var question = largeJumpQuestion(amount, max);
      if (question && !window.confirm(question)) {
        note("Bid not sent.");
        return;
      }
      if (send(payload)) note("Bid sent…");
    });
  }

  var startForm = document.querySelector("[data-lot-start-form]");
  if (startForm) {
    startForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = startForm.elements;
      send({
        action: "lot_start",
        variant_id: parseInt(f.variant.value, 10),
        starting_price: f.starting_price.value,
        increment: f.increment.value,
        duration_seconds: parseInt(f.duration.value, 10),
        mode: f.mode.value,
        extend_seconds: parseInt(f.extend_seconds.value, 10),
        quantity: parseInt(f.quantity.value, 10),
        bid_ceiling: f.bid_ceiling.value || null,
      });
    });
  }
  document.querySelectorAll("[data-lot-op]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (lot) send({ action: "lot_after_payment", lot_id: lot.id, op: button.dataset.lotOp });
    });
  });
})();
