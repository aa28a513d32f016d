// Live messaging: new messages, read receipts and the unread badge, over /ws/messages/.
//
// Everything here is an enhancement. Without JavaScript, or while the socket
// is down, the same forms post normally and every page load shows the truth.
// On every (re)connect the page asks what it missed ("sync") from the last
// message it shows, so nothing pushed while it was offline is lost.
// Message text is only ever set with textContent: it is never parsed as HTML.
(function () {
  "use strict";
  if (window.__portalMessaging) { return; }  // loaded once, even if included twice
  window.__portalMessaging = true;

  var body = document.body;
  var loginUrl = body.getAttribute("data-login-url");
  if (!loginUrl) { return; }  // signed out: nothing to do

  var conversation = document.querySelector("[data-conversation]");
  var list = conversation ? conversation.querySelector("#message-list") : null;
  var form = conversation ? conversation.querySelector("#message-form") : null;
  var inbox = document.querySelector("[data-inbox]");
  var me = conversation ? conversation.getAttribute("data-me") : (inbox ? inbox.getAttribute("data-me") : null);
  var partnerId = conversation ? conversation.getAttribute("data-partner-id") : null;
  var live = conversation ? conversation.getAttribute("data-live") === "true" : false;
  var labels = {
    you: conversation ? conversation.getAttribute("data-label-you") : "You",
    sent: conversation ? conversation.getAttribute("data-label-sent") : "Sent",
    read: conversation ? conversation.getAttribute("data-label-read") : "Read",
    unread: inbox ? inbox.getAttribute("data-label-unread") : "unread"
  };

  function toSignIn() {
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname) + "&expired=1");
  }

  // --- Unread badge in the navigation -------------------------------------
  function navLinkToInbox() {
    var links = document.querySelectorAll(".main-nav a");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === "/messages/") { return links[i]; }
    }
    return null;
  }

  function setBadge(count) {
    if (typeof count !== "number") { return; }
    var badges = document.querySelectorAll('[data-badge="messages"]');
    if (!badges.length && count > 0) {
      var link = navLinkToInbox();
      if (!link) { return; }
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("data-badge", "messages");
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
      badges = [badge];
    }
    for (var i = 0; i < badges.length; i++) {
      badges[i].textContent = count > 0 ? String(count) : "";
      badges[i].hidden = count <= 0;
      badges[i].style.display = count > 0 ? "" : "none";
    }
  }

  // --- Conversation page ----------------------------------------------------
  function messageElement(id) {
    return list ? list.querySelector('[data-message-id="' + id + '"]') : null;
  }

  function lastMessageId() {
    var items = list ? list.querySelectorAll("[data-message-id]") : [];
    return items.length ? items[items.length - 1].getAttribute("data-message-id") : null;
  }

  function pendingIds() {
    var ids = [];
    var items = list ? list.querySelectorAll('[data-status][data-read="false"]') : [];
    for (var i = 0; i < items.length; i++) {
      ids.push(items[i].parentNode.getAttribute("data-message-id"));
    }
    return ids;
  }

  function showRead(id, display) {
    var item = messageElement(id);
    var status = item ? item.querySelector("[data-status]") : null;
    if (!status || status.getAttribute("data-read") === "true") { return; }
    status.setAttribute("data-read", "true");
    status.textContent = labels.read + (display ? " " + display : "");
  }

  function belongsHere(message) {
    return live && list && (
      (message.sender_id === partnerId && message.receiver_id === me) ||
      (message.sender_id === me && message.receiver_id === partnerId));
  }

  function addMessage(message) {
    if (!belongsHere(message) || messageElement(message.id)) { return false; }
    var mine = message.sender_id === me;
    var item = document.createElement("li");
    item.id = "m-" + message.id;
    item.className = "message " + (mine ? "message-mine" : "message-theirs");
    item.setAttribute("data-message-id", message.id);
    item.setAttribute("data-sender-id", message.sender_id);
    item.setAttribute("data-sent-at", message.sent_at);

    var meta = document.createElement("p");
    meta.className = "message-meta";
    var author = document.createElement("span");
    author.className = "message-author";
    author.textContent = mine ? labels.you : message.sender_name;
    var time = document.createElement("time");
    time.setAttribute("datetime", message.sent_at);
    time.textContent = message.sent_at_display;
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(time);
    item.appendChild(meta);

    var text = document.createElement("div");
    text.className = "message-body";
    text.textContent = message.content;
    item.appendChild(text);

    if (mine) {
      var status = document.createElement("p");
      status.className = "message-status meta";
      status.setAttribute("data-status", "");
      status.setAttribute("data-read", message.read ? "true" : "false");
      status.textContent = message.read ? labels.read + " " + message.read_at_display : labels.sent;
      item.appendChild(status);
    }

    // Keep the list in time order even when a push and a reply cross.
    var when = Date.parse(message.sent_at);
    var next = null;
    var items = list.querySelectorAll("[data-message-id]");
    for (var i = items.length - 1; i >= 0; i--) {
      if (Date.parse(items[i].getAttribute("data-sent-at")) > when) { next = items[i]; } else { break; }
    }
    list.insertBefore(item, next);
    var empty = conversation.querySelector("[data-empty]");
    if (empty) { empty.parentNode.removeChild(empty); }
    return true;
  }

  // --- Inbox page -------------------------------------------------------------
  function updateInbox(message) {
    if (!inbox || inbox.getAttribute("data-live") !== "true") { return; }
    var theirs = message.receiver_id === me;
    var partner = theirs ? message.sender_id : message.receiver_id;
    var row = inbox.querySelector('[data-partner-id="' + partner + '"]');
    if (!row) {
      if (!theirs) { return; }  // sent from another tab to someone new: shown on the next load
      row = document.createElement("li");
      row.className = "conversation-row";
      row.setAttribute("data-partner-id", partner);
      var who = document.createElement("div");
      who.className = "conversation-who";
      var link = document.createElement("a");
      link.href = inbox.getAttribute("data-conversation-url").replace("00000000-0000-0000-0000-000000000000", partner);
      link.setAttribute("data-partner-name", "");
      link.textContent = message.sender_name;
      who.appendChild(link);
      var when = document.createElement("div");
      when.className = "conversation-when";
      var stamp = document.createElement("time");
      stamp.className = "meta";
      stamp.setAttribute("data-last-at", "");
      when.appendChild(stamp);
      row.appendChild(who);
      row.appendChild(when);
      var emptyState = inbox.parentNode.querySelector(".empty-state");
      if (emptyState) { emptyState.parentNode.removeChild(emptyState); }
    }
    var last = row.querySelector("[data-last-at]");
    if (last) {
      last.setAttribute("datetime", message.sent_at);
      last.textContent = message.sent_at_display;
    }
    if (theirs) {
      var unread = row.querySelector("[data-unread]");
      if (!unread) {
        unread = document.createElement("span");
        unread.className = "status status-active";
        unread.setAttribute("data-unread", "");
        unread.setAttribute("data-count", "0");
        last.parentNode.insertBefore(unread, last.nextSibling);
      }
      var count = (parseInt(unread.getAttribute("data-count") || unread.textContent, 10) || 0) + 1;
      unread.setAttribute("data-count", String(count));
      unread.textContent = count + " " + labels.unread;
      row.classList.add("has-unread");
    }
    inbox.insertBefore(row, inbox.firstChild);
  }

  function clearInboxUnread(partner) {
    if (!inbox || !partner) { return; }
    var row = inbox.querySelector('[data-partner-id="' + partner + '"]');
    var unread = row ? row.querySelector("[data-unread]") : null;
    if (unread) { unread.parentNode.removeChild(unread); }
    if (row) { row.classList.remove("has-unread"); }
  }

  // --- Socket -------------------------------------------------------------------
  var socket = null;
  var attempts = 0;
  var stopped = false;
  var reconnectTimer = null;
  var readWanted = false;

  function send(data) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(data));
      return true;
    }
    return false;
  }

  // Reading means seeing: the other side's messages are marked read only
  // while this page is on screen.
  function markReadSoon() {
    readWanted = true;
    if (document.visibilityState === "hidden") { return; }
    if (send({ type: "read", with: partnerId })) { readWanted = false; }
  }

  function sync() {
    var request = { type: "sync" };
    if (conversation && live) {
      request.with = partnerId;
      request.after = lastMessageId();
      request.pending = pendingIds();
    }
    send(request);
  }

  function handle(data) {
    switch (data.type) {
      case "message.new":
        setBadge(data.unread);
        if (addMessage(data.message) && data.message.sender_id === partnerId) { markReadSoon(); }
        updateInbox(data.message);
        break;
      case "message.read":
        if (conversation && data.reader_id === partnerId) {
          for (var i = 0; i < data.ids.length; i++) { showRead(data.ids[i], data.read_at_display); }
        }
        break;
      case "unread":
        setBadge(data.count);
        clearInboxUnread(data.partner_id);
        break;
      case "sync":
        setBadge(data.unread);
        if (conversation && data.with === partnerId) {
          if (data.complete === false) { window.location.reload(); return; }
          var theirsArrived = false;
          for (var j = 0; j < data.messages.length; j++) {
            if (addMessage(data.messages[j]) && data.messages[j].sender_id === partnerId) { theirsArrived = true; }
          }
          for (var k = 0; k < data.receipts.length; k++) {
            showRead(data.receipts[k].id, data.receipts[k].read_at_display);
          }
          if (theirsArrived) { markReadSoon(); }
        }
        break;
      case "session.ended":
        stopped = true;
        toSignIn();
        break;
      default:
        break;
    }
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) { return; }
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts));
    attempts += 1;
    reconnectTimer = window.setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay / 2 + Math.random() * delay / 2);
  }

  function connect() {
    if (stopped || socket) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/messages/");
    } catch (e) {
      socket = null;
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      attempts = 0;
      body.setAttribute("data-messaging-socket", "open");
      sync();
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && typeof data.type === "string") { handle(data); }
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      body.setAttribute("data-messaging-socket", "closed");
      if (event.code === 4401) { stopped = true; toSignIn(); return; }
      if (event.code === 4403) { stopped = true; return; }
      scheduleReconnect();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") { return; }
    if (!socket && !stopped) {
      if (reconnectTimer) { window.clearTimeout(reconnectTimer); reconnectTimer = null; }
      connect();
    } else if (readWanted) {
      markReadSoon();
    }
  });
  window.addEventListener("online", function () {
    if (!socket && !stopped) {
      if (reconnectTimer) { window.clearTimeout(reconnectTimer); reconnectTimer = null; }
      attempts = 0;
      connect();
    }
  });

  // --- Sending in place --------------------------------------------------------
  function showFieldErrors(errors) {
    var textarea = form.querySelector("textarea");
    var old = form.querySelectorAll(".error[data-live-error]");
    for (var i = 0; i < old.length; i++) { old[i].parentNode.removeChild(old[i]); }
    var messages = [];
    var names = Object.keys(errors || {});
    for (var n = 0; n < names.length; n++) {
      for (var m = 0; m < errors[names[n]].length; m++) { messages.push(errors[names[n]][m].message); }
    }
    if (!messages.length || !textarea) { return; }
    var error = document.createElement("p");
    error.className = "error";
    error.id = textarea.id + "_live_error";
    error.setAttribute("data-live-error", "");
    error.textContent = messages.join(" ");
    textarea.parentNode.appendChild(error);
    textarea.setAttribute("aria-invalid", "true");
    textarea.setAttribute("aria-describedby", error.id);
    textarea.focus();
  }

  function clearFieldErrors() {
    var textarea = form.querySelector("textarea");
    var old = form.querySelectorAll(".error[data-live-error]");
    for (var i = 0; i < old.length; i++) { old[i].parentNode.removeChild(old[i]); }
    if (textarea) {
      textarea.removeAttribute("aria-invalid");
      if (textarea.getAttribute("aria-describedby") === textarea.id + "_live_error") {
        textarea.removeAttribute("aria-describedby");
      }
    }
  }

  if (form && live && window.fetch && window.FormData) {
    var status = form.querySelector("[data-send-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var textarea = form.querySelector("textarea");
      button.disabled = true;
      if (status) { status.textContent = ""; }
      fetch(form.getAttribute("action") || window.location.pathname, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          // Not our answer. Sent to the sign-in page: go there. Anything else
          // (an error page): say so, and do not post again, since the message
          // may have been stored; a reload shows whether it was.
          if (response.redirected) { window.location.assign(response.url); return; }
          if (status) { status.textContent = form.getAttribute("data-error-text") || "Something went wrong. Reload the page to see whether your message was sent."; }
          return;
        }
        return response.json().then(function (data) {
          if (response.status === 201 && data.message) {
            clearFieldErrors();
            addMessage(data.message);
            textarea.value = "";
            textarea.focus();
          } else {
            showFieldErrors(data.errors);
          }
        });
      }).catch(function () {
        if (status) { status.textContent = form.getAttribute("data-offline-text") || "Not sent: check your connection and try again."; }
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  connect();
})();
