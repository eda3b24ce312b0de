// Chat page: wires the composer, suggested questions, category filter and
// "New conversation" to the conversation view in widget.js
// (window.LLMOpsChat), so the page and the embeddable widget share one SSE
// reader, one answer renderer and one feedback flow. Staff details live
// here: the meta line (latency, groundedness or "quoted", relevance,
// model), document links and "View trace".
(function () {
  "use strict";
  var page = document.getElementById("chat"), LC = window.LLMOpsChat;
  if (!page || !LC) return;
  var esc = LC.escape;
  function $(id) { return document.getElementById(id); }
  var empty = $("chat-empty"), input = $("chat-input"), form = $("chat-form"), category = $("chat-category");
  var traces = page.getAttribute("data-traces") === "true";

  function latency(ms) {
    if (!(ms > 0)) return "--";
    if (ms < 1000) return Math.round(ms) + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + "s";
    return Math.floor(ms / 60000) + "m " + Math.floor((ms % 60000) / 1000) + "s";
  }

  // groundedness: the sign and number carry the meaning; colour repeats it.
  // The bands derive from the server's threshold, as ui.GroundednessBand's:
  // below it ✕, in the lower half of the rest ⚠, above ✓.
  var threshold = parseFloat(page.getAttribute("data-threshold"));
  if (!(threshold >= 0 && threshold <= 1)) threshold = 0.6;
  function groundedness(g) {
    var pct = Math.round(g * 100);
    var k = g >= threshold + (1 - threshold) / 2 ? ["ok", "✓"] : g >= threshold ? ["warn", "⚠"] : ["error", "✕"];
    return '<span class="badge ' + k[0] + '" data-testid="groundedness" title="Share of the answer’s statements that the cited passages support">' +
      k[1] + " " + pct + "% grounded</span>";
  }

  // relevance: how directly the answer addresses the question, banded as
  // ui.RelevanceBand: below the floor ✕ (such answers fall back), below
  // one half ⚠, else ✓.
  var minRelevance = parseFloat(page.getAttribute("data-min-relevance"));
  if (!(minRelevance >= 0 && minRelevance <= 1)) minRelevance = 0.1;
  function relevance(r) {
    var k = r >= 0.5 ? ["ok", "✓"] : r >= minRelevance ? ["warn", "⚠"] : ["error", "✕"];
    return '<span class="badge ' + k[0] + '" data-testid="relevance" title="How directly the answer addresses the question: the question’s key terms it states, the action asked about, the kind of answer asked for">' +
      k[1] + " " + Math.round(r * 100) + "% relevant</span>";
  }
  // The extractive answerer quotes its sources, so it is 100% grounded by
  // construction: say so rather than show it as a verdict.
  function quoted() {
    return '<span class="badge neutral" data-testid="groundedness" title="The offline answerer quotes sentences from the cited sources; groundedness is 100% by construction and says nothing about whether they answer (see relevance)">Quoted from the sources</span>';
  }

  function meta(d, trace) {
    var h = [];
    if (d) {
      h.push('<span class="num"' + (d.ttft_ms > 0 ? ' title="First token after ' + latency(d.ttft_ms) + '"' : "") + ">" + latency(d.latency_ms) + "</span>");
      if (typeof d.groundedness === "number") h.push(d.model === "extractive" ? quoted() : groundedness(d.groundedness));
      if (typeof d.relevance === "number" && !d.fallback) h.push(relevance(d.relevance));
      if (d.model) h.push('<span class="model">' + esc(d.model) + "</span>");
      if (d.escalated) {
        h.push('<span class="badge neutral" data-testid="chat-escalated" title="This conversation is flagged for a person to follow up">↑ Escalated</span>');
      }
    }
    if (traces && trace) {
      h.push('<a class="view-trace" data-testid="view-trace" href="/traces/' + encodeURIComponent(trace) + '">View trace</a>');
    }
    return h.join('<span class="sep" aria-hidden="true">·</span>');
  }

  var chat = LC.conversation({
    log: $("chat-log"), form: form, input: input, send: $("chat-send"),
    askURL: "/api/v1/ask/stream",
    feedbackURL: "/api/v1/feedback",
    detail: true,
    link: function (c) {
      return c.document_id ? "/knowledge/" + encodeURIComponent(c.document_id) + (c.chunk_id ? "#chunk-" + encodeURIComponent(c.chunk_id) : "") : "";
    },
    meta: meta,
    filters: function () { return category && category.value ? { category: category.value } : null; },
    viewBottom: function () { return form.parentNode.getBoundingClientRect().top; }, // the composer's dock
    onStart: function () { empty.hidden = true; },
    onReset: function () { empty.hidden = false; }
  });

  page.addEventListener("click", function (e) {
    var s = e.target.closest('[data-testid="chat-suggestion"]');
    if (!s) return;
    chat.ask(s.getAttribute("data-question") || s.textContent);
    input.focus();
  });
  $("chat-new").addEventListener("click", function () {
    chat.reset();
    // A reopened conversation's address would reopen it on reload.
    if (location.search) history.replaceState(null, "", location.pathname);
    input.focus();
  });
  // A past conversation reopened from the history (/chat?c=ID).
  var past = $("chat-turns"), pastID = page.getAttribute("data-conversation-id");
  if (past && pastID) {
    try {
      chat.restore(pastID, JSON.parse(past.textContent));
      empty.hidden = true;
    } catch (e) { /* unreadable: the page starts afresh */ }
  }
  input.focus();
})();
