// llmops evals pages: running runs update in place. Any element with
// data-run-id and data-running="true" (the run page, a row of a runs
// table) polls GET /api/v1/evals/runs/{id} every second and fills its
// [data-run-progress] bars, [data-run-count] "done / total" texts,
// [data-run-errors] notes and [data-metric-mean] cards; once the run is no
// longer queued or running, the page reloads to show the final results.
(function () {
  "use strict";
  var ACTIVE = { queued: true, running: true };

  function each(root, sel, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(sel), fn);
  }
  function count(n) {
    return Number(n || 0).toLocaleString("en-US");
  }
  // Metric means are shown to three decimals; durations and dollars keep
  // the server's formatting until the reload.
  function unit(key) {
    return !/_(ms|usd)$/.test(key);
  }

  function update(el, run) {
    var done = run.done || 0, total = run.total || 0, errors = run.errors || 0;
    each(el, "[data-run-progress]", function (p) {
      p.max = Math.max(total, 1);
      p.value = done;
    });
    each(el, "[data-run-count]", function (s) {
      s.textContent = count(done) + " / " + count(total);
    });
    each(el, "[data-run-errors]", function (s) {
      s.textContent = errors ? " · " + count(errors) + (errors === 1 ? " error" : " errors") : "";
    });
    var metrics = run.metrics || {};
    each(el, "[data-metric-mean]", function (s) {
      var key = s.dataset.metricMean, v = metrics[key];
      if (typeof v === "number" && unit(key)) s.textContent = v.toFixed(3);
    });
  }

  function poll(el) {
    var url = "/api/v1/evals/runs/" + encodeURIComponent(el.dataset.runId);
    var failures = 0;
    function next(ms) { setTimeout(tick, ms); }
    function tick() {
      if (document.hidden) { next(1000); return; }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (body) {
          var run = body && body.run ? body.run : body;
          failures = 0;
          update(el, run);
          if (!ACTIVE[run.status]) {
            location.reload();
            return;
          }
          next(1000);
        })
        .catch(function () {
          // The server may be restarting: back off, up to 30 s.
          failures++;
          next(Math.min(30000, 1000 * Math.pow(2, failures)));
        });
    }
    next(1000);
  }

  each(document, '[data-run-id][data-running="true"]', poll);
})();
