// fakestack dashboard: polls /_fakestack/ui/panels and swaps the panels in.
// Plain browser JavaScript, no library, no network beyond the fake itself.
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "/_fakestack";
  // A server started with an admin token (serve --admin-token) wants it on every admin
  // request: open the page as /_fakestack/ui?token=TOKEN and the polls send it as a header.
  var token_ = new URLSearchParams(window.location.search).get("token");
  var headers = {"Accept": "application/json"};
  if (token_) headers["X-Fakestack-Admin-Token"] = token_;
  var INTERVAL_MS = 1000;
  var $ = function (id) { return document.getElementById(id); };
  var subjectSelect = $("tree-subject");
  var operationInput = $("journal-operation");
  var outcomeSelect = $("journal-outcome");
  var live = $("live");
  var chosen = "";          // the tree subject the user picked ("" = the server's default)
  var shown = {};           // panel name -> last HTML, so an unchanged panel is not redrawn
  var subjectsKey = "";
  var namesKey = "";
  var timer = null;
  var inFlight = false;
  var token = "";           // the server's change token of the last full answer...
  var tokenQuery = null;    // ...and the query it answered

  function query() {
    var params = new URLSearchParams();
    if (chosen) params.set("tree", chosen);
    if (operationInput.value.trim()) params.set("operation", operationInput.value.trim());
    if (outcomeSelect.value) params.set("outcome", outcomeSelect.value);
    return params.toString();
  }

  function setStatus(text, ok) {
    var status = $("status");
    status.textContent = text;
    status.className = "status " + (ok ? "ok" : "down");
  }

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  function fillSubjects(subjects, current) {
    var key = JSON.stringify(subjects);
    if (key !== subjectsKey) {
      subjectsKey = key;
      subjectSelect.textContent = "";
      var groups = [["storages", "storages", "storage"], ["vms", "VMs", "vm"], ["images", "images", "image"]];
      groups.forEach(function (g) {
        var items = subjects[g[0]] || [];
        if (!items.length) return;
        var group = document.createElement("optgroup");
        var total = subjects[g[0] + "_total"];
        group.label = g[1] + (total && total > items.length ? " (first " + items.length + " of " + total + ")" : "");
        items.forEach(function (item) {
          var extra = item.kind ? " (" + item.kind.replace("_", " ") + ")" : (item.state ? " (" + item.state + ")" : "");
          group.appendChild(option(g[2] + ":" + item.uuid, item.name + extra));
        });
        subjectSelect.appendChild(group);
      });
    }
    if (current && subjectSelect.value !== current) subjectSelect.value = current;
  }

  function fillNames(names) {
    var key = names.join("\n");
    if (key === namesKey) return;
    namesKey = key;
    var list = $("operation-names");
    list.textContent = "";
    names.forEach(function (name) { list.appendChild(option(name, name)); });
  }

  function swap(name, html) {
    if (shown[name] === html) return;
    shown[name] = html;
    $(name + "-panel").innerHTML = html;
  }

  function refresh() {
    if (inFlight) return;
    inFlight = true;
    var asked = query();
    // Same question as last time: let the server answer "unchanged" if nothing moved.
    var url = base + "/ui/panels?" + asked + (asked === tokenQuery && token ? "&since=" + encodeURIComponent(token) : "");
    fetch(url, {cache: "no-store", headers: headers})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      })
      .then(function (answer) {
        if (answer.status !== 200) {
          setStatus(answer.body.message || ("error " + answer.status), false);
          return;
        }
        var data = answer.body;
        Object.keys(data.panels).forEach(function (name) { swap(name, data.panels[name]); });
        setStatus("live", true);
        if (data.unchanged) return;
        token = data.token;
        tokenQuery = asked;
        fillSubjects(data.subjects, data.tree);
        fillNames(data.operation_names || []);
        $("cloud").textContent = data.topology + " · seed " + data.seed;
      })
      .catch(function (err) { setStatus("unreachable: " + err.message, false); })
      .then(function () { inFlight = false; });
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = live.checked ? setInterval(refresh, INTERVAL_MS) : null;
    if (!live.checked) setStatus("paused", true);
  }

  subjectSelect.addEventListener("change", function () { chosen = subjectSelect.value; refresh(); });
  operationInput.addEventListener("input", refresh);
  outcomeSelect.addEventListener("change", refresh);
  live.addEventListener("change", function () { schedule(); if (live.checked) refresh(); });
  refresh();
  schedule();
})();
