// The assistant page: typed questions and the microphone, over /ws/assistant/.
// Without JavaScript the page's forms post and reload; this script keeps the
// conversation on the page, streams microphone audio (16 kHz mono 16-bit PCM
// from pcm-worklet.js) as binary frames, shows partial transcripts while the
// person speaks, and falls back to a JSON POST when the socket is down.
(function () {
  "use strict";
  var root = document.querySelector(".assistant");
  if (!root) { return; }

  var log = document.getElementById("chat-log");
  var extras = document.getElementById("reply-extras");
  var alertRegion = document.getElementById("chat-alert");
  var form = document.getElementById("say-form");
  var input = form.querySelector("input[name=text]");
  var mic = document.getElementById("mic");
  var micLabel = mic.querySelector(".mic-label");
  var status = document.getElementById("voice-status");
  var partial = document.getElementById("partial");
  var MAX_SECONDS = 25;
  var NAVIGATE_DELAY_MS = 1500;

  var socket = null;
  var voiceOn = false;
  var recording = null; // {context, stream, node, source, timer}

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
    if (isError) { status.setAttribute("role", "alert"); } else { status.removeAttribute("role"); }
  }

  function addTurn(who, text, emergency) {
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "turn turn-" + who + (emergency ? " turn-emergency" : "");
    var label = document.createElement("span");
    label.className = "who";
    label.textContent = who === "user" ? "You" : "Assistant";
    var said = document.createElement("span");
    said.className = "said";
    said.textContent = text;
    item.appendChild(label);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(said);
    log.appendChild(item);
    item.scrollIntoView({block: "nearest"});
    return item;
  }

  function preview(text) {
    var figure = document.createElement("figure");
    figure.className = "transfer-preview";
    var caption = document.createElement("figcaption");
    caption.textContent = "Exactly what will be sent:";
    var body = document.createElement("pre");
    body.textContent = text;
    figure.appendChild(caption);
    figure.appendChild(body);
    return figure;
  }

  function showExtras(reply) {
    extras.textContent = "";
    if (reply.links && reply.links.length) {
      var list = document.createElement("ul");
      list.className = "plain actions reply-links";
      reply.links.forEach(function (link) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.className = "button secondary";
        a.href = link.url;
        a.textContent = link.label;
        li.appendChild(a);
        list.appendChild(li);
      });
      extras.appendChild(list);
    }
    if (reply.suggestions && reply.suggestions.length) {
      var box = document.createElement("div");
      box.className = "suggestions actions";
      reply.suggestions.forEach(function (text) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = text;
        button.addEventListener("click", function () { ask(text); });
        box.appendChild(button);
      });
      extras.appendChild(box);
    }
  }

  function showReply(reply) {
    // The question as the server kept it: an SSN or card number typed is shown as [removed].
    if (reply.said) {
      var mine = log.querySelectorAll(".turn-user .said");
      if (mine.length) { mine[mine.length - 1].textContent = reply.said; }
    }
    var item = addTurn("assistant", reply.text, reply.emergency);
    // The message a transfer would send, in full, inside the reply (announced with it).
    if (reply.preview) { item.appendChild(preview(reply.preview)); }
    // The list sits in a polite live region; an emergency is also said at once.
    if (reply.emergency && alertRegion) {
      alertRegion.textContent = "";
      window.setTimeout(function () { alertRegion.textContent = reply.text; }, 50);
    }
    showExtras(reply);
    // A page to go to (a chart, the conversation a message went to): after a moment,
    // so the answer is seen (and read out by a screen reader) first. The reply's link
    // stays on the page in case the browser blocks it.
    if (reply.navigate) {
      window.setTimeout(function () { window.location.assign(reply.navigate); }, NAVIGATE_DELAY_MS);
    }
  }

  // --- Typed questions ------------------------------------------------------------

  function postJson(text) {
    var body = new FormData(form);
    body.set("text", text);
    return fetch(form.action, {
      method: "POST",
      body: body,
      headers: {"Accept": "application/json"},
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) {
        if (data.reply) { showReply(data.reply); return; }
        var errors = data.errors && data.errors.text;
        setStatus(errors && errors.length ? (errors[0].message || errors[0]) : "Something went wrong.", true);
      });
    });
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text) { return; }
    addTurn("user", text, false);
    extras.textContent = "";
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "text", text: text}));
    } else {
      postJson(text).catch(function () { setStatus("The assistant could not be reached. Please try again.", true); });
    }
  }

  form.addEventListener("submit", function (event) {
    var text = input.value.trim();
    if (!text) { return; } // let the server show the field's error
    event.preventDefault();
    input.value = "";
    ask(text);
  });

  // --- The socket --------------------------------------------------------------------

  function connect() {
    if (!("WebSocket" in window)) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket-path"));
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401) { window.location.reload(); return; }
      stopRecording(false);
      mic.disabled = true;
      socket = null;
    });
  }

  function handle(message) {
    switch (message.type) {
      case "ready":
        voiceOn = !!message.voice;
        var capable = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.AudioWorkletNode);
        if (!voiceOn) {
          setStatus(message.reason || "Voice input is off; you can still type.", false);
        } else if (!capable) {
          setStatus("This browser cannot record audio here (it needs a secure page and microphone access). You can still type.", false);
        } else {
          mic.disabled = false;
          setStatus("Press Speak, ask your question, then press Stop.", false);
        }
        break;
      case "listening":
        setStatus("Listening… press Stop when you are done.", false);
        break;
      case "partial":
        partial.hidden = false;
        partial.textContent = message.text;
        break;
      case "final":
        partial.hidden = true;
        partial.textContent = "";
        if (message.text) { addTurn("user", message.text, false); }
        setStatus(voiceOn ? "Press Speak to ask something else." : "", false);
        break;
      case "reply":
        showReply(message.reply);
        break;
      case "error":
        if (recording && message.code !== "no_speech") { stopRecording(false); }
        setStatus(message.message, true);
        break;
      default:
        break;
    }
  }

  // --- The microphone ------------------------------------------------------------

  function startRecording() {
    if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
    mic.disabled = true;
    navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: true, noiseSuppression: true}})
      .then(function (stream) {
        var Context = window.AudioContext || window.webkitAudioContext;
        var context = new Context();
        return context.audioWorklet.addModule(root.getAttribute("data-worklet-url")).then(function () {
          var source = context.createMediaStreamSource(stream);
          var node = new AudioWorkletNode(context, "pcm-worklet");
          node.port.onmessage = function (event) {
            if (event.data instanceof ArrayBuffer && socket && socket.readyState === WebSocket.OPEN) {
              socket.send(event.data);
            } else if (event.data === "flushed" && socket && socket.readyState === WebSocket.OPEN) {
              socket.send(JSON.stringify({type: "stop"}));
            }
          };
          socket.send(JSON.stringify({type: "start", sample_rate: 16000, channels: 1}));
          source.connect(node);
          recording = {context: context, stream: stream, node: node, source: source,
                       timer: window.setTimeout(function () { stopRecording(true); }, MAX_SECONDS * 1000)};
          mic.setAttribute("aria-pressed", "true");
          micLabel.textContent = "Stop";
          mic.disabled = false;
        });
      })
      .catch(function (error) {
        mic.disabled = false;
        setStatus(error && error.name === "NotAllowedError"
          ? "Microphone access was refused. Allow it in the browser to speak, or type your question."
          : "The microphone could not be started. You can still type.", true);
      });
  }

  function stopRecording(send) {
    if (!recording) { return; }
    var current = recording;
    recording = null;
    window.clearTimeout(current.timer);
    current.source.disconnect();
    current.stream.getTracks().forEach(function (track) { track.stop(); });
    if (send) {
      // The worklet sends what it still holds, then "flushed", which sends stop.
      current.node.port.postMessage("flush");
      window.setTimeout(function () { current.context.close(); }, 500);
    } else {
      current.context.close();
    }
    mic.setAttribute("aria-pressed", "false");
    micLabel.textContent = "Speak";
    setStatus("Working it out…", false);
  }

  mic.addEventListener("click", function () {
    if (recording) { stopRecording(true); } else { startRecording(); }
  });

  connect();
})();
