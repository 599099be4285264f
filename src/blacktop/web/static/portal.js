// blacktop portal: the only script. It streams a task's log live on the task page; every other
// page works without JavaScript.
(function () {
  "use strict";
  var log = document.getElementById("task-log");
  if (!log || log.dataset.terminal === "true" || !window.EventSource) {
    return;
  }
  var hint = document.querySelector(".no-js-hint");
  if (hint) {
    hint.hidden = true;
  }
  var status = document.getElementById("task-status");
  var url = log.dataset.events + "?after=" + encodeURIComponent(log.dataset.after || "0");
  var source = new EventSource(url);
  function append(text) {
    log.appendChild(document.createTextNode(text + "\n"));
    log.scrollTop = log.scrollHeight;
  }
  source.addEventListener("log", function (message) {
    var event = JSON.parse(message.data);
    var body = event.body || {};
    append((body.stepId ? body.stepId + ": " : "") + (body.message || ""));
    if (status && status.textContent === "open") {
      status.textContent = "processing";
    }
  });
  source.addEventListener("completion", function (message) {
    var event = JSON.parse(message.data);
    var body = event.body || {};
    if (body.message) {
      append(body.message);
    }
    source.close();
    // The server renders the final status, steps and output links.
    window.location.reload();
  });
  source.onerror = function () {
    source.close();
  };
})();
