// The Overview's dashboard: loads GET /api/v1/dashboard for the chosen
// window and draws the numbers, uPlot charts and knowledge gaps. Every
// point and number links to the traces behind it (the explorer's from/to
// filters); nothing here computes a metric, the server's rollups do.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) return;
  var win = root.getAttribute("data-window") || "24h";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function iso(sec) { return new Date(sec * 1000).toISOString(); }
  function tracesURL(from, to, extra) {
    var q = "kind=ask&from=" + encodeURIComponent(iso(from)) + "&to=" + encodeURIComponent(iso(to));
    return "/traces?" + q + (extra ? "&" + extra : "");
  }
  function pct(x) { return (Math.round(x * 1000) / 10) + " %"; }
  function ms(x) { return x >= 1000 ? (x / 1000).toFixed(2) + " s" : Math.round(x) + " ms"; }
  function usd(x) { return "$" + (x < 1 ? x.toFixed(4) : x.toFixed(2)); }

  function render(d) {
    var from = Date.parse(d.from) / 1000, to = Date.parse(d.to) / 1000, step = d.step_seconds;
    var nums = root.querySelector('[data-testid="dashboard-numbers"]');
    var items = [
      ["Requests", String(d.requests), ""],
      ["Error rate", pct(d.error_rate), "status=error"],
      ["Latency p50 / p95 / p99", ms(d.latency_ms.p50) + " / " + ms(d.latency_ms.p95) + " / " + ms(d.latency_ms.p99), "min_latency_ms=" + Math.floor(d.latency_ms.p95)],
      ["Time to first token p50 / p95", ms(d.ttft_ms.p50) + " / " + ms(d.ttft_ms.p95), ""],
      ["Tokens in / out", d.tokens_in + " / " + d.tokens_out, ""],
      ["Cost", usd(d.cost_usd) + " (" + usd(d.cost_per_request_usd) + " per request)", ""],
      ["Groundedness mean", d.groundedness_mean.toFixed(2), "max_groundedness=0.5"],
      ["Hallucination rate", pct(d.hallucination_rate), "status=ok&max_groundedness=0.5"],
      ["Fallback rate", pct(d.fallback_rate), "status=fallback", "Asks answered with the fallback, guard blocks included"],
      ["Guard blocks", d.guard_blocks + " (" + pct(d.guard_block_rate) + ")", "/guardrails", "Asks a guard blocked: the Guardrails page counts them per guard"],
      ["Escalation rate", pct(d.escalation_rate), "escalated=true"],
      ["Thumbs up / down", d.feedback.up + " / " + d.feedback.down, "feedback=down"],
      ["Empty / weak retrievals", pct(d.retrieval.empty_rate) + " / " + pct(d.retrieval.weak_rate), ""]
    ];
    items.forEach(function (it) {
      var a = el("a", "dash-number");
      // A value starting with "/" is a page of its own, not a traces filter.
      a.href = it[2].charAt(0) === "/" ? it[2] : tracesURL(from, to, it[2]);
      if (it[3]) a.title = it[3];
      a.setAttribute("data-testid", "dashboard-number");
      a.appendChild(el("span", "label", it[0]));
      a.appendChild(el("span", "value", it[1]));
      nums.appendChild(a);
    });

    var xs = d.series.map(function (p) { return Date.parse(p.t) / 1000; });
    var charts = root.querySelector('[data-testid="dashboard-charts"]');
    // The uPlot instances, on the section element (not a global): the
    // browser test finds a point's position through them.
    var plots = root.plots = [];
    var defs = [
      { title: "Requests, errors and guard blocks", series: [["requests", "requests", "#2563eb"], ["errors", "errors", "#dc2626"], ["guard_blocks", "guard blocks", "#b45309"]] },
      { title: "Latency p95 (ms)", series: [["latency_p95_ms", "p95 ms", "#7c3aed", true]] },
      { title: "Groundedness mean", series: [["groundedness_mean", "groundedness", "#059669", true]] },
      { title: "Cost (USD)", series: [["cost_usd", "USD", "#d97706"]] }
    ];
    // Every box first, then the plots: a box's width is known only once
    // the grid holds all of them.
    var boxes = defs.map(function (def) {
      var box = el("div", "dash-chart");
      box.setAttribute("data-testid", "dashboard-chart");
      box.appendChild(el("h3", null, def.title));
      charts.appendChild(box);
      return box;
    });
    defs.forEach(function (def, n) {
      var box = boxes[n];
      var plot = el("div", "dash-plot");
      box.appendChild(plot);
      var data = [xs].concat(def.series.map(function (s) {
        // A period without requests has no latency or groundedness: a
        // gap in the line, not a zero.
        return d.series.map(function (p) { return p.requests === 0 && s[3] ? null : p[s[0]]; });
      }));
      var width = Math.max((box.clientWidth || 320) - 8, 240);
      var u = new uPlot({
        width: width, height: 160,
        cursor: { points: { size: 7 } },
        legend: { show: true },
        series: [{}].concat(def.series.map(function (s) {
          return { label: s[1], stroke: s[2], width: 2, points: { show: xs.length < 40 } };
        })),
        axes: [{}, { size: 56 }]
      }, data, plot);
      // A click opens the traces of the period under the cursor.
      // The index comes from the click itself, not from uPlot's cursor,
      // whose cached position goes stale when the page scrolls.
      u.over.addEventListener("click", function (e) {
        var r = u.over.getBoundingClientRect();
        var i = u.posToIdx(e.clientX - r.left);
        if (i == null || i < 0 || i >= xs.length) return;
        window.location.href = tracesURL(xs[i], Math.min(xs[i] + step, to), "");
      });
      u.over.setAttribute("data-testid", "dashboard-plot");
      plots.push(u);
      u.over.title = "Click a point to open its traces";
    });

    var gaps = root.querySelector('[data-testid="dashboard-gaps"]');
    gaps.appendChild(el("h3", null, "Knowledge gaps: most asked questions that fell back"));
    if (!d.knowledge_gaps.length) {
      gaps.appendChild(el("p", "faint small", "None in this window."));
    } else {
      var ol = el("ol", "dash-gap-list");
      d.knowledge_gaps.forEach(function (g) {
        var li = el("li");
        var a = el("a", null, g.question);
        a.href = tracesURL(from, to, "status=fallback&q=" + encodeURIComponent(g.question));
        li.appendChild(a);
        li.appendChild(el("span", "faint", " × " + g.count));
        ol.appendChild(li);
      });
      gaps.appendChild(ol);
    }
    root.setAttribute("data-loaded", "true");
  }

  fetch("/api/v1/dashboard?window=" + encodeURIComponent(win), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)); })
    .then(render)
    .catch(function () {
      root.querySelector('[data-testid="dashboard-error"]').hidden = false;
    });
})();
