// Knowledge page: drag-and-drop upload with live per-file progress. The
// server streams one JSON event per line (parse → chunk → embed → index →
// done/failed) while it ingests, so every file shows where it is and why
// it failed.
(function () {
  "use strict";
  var STAGES = ["parse", "chunk", "embed", "index"];
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("file-input");
  var list = document.getElementById("upload-list");

  // Filter the table as you type, and to stale documents with the toggle
  // (delegated: the table is replaced after an upload).
  var timer;
  function filter() {
    var f = document.getElementById("doc-filter"), st = document.getElementById("stale-filter");
    var q = f ? f.value.trim().toLowerCase() : "", staleOnly = !!st && st.getAttribute("aria-pressed") === "true", shown = 0;
    document.querySelectorAll("#documents-table tbody tr").forEach(function (tr) {
      var hit = (!q || tr.dataset.search.indexOf(q) >= 0) && (!staleOnly || tr.dataset.stale === "true");
      tr.hidden = !hit;
      if (hit) shown++;
    });
    document.getElementById("doc-count").textContent = shown + (shown === 1 ? " document" : " documents");
  }
  document.addEventListener("input", function (e) {
    if (e.target.id !== "doc-filter") return;
    clearTimeout(timer);
    timer = setTimeout(filter, 150);
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("#stale-filter");
    if (!b) return;
    b.setAttribute("aria-pressed", String(b.getAttribute("aria-pressed") !== "true"));
    filter();
  });
  if (!zone) return;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function row(name) {
    var li = el("li");
    li.dataset.file = name;
    li.appendChild(el("span", "fname", name)).title = name;
    var st = el("span", "stages");
    STAGES.forEach(function (s) { st.appendChild(el("span", "stage", s)).dataset.stage = s; });
    li.appendChild(st);
    li.appendChild(el("span", "msg", "queued"));
    return li;
  }

  function update(li, ev) {
    var msg = li.querySelector(".msg");
    var idx = STAGES.indexOf(ev.stage);
    li.querySelectorAll(".stage").forEach(function (s, i) {
      s.classList.toggle("done", (idx >= 0 && i < idx) || ev.stage === "done");
      s.classList.toggle("active", i === idx);
    });
    if (idx >= 0) msg.textContent = ev.stage + "…";
    var r = ev.result;
    if (!r) return;
    msg.classList.toggle("error", r.outcome === "failed");
    if (r.outcome === "failed") {
      msg.textContent = "✕ " + r.error;
    } else {
      var words = { created: "✓ added", updated: "✓ updated", unchanged: "= unchanged", duplicate: "= duplicate of an existing document" };
      msg.textContent = (words[r.outcome] || r.outcome) + (r.chunks ? " · " + r.chunks + (r.chunks === 1 ? " chunk" : " chunks") : "");
    }
  }

  function upload(files) {
    if (!files.length) return;
    var fd = new FormData();
    var rows = {};
    list.innerHTML = "";
    Array.prototype.forEach.call(files, function (f) {
      fd.append("files", f, f.name);
      rows[f.name] = list.appendChild(row(f.name));
    });
    [["category", "up-category"], ["product_version", "up-version"], ["tags", "up-tags"]].forEach(function (m) {
      var v = document.getElementById(m[1]).value.trim();
      if (v) fd.append(m[0], v);
    });
    var bar = zone.parentNode.insertBefore(el("div", "upload-bar"), list);
    var xhr = new XMLHttpRequest();
    var seen = 0, landed = 0;
    xhr.open("POST", "/api/v1/documents");
    xhr.setRequestHeader("Accept", "application/x-ndjson");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.style.width = Math.round((e.loaded / e.total) * 100) + "%";
    };
    function consume() {
      var text = xhr.responseText;
      var end = text.lastIndexOf("\n");
      if (end < seen) return;
      text.slice(seen, end).split("\n").forEach(function (line) {
        if (!line.trim()) return;
        var ev;
        try { ev = JSON.parse(line); } catch (e) { return; }
        if (ev.summary) return;
        var li = rows[ev.file];
        if (li) update(li, ev);
        if (ev.result && ev.result.outcome !== "failed" && ev.result.outcome !== "unchanged") landed++;
      });
      seen = end + 1;
    }
    xhr.onprogress = consume;
    xhr.onload = function () {
      bar.remove();
      if (xhr.status !== 200) {
        var msg = "Upload failed (" + xhr.status + ")";
        try { msg = JSON.parse(xhr.responseText).error.message; } catch (e) { /* not JSON */ }
        Object.keys(rows).forEach(function (k) { update(rows[k], { stage: "failed", result: { outcome: "failed", error: msg } }); });
        return;
      }
      consume();
      var again = el("a", "btn small", "Reload the page");
      again.href = "/knowledge";
      list.appendChild(el("li", "done-row")).appendChild(again);
      // Show the new documents, and the header's counts, without losing
      // the upload report.
      if (landed > 0) refresh();
    };
    xhr.onerror = function () {
      bar.remove();
      Object.keys(rows).forEach(function (k) { update(rows[k], { stage: "failed", result: { outcome: "failed", error: "network error" } }); });
    };
    xhr.send(fd);
  }

  function refresh() {
    fetch("/knowledge", { headers: { Accept: "text/html" }, credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : Promise.reject(r.status);
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      ["#docs", ".page-head"].forEach(function (sel) {
        var fresh = doc.querySelector(sel), old = document.querySelector(sel);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      });
    }).catch(function () { /* the "Reload the page" link still works */ });
  }

  zone.addEventListener("click", function (e) { if (e.target.tagName !== "LABEL") input.click(); });
  zone.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", function () { upload(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { upload(e.dataTransfer.files); });
})();
