/* The dashboard's live updates: one EventSource on /__sandbox/ui/events per tab.
   The journal adds a row per entry; other pages fetch their live part again (at most once a
   second); the jobs page also polls, as jobs move on by themselves. No framework,
   no build step: pages work without this script, it only keeps them current. */
(function () {
  "use strict";
  var body = document.body;
  var ui = body.getAttribute("data-ui");
  var page = body.getAttribute("data-page");
  var since = body.getAttribute("data-last-id") || "0";
  var statusLine = document.getElementById("live-status");
  var live = document.querySelector("[data-live]");
  var rows = document.getElementById("journal-rows");
  var table = document.getElementById("journal-table");
  var pending = null;
  var busy = false;

  function say(text, state) {
    if (!statusLine) return;
    if (statusLine.textContent !== text) statusLine.textContent = text;
    statusLine.setAttribute("data-state", state);
  }

  function refresh() {
    if (!live || busy) return;
    busy = true;
    var focused = document.activeElement && document.activeElement.id;
    fetch(live.getAttribute("data-live"), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        if (focused) {
          var again = document.getElementById(focused);
          if (again) again.focus();
        }
      })
      .catch(function (error) { say("Update failed: " + error.message, "error"); })
      .then(function () { busy = false; });
  }

  // A live part is fetched again 200 ms after the first event of a quiet spell, then at most
  // once a second while events keep coming: a tab never loads the server more than that.
  var lastRefresh = 0;
  function soon() {
    if (pending) return;
    var wait = Math.max(200, lastRefresh + 1000 - Date.now());
    pending = setTimeout(function () { pending = null; lastRefresh = Date.now(); refresh(); }, wait);
  }

  function cell(tr, content) {
    var td = document.createElement("td");
    if (content) td.appendChild(content);
    tr.appendChild(td);
    return td;
  }

  function text(value, tag, className) {
    var node = document.createElement(tag || "span");
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  function badge(status) {
    var kind = status === null ? "none" : status < 300 ? "ok" : status < 500 ? "warn" : "bad";
    return text(status === null ? "none" : String(status), "span", "badge badge-" + kind);
  }

  function clock(epoch) {
    var date = new Date(epoch * 1000);
    var node = text(date.toISOString().slice(11, 19), "time");
    node.setAttribute("datetime", date.toISOString());
    return node;
  }

  function wanted(row) {
    var resource = table.getAttribute("data-resource");
    var identity = table.getAttribute("data-identity");
    var status = table.getAttribute("data-status");
    return (!resource || row.resource === resource) &&
      (!identity || row.identity === identity) &&
      (!status || String(row.status) === status);
  }

  function addRow(row) {
    if (!rows || !wanted(row)) return;
    var tr = document.createElement("tr");
    tr.className = "new";
    tr.setAttribute("data-id", row.id);
    tr.setAttribute("data-status", row.status === null ? "" : row.status);
    var link = text(String(row.id), "a");
    link.href = ui + "journal/" + row.id;
    cell(tr, link);
    cell(tr, clock(row.time));
    var status = cell(tr, badge(row.status));
    if (row.status === null || row.status >= 400) {
      status.appendChild(document.createTextNode(" "));
      status.appendChild(text(row.info || "", "span", "info"));
    }
    var resource = cell(tr);
    if (row.direction === "outbound") resource.appendChild(document.createTextNode("callback → "));
    resource.appendChild(text(row.resource || row.method + " " + row.path, "code"));
    cell(tr, text(row.identity || "", "code", "token"));
    cell(tr, text(row.duration_ms + " ms"));
    cell(tr, text(row.warnings.join("; ")));
    cell(tr, text(row.fault ? "rule " + row.fault.id + ": " + (row.fault.preset || row.fault.effect) : ""));
    rows.insertBefore(tr, rows.firstChild);
    while (rows.children.length > 500) rows.removeChild(rows.lastChild);
  }

  function connect() {
    var source = new EventSource(ui + "events?since=" + encodeURIComponent(since));
    source.addEventListener("open", function () { say("Live", "live"); });
    source.addEventListener("entry", function (event) {
      var row = JSON.parse(event.data);
      since = String(row.id);
      addRow(row);
      soon();
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        say("Live updates stopped; retrying in 5 s", "off");
        setTimeout(connect, 5000);
      } else {
        say("Reconnecting…", "off");
      }
    });
  }

  function copyFrom(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var note = button.parentNode.querySelector(".copied");
    var value = source.textContent;
    function done(message) { if (note) note.textContent = message; }
    function select() {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      done("Selected: press Ctrl+C to copy");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(function () { done("Copied"); }, select);
    } else {
      select();
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function () { copyFrom(button); });
  });

  if (page === "login") { say("", "off"); return; }
  say("Connecting…", "off");
  connect();
  var poll = parseInt(body.getAttribute("data-poll") || "0", 10);
  if (poll > 0) {
    setInterval(function () { if (!document.hidden) refresh(); }, poll);
  }
})();
