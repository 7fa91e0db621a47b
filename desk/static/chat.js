// Web chat: send without reloading the page; the form works without this.
(function () {
  "use strict";
  var form = document.getElementById("chat-form");
  var log = document.getElementById("chat-log");
  var input = document.getElementById("message");
  var button = document.getElementById("send");
  if (!form || !window.fetch) { return; }
  var key = "selfpay-chat-" + form.dataset.client;
  var sender = window.sessionStorage.getItem(key) || form.dataset.sender;
  window.sessionStorage.setItem(key, sender);

  function add(who, text) {
    var line = document.createElement("p");
    line.className = "line " + who;
    var label = document.createElement("span");
    label.className = "who";
    label.textContent = who === "you" ? "You: " : (who === "agent" ? "Billing partner: " : "Assistant: ");
    line.appendChild(label);
    // our own payment and statement links are clickable; everything else stays text
    var own = new RegExp("(" + window.location.origin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "/(?:pay|statements)/[A-Za-z0-9_-]+)");
    text.split(own).forEach(function (piece, n) {
      if (n % 2 === 1 && who !== "you") {
        var link = document.createElement("a");
        link.href = piece;
        link.textContent = piece;
        line.appendChild(link);
      } else {
        line.appendChild(document.createTextNode(piece));
      }
    });
    log.appendChild(line);
    log.scrollTop = log.scrollHeight;
  }

  // a partner's replies (after a handoff) arrive between the patient's messages
  var seen = Date.now() / 1000;
  window.setInterval(function () {
    fetch("/chat/updates?" + new URLSearchParams({client: form.dataset.client, sender: sender, after: String(seen)}))
      .then(function (response) { return response.json(); })
      .then(function (result) {
        (result.lines || []).forEach(function (line) {
          seen = Math.max(seen, line.ts);
          add(line.from === "agent" ? "agent" : "bot", line.text);
        });
      }).catch(function () {});
  }, 3000);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    add("you", text);
    input.value = "";
    button.disabled = true;
    fetch("/chat/message", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({client: form.dataset.client, sender: sender, message: text})
    }).then(function (response) {
      return response.json().then(function (replies) { return {ok: response.ok, replies: replies}; });
    }).then(function (result) {
      if (!result.ok) { add("bot", "Sorry, I can't answer right now. Please try again in a moment."); return; }
      result.replies.forEach(function (reply) { add("bot", reply.text); });
    }).catch(function () {
      add("bot", "Sorry, I can't answer right now. Please try again in a moment.");
    }).then(function () {
      button.disabled = false;
      input.focus();
    });
  });
}());
