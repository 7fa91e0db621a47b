// Desk: keep the queue and the transcript current without reloading, and
// put an approved snippet into the reply box.  Every page works without it.
(function () {
  "use strict";
  if (!window.fetch) { return; }

  function text(tag, words, cls) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    node.textContent = words;
    return node;
  }

  function minutes(created) {
    return Math.max(0, Math.floor((Date.now() - Date.parse(created)) / 60000)) + " min";
  }

  // --- queue
  var waiting = document.getElementById("waiting");
  var active = document.getElementById("active");
  function row(h, claimable, csrf) {
    var tr = document.createElement("tr");
    tr.dataset.id = h.id;
    var link = document.createElement("a");
    link.href = "/desk/handoffs/" + h.id;
    link.textContent = "#" + h.id;
    var first = document.createElement("td");
    first.appendChild(link);
    tr.appendChild(first);
    tr.appendChild(text("td", h.client));
    tr.appendChild(text("td", h.department.replace(/_/g, " ")));
    tr.appendChild(text("td", h.reason.replace(/_/g, " ") + (h.after_hours ? " (after hours)" : "")));
    tr.appendChild(text("td", h.channel));
    var language = text("td", h.language_name || h.language || "", "language");
    language.lang = "en";
    var offer = h.offer || {claimable: true};
    if (claimable && offer.words && offer.reason !== "speaks") {
      language.appendChild(document.createElement("br"));
      language.appendChild(text("small", offer.words, "offer"));
    }
    tr.appendChild(language);
    tr.appendChild(text("td", claimable ? minutes(h.created_at) : Math.floor(h.wait_seconds / 60) + " min", "wait"));
    var last = document.createElement("td");
    if (claimable && !offer.claimable) {
      last.appendChild(text("span", "Not yet", "hint"));
    } else if (claimable) {
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/desk/handoffs/" + h.id + "/claim";
      var token = document.createElement("input");
      token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
      var button = text("button", "Claim", "small");
      button.type = "submit";
      button.setAttribute("aria-label", "Claim handoff " + h.id);
      form.appendChild(token); form.appendChild(button);
      last.appendChild(form);
    } else {
      last.textContent = h.claimed_by || "";
    }
    tr.appendChild(last);
    return tr;
  }
  function fill(table, items, claimable, csrf) {
    var body = table.tBodies[0];
    while (body.firstChild) { body.removeChild(body.firstChild); }
    if (!items.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var cell = text("td", claimable ? "Nobody is waiting." : "Nobody is being helped.");
      cell.colSpan = 8;
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    items.forEach(function (h) { body.appendChild(row(h, claimable, csrf)); });
  }
  function refreshQueue() {
    var only = waiting.dataset.language ? "&language=" + encodeURIComponent(waiting.dataset.language) : "";
    Promise.all([
      fetch("/api/handoffs?status=waiting" + only, {credentials: "same-origin"}).then(function (r) { return r.json(); }),
      fetch("/api/handoffs?status=active" + only, {credentials: "same-origin"}).then(function (r) { return r.json(); })
    ]).then(function (both) {
      fill(waiting, both[0].handoffs || [], true, waiting.dataset.csrf);
      fill(active, both[1].handoffs || [], false, "");
      document.getElementById("refreshed").textContent = "Updated " + new Date().toLocaleTimeString() + ".";
    }).catch(function () {});
  }
  if (waiting && active) { window.setInterval(refreshQueue, 3000); }

  // --- transcript
  var box = document.getElementById("transcript-box");
  function refreshTranscript() {
    fetch("/api/conversations/" + encodeURIComponent(box.dataset.conversation), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (conversation) {
        var list = document.getElementById("transcript");
        if (!conversation.transcript || conversation.transcript.length === list.children.length) { return; }
        while (list.firstChild) { list.removeChild(list.firstChild); }
        conversation.transcript.forEach(function (line) {
          var item = document.createElement("li");
          item.className = "line " + line.from;
          var who = line.from === "agent" ? "Partner " + (line.agent || "") : (line.from === "bot" ? "Assistant" : "Patient");
          item.appendChild(text("span", who, "who"));
          var when = text("time", " " + line.ts.slice(11, 19) + " " + line.ts.slice(0, 10) + " ");
          when.setAttribute("datetime", line.ts);
          item.appendChild(when);
          if (line.channel) { item.appendChild(text("span", line.channel + " ", "hint")); }
          item.appendChild(text("span", line.text, "text"));
          list.appendChild(item);
        });
        list.scrollTop = list.scrollHeight;
      }).catch(function () {});
  }
  if (box) {
    var log = document.getElementById("transcript");
    log.scrollTop = log.scrollHeight;  // the latest lines first in view
    window.setInterval(refreshTranscript, 3000);
  }

  // --- snippets
  var reply = document.getElementById("reply-text");
  Array.prototype.forEach.call(document.querySelectorAll("button.snippet"), function (button) {
    button.addEventListener("click", function () {
      if (!reply) { return; }
      reply.value = button.dataset.text;
      reply.focus();
    });
  });
}());
