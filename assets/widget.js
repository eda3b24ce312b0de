// llmops chat, shared by the Chat page and the embeddable help widget.
//
// Defines window.LLMOpsChat: the SSE reader, a safe Markdown renderer for
// answers and the conversation view (streaming, citations, feedback). The
// Chat page loads this file before chat.js. A help site embeds it as
//   <script src="https://HOST/widget.js" data-key="llmops_pk_…" async></script>
// and then, having a data-key, it also mounts a floating chat inside a
// shadow root, so no style leaks to or from the host page.
(function () {
  "use strict";
  // currentScript is only set while the file first runs.
  var script = document.currentScript || document.querySelector('script[data-key][src*="widget.js"]');

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // webURL is u when it is an http(s) address, else "": the only links
  // the widget shows are documents' public source_url.
  function webURL(u) {
    if (typeof u !== "string" || !u) return "";
    try {
      var p = new URL(u);
      return p.protocol === "https:" || p.protocol === "http:" ? p.href : "";
    } catch (e) {
      return "";
    }
  }
  function svg(p) {
    return '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">' + p + "</svg>";
  }
  var ICON = {
    up: svg('<path d="M7 10v12"/><path d="M15 5.9 14 10h5.8a2 2 0 0 1 1.9 2.6l-2.3 8a2 2 0 0 1-1.9 1.4H4a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h2.8a2 2 0 0 0 1.8-1.1L12 2a3.1 3.1 0 0 1 3 3.9z"/>'),
    down: svg('<path d="M17 14V2"/><path d="M9 18.1 10 14H4.2a2 2 0 0 1-1.9-2.6l2.3-8A2 2 0 0 1 6.5 2H20a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-2.8a2 2 0 0 0-1.8 1.1L12 22a3.1 3.1 0 0 1-3-3.9z"/>'),
    info: svg('<circle cx="12" cy="12" r="9"/><path d="M12 16v-4M12 8h.01"/>'),
    alert: svg('<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/><path d="M12 9v4M12 17h.01"/>'),
    chat: svg('<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>'),
    x: svg('<path d="M18 6 6 18M6 6l12 12"/>'),
    reset: svg('<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/>')
  };

  // ---- answers: a Markdown subset, escaped first ----
  // The only markup produced is the fixed tags below, so answer text can
  // never inject HTML. With cites known, a [n] nothing backs stays text.
  function spans(s, cites) {
    return esc(s)
      .replace(/\*\*(\S(?:[^*]*?\S)?)\*\*/g, "<strong>$1</strong>")
      .replace(/\[(\d{1,3})\]/g, function (all, n) {
        return cites && !cites[n] ? all : '<sup class="cite-sup"><button type="button" class="cite" data-testid="citation-marker" data-n="' +
          n + '" aria-label="Source ' + n + '" aria-expanded="false">' + n + "</button></sup>";
      });
  }
  function inline(s, cites) {
    var out = "", re = /`([^`]+)`/g, last = 0, m;
    while ((m = re.exec(s))) {
      out += spans(s.slice(last, m.index), cites) + "<code>" + esc(m[1]) + "</code>";
      last = re.lastIndex;
    }
    return out + spans(s.slice(last), cites);
  }

  // mergeRuns leaves one [n] group per run citing the same sources, as
  // rag/text.MergeCitationRuns does on the server: within a paragraph, or
  // the consecutive items of one list, a group that the next group
  // repeats is dropped, so a model's "A [1]. B [1]." reads "A. B [1]."
  function lineKind(l, fenced) {
    var t = l.trim();
    if (/^```/.test(t)) return "fence";
    if (fenced) return "code";
    if (!t) return "blank";
    if (/^[-*+•] /.test(t)) return "ul";
    return /^\d{1,3}[.)] /.test(t) ? "ol" : "p";
  }
  function groupKey(g) {
    var seen = {};
    return (g.match(/\d+/g) || []).map(Number).sort(function (a, b) { return a - b; })
      .filter(function (n) { return seen[n] ? false : (seen[n] = true); }).join(",");
  }
  function mergeSegment(seg) {
    var re = /(?:[ \t]*\[\d{1,3}\])+/g, gs = [], m, out = "", prev = 0, k;
    while ((m = re.exec(seg))) gs.push({ at: m.index, end: re.lastIndex, key: groupKey(m[0]) });
    for (k = 0; k + 1 < gs.length; k++) {
      if (gs[k].key !== gs[k + 1].key) continue;
      out += seg.slice(prev, gs[k].at);
      if (gs[k].at > 0 && !/\s/.test(seg[gs[k].at - 1]) && /[\p{L}\p{N}]/u.test(seg[gs[k].end] || "")) out += " ";
      prev = gs[k].end;
    }
    return out + seg.slice(prev);
  }
  function mergeRuns(text) {
    var lines = text.split("\n"), out = [], fenced = false, i = 0, j, kind, k;
    while (i < lines.length) {
      kind = lineKind(lines[i], fenced);
      if (kind === "fence") fenced = !fenced;
      if (kind !== "p" && kind !== "ol" && kind !== "ul") { out.push(lines[i++]); continue; }
      for (j = i + 1; j < lines.length; j++) {
        k = lineKind(lines[j], fenced);
        if (k !== kind && !(kind !== "p" && k === "p" && /^(  |\t)/.test(lines[j]))) break;
      }
      out.push(mergeSegment(lines.slice(i, j).join("\n")));
      i = j;
    }
    return out.join("\n");
  }

  // renderAnswer: paragraphs, numbered and bullet lists, fenced code,
  // `code`, **bold**, [n] markers, one per run (mergeRuns). Cheap enough
  // to re-run per token; an unclosed fence or ** renders as it stands
  // until the rest arrives.
  function renderAnswer(text, cites) {
    var lines = mergeRuns(String(text || "").replace(/\r\n?/g, "\n")).split("\n");
    var html = "", para = [], list = null, i, m, line;
    var inl = function (s) { return inline(s, cites); };
    function endPara() {
      if (para.length) html += "<p>" + para.map(inl).join("<br>") + "</p>";
      para = [];
    }
    function endList() {
      if (!list) return;
      html += "<" + list.tag + (list.start !== 1 ? ' start="' + list.start + '"' : "") + ">";
      list.items.forEach(function (it) { html += "<li>" + it.map(inl).join("<br>") + "</li>"; });
      html += "</" + list.tag + ">";
      list = null;
    }
    function item(tag, start, s) {
      endPara();
      if (!list || list.tag !== tag) {
        endList();
        list = { tag: tag, start: start, items: [] };
      }
      list.items.push([s]);
    }
    for (i = 0; i < lines.length; i++) {
      line = lines[i];
      if (/^\s*```/.test(line)) {
        endPara();
        endList();
        var code = [];
        for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) code.push(lines[i]);
        html += "<pre><code>" + esc(code.join("\n").replace(/\n+$/, "")) + "</code></pre>";
      } else if (!line.trim()) {
        endPara(); // a list survives blank lines between its items
      } else if ((m = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line))) {
        item("ol", +m[1], m[2]);
      } else if ((m = /^\s*[-*+•]\s+(.*)$/.exec(line))) {
        item("ul", 1, m[1]);
      } else if (list && !para.length && /^\s{2,}\S/.test(line)) {
        list.items[list.items.length - 1].push(line.trim());
      } else {
        endList();
        if ((m = /^#{1,6}\s+(.*)$/.exec(line))) {
          endPara();
          html += '<p class="md-h"><strong>' + inl(m[1]) + "</strong></p>";
        } else {
          para.push(line.trim());
        }
      }
    }
    endPara();
    endList();
    return html;
  }

  // ---- server-sent events over fetch ----

  // parseSSE returns {push(text), end()} for a text/event-stream body that
  // arrives in arbitrary pieces (events and lines split across chunks; \n,
  // \r\n or \r line ends) and calls onEvent(name, data) per event.
  // Comments (": keepalive") are skipped.
  function parseSSE(onEvent) {
    var buf = "", name = "", data = [];
    function line(l) {
      if (l === "") {
        if (data.length) onEvent(name || "message", data.join("\n"));
        name = "";
        data = [];
        return;
      }
      if (l.charAt(0) === ":") return;
      var i = l.indexOf(":"), field = i < 0 ? l : l.slice(0, i), value = i < 0 ? "" : l.slice(i + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    return {
      push: function (chunk) {
        buf += chunk;
        var re = /\r\n|\r|\n/g, last = 0, m;
        while ((m = re.exec(buf))) {
          if (m[0] === "\r" && re.lastIndex === buf.length) break; // maybe half of \r\n
          line(buf.slice(last, m.index));
          last = re.lastIndex;
        }
        buf = buf.slice(last);
      },
      end: function () {
        if (buf) line(buf.replace(/\r$/, ""));
        buf = "";
        line("");
      }
    };
  }

  // httpError reads a non-2xx answer: {"error":{"code","message"}}, and
  // Retry-After on 429.
  function httpError(res, body) {
    var j = null, e = new Error("");
    try { j = JSON.parse(body); } catch (x) { /* not JSON */ }
    var err = (j && j.error) || {}, ra = res.headers.get("Retry-After");
    e.status = res.status;
    e.code = err.code || "";
    e.message = err.message || "Something went wrong (HTTP " + res.status + ").";
    if (ra) {
      var s = /^\s*\d+\s*$/.test(ra) ? +ra : Math.ceil((Date.parse(ra) - Date.now()) / 1000);
      if (s > 0) e.retryAfter = s;
    }
    if (res.status === 429) e.message = "Too many questions — try again in " + (e.retryAfter ? e.retryAfter + " s" : "a minute");
    return e;
  }

  // reach is fetch whose failures to connect are marked network errors
  // (fetch rejects with a TypeError; CORS refusals look the same).
  function reach(url, init) {
    return fetch(url, init).catch(function (e) {
      if (e.name === "TypeError") e.network = true;
      throw e;
    });
  }

  // stream POSTs and calls onEvent per server-sent event; it rejects with
  // an httpError for non-2xx answers.
  async function stream(url, init, onEvent) {
    var res = await reach(url, init);
    if (!res.ok) throw httpError(res, await res.text().catch(function () { return ""; }));
    if (!res.body || !/text\/event-stream/i.test(res.headers.get("Content-Type") || "")) {
      throw new Error("The server's answer was not an event stream.");
    }
    var reader = res.body.getReader(), dec = new TextDecoder(), p = parseSSE(onEvent);
    for (;;) {
      var r = await reader.read().catch(function (e) {
        throw e.name === "AbortError" ? e : new Error("The connection broke before the answer was complete. Try again.");
      });
      if (r.done) break;
      p.push(dec.decode(r.value, { stream: true }));
    }
    p.push(dec.decode());
    p.end();
  }

  // ---- the conversation view ----
  //
  // conversation(o) drives a message list and a composer. o holds:
  //   log, form, input, send       elements (they may live in a shadow root)
  //   askURL, feedbackURL          endpoints; headers, credentials for fetch
  //   contactURL                   when set, an escalated answer offers to
  //                                leave contact details (the widget)
  //   detail                       heading, score, source and page in citations
  //   link(c)                      a citation's (or closest article's) URL, or nothing
  //   newTab                       links open in a new tab (the widget: the
  //                                visitor keeps the conversation)
  //   meta(done, traceID)          HTML for the line under an answer (done is
  //                                null after an error or Stop)
  //   liveBubbles                  false when the caller's list is the live region
  //   filters()                    {category: …} or null
  //   loadId(), saveId(id)         keep the conversation ID
  //   scroller                     the element that scrolls (default: the page)
  //   viewBottom()                 where the visible area ends (cards flip above)
  //   errorText(err)               replaces the message shown for an error
  //   onStart(), onReset()
  // It returns {ask(question), reset(), restore(id, turns), busy()}.
  function conversation(o) {
    var doc = o.log.ownerDocument, root = o.log.getRootNode();
    var convId = (o.loadId && o.loadId()) || "", busy = null;
    var card = null, cardFor = null, pinned = false, refocus = false, timer = 0, cardId = "cite-" + Math.random().toString(36).slice(2, 8);
    var contactLeft = {}; // conversation IDs the visitor left contact details on

    function el(tag, cls, html) {
      var e = doc.createElement(tag);
      e.className = cls;
      if (html) e.innerHTML = html;
      return e;
    }
    function scroller() { return o.scroller || doc.scrollingElement; }
    function atBottom() {
      var s = scroller();
      return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
    }
    function toBottom() { var s = scroller(); s.scrollTop = s.scrollHeight; }
    // reveal scrolls e wholly into the visible area, above the composer
    // (which floats over the end of the chat page's log).
    function reveal(e) {
      var s = scroller(), r = e.getBoundingClientRect();
      var over = r.bottom + 12 - (o.viewBottom ? o.viewBottom() : innerHeight);
      if (over > 0) s.scrollTop += over;
    }
    function saveId(id) {
      if (!id || id === convId) return;
      convId = id;
      if (o.saveId) o.saveId(id);
    }
    function setBusy(c) {
      busy = c;
      o.send.textContent = c ? "Stop" : "Send";
      o.send.classList.toggle("stop", !!c);
      o.send.setAttribute("aria-label", c ? "Stop the answer" : "Send question");
    }
    function errText(err) {
      if (err && err.network) {
        err.message = "Could not reach the server. Check the connection and try again.";
      }
      return (o.errorText && o.errorText(err)) || (err && err.message) || "Something went wrong. Try again.";
    }
    function anchor(href, cls, inner) {
      return "<a" + (cls ? ' class="' + cls + '"' : "") + ' href="' + esc(href) + '"' + (o.newTab ? ' target="_blank" rel="noopener"' : "") + ">" + inner + "</a>";
    }
    function button(cls, id, label, inner) {
      return '<button type="button" class="' + cls + '" data-testid="' + id + '" title="' + label + '" aria-label="' + label +
        '" aria-pressed="false">' + inner + "</button>";
    }

    // turn is one question and its answer bubble.
    function turn(q, onSettle) {
      var user = el("div", "msg user", '<div class="bubble"></div>');
      user.firstChild.textContent = q;
      var art = el("article", "msg assistant", '<div class="answer-body" aria-busy="true"' + (o.liveBubbles === false ? "" : ' aria-live="polite"') +
        '><span class="thinking"><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span> Searching the docs…</span></div>');
      art.setAttribute("data-testid", "chat-answer");
      art.setAttribute("data-state", "streaming");
      var body = art.firstChild, text = "", cites = null, list = [], trace = "", frame = 0, state = "streaming";

      function draw() {
        cancelAnimationFrame(frame);
        frame = 0;
        var stick = atBottom();
        body.innerHTML = renderAnswer(text, cites);
        if (stick) toBottom();
      }
      function later() { if (!frame) frame = requestAnimationFrame(draw); }
      function setCites(a) {
        list = Array.isArray(a) ? a : [];
        cites = {};
        list.forEach(function (c) { cites[c.n] = c; });
        art.llmCites = cites;
      }
      function setTrace(id) {
        if (!id) return;
        trace = id;
        art.setAttribute("data-trace-id", id);
      }
      // settle ends the stream's part of the turn; finish follows once the
      // notes, sources and footer are in, keeping the latest in view.
      var stick = false;
      function settle(s) {
        stick = atBottom();
        state = s;
        onSettle();
        art.setAttribute("data-state", s);
        body.setAttribute("aria-busy", "false");
        if (text) draw();
        else body.innerHTML = "";
      }
      function finish() { if (stick) toBottom(); }
      function foot(d, pre) {
        var m = (pre || "") + (o.meta ? o.meta(d, trace) || "" : "");
        if (!m && !(d && trace)) return;
        var f = art.appendChild(el("div", "answer-foot"));
        if (d && trace) feedback(f);
        if (m) f.appendChild(el("div", "meta", m));
      }

      function onEvent(name, data) {
        if (state !== "streaming") return;
        var d;
        try { d = JSON.parse(data); } catch (e) { return; }
        if (name === "meta") {
          setTrace(d.trace_id);
          saveId(d.conversation_id);
        } else if (name === "token") {
          text += d.text || "";
          later();
        } else if (name === "citations") {
          setCites(d.citations);
          later();
        } else if (name === "done") {
          setTrace(d.trace_id);
          saveId(d.conversation_id);
          setCites(d.citations || list);
          // done.answer is authoritative: the groundedness check may have
          // replaced what streamed with the fallback.
          if (typeof d.answer === "string") text = d.answer;
          settle("done");
          if (d.fallback) {
            art.classList.add("is-fallback");
            var note = art.insertBefore(el("div", "fallback-note", ICON.info +
              "<span><strong>The docs don't cover this</strong> — flagged for a human</span>"), body);
            note.setAttribute("data-testid", "chat-fallback");
            if (Array.isArray(d.closest)) closest(d.closest);
          }
          if (list.length) sources();
          foot(d);
          if (d.escalated && o.contactURL && !contactLeft[convId]) contact();
          finish();
        } else if (name === "error") {
          fail(d.error || {}, d.trace_id);
        }
      }

      function fail(err, id) {
        setTrace(id);
        settle("error");
        var box = art.appendChild(el("div", "chat-error", ICON.alert + "<span></span>"));
        box.setAttribute("data-testid", "chat-error");
        box.setAttribute("role", "alert");
        box.lastChild.textContent = errText(err);
        foot(null);
        finish();
      }

      function stop() {
        if (state !== "streaming") return;
        settle("done");
        art.setAttribute("data-stopped", "true");
        foot(null, "<span>Stopped</span>");
        finish();
      }

      function sources() {
        var h = '<div class="sources-title">Sources</div><ol>';
        list.forEach(function (c) {
          var href = o.link && o.link(c), t = esc(c.title || c.source || "Untitled");
          var where = o.detail ? [c.source, c.page > 0 ? "p. " + c.page : ""].filter(Boolean).join(" · ") : "";
          h += '<li data-n="' + esc(c.n) + '"><span class="src-n">' + esc(c.n) + "</span>" +
            (href ? anchor(href, "src-title", t) : '<span class="src-title">' + t + "</span>") +
            (where ? '<span class="src-where">' + esc(where) + "</span>" : "") +
            (o.detail && c.held ? '<span class="badge error" data-testid="citation-held" title="' + esc(c.held) +
              '">held from the widget</span>' : "") + "</li>";
        });
        art.appendChild(el("div", "sources", h + "</ol>")).setAttribute("data-testid", "sources");
      }

      // closest links the articles a fallback names (“Title”) in its text
      // to where they can be opened; those it cannot find in the text are
      // listed under it.
      function closest(items) {
        if (!o.link || !items.some(function (c) { return o.link(c); })) return;
        var rest = items.filter(function (c) {
          var href = o.link(c), q = esc("“" + (c.title || "") + "”"), h = body.innerHTML;
          if (!href || !c.title || h.indexOf(q) < 0) return true;
          body.innerHTML = h.replace(q, "“" + anchor(href, "closest-link", esc(c.title)) + "”");
          return false;
        });
        var linked = body.querySelectorAll("a.closest-link");
        for (var i = 0; i < linked.length; i++) linked[i].setAttribute("data-testid", "closest-link");
        if (!rest.some(function (c) { return o.link(c); })) return;
        items = rest;
        var h = '<div class="sources-title">Closest articles</div><ol>';
        items.forEach(function (c) {
          var href = o.link(c), t = esc(c.title || "Untitled");
          h += "<li>" + (href ? anchor(href, "src-title", t) : '<span class="src-title">' + t + "</span>") + "</li>";
        });
        art.appendChild(el("div", "sources", h + "</ol>")).setAttribute("data-testid", "closest");
      }

      // contact offers, on an escalated answer only, to leave an email,
      // a name and a message (each optional) so that a person can get
      // back to the visitor; once sent, the conversation offers it no more.
      function contact() {
        var box = art.appendChild(el("div", "contact-offer"));
        box.setAttribute("data-testid", "contact-offer");
        var open = box.appendChild(el("button", "btn small", "Leave your email and we'll get back to you"));
        open.type = "button";
        open.setAttribute("data-testid", "contact-open");
        open.setAttribute("aria-expanded", "false");
        var form = null;
        open.onclick = function () {
          if (form) {
            form.hidden = !form.hidden;
            open.setAttribute("aria-expanded", String(!form.hidden));
            return;
          }
          var id = "c" + Math.random().toString(36).slice(2, 8);
          form = box.appendChild(el("form", "contact-form",
            '<p class="contact-lead">A person will read this conversation. Leave a way to reach you if you like (all optional).</p>' +
            '<label for="' + id + 'e">Email</label><input id="' + id + 'e" type="email" name="email" maxlength="254" autocomplete="email" data-testid="contact-email">' +
            '<label for="' + id + 'n">Name</label><input id="' + id + 'n" type="text" name="name" maxlength="100" autocomplete="name" data-testid="contact-name">' +
            '<label for="' + id + 'm">Message</label><textarea id="' + id + 'm" name="message" rows="2" maxlength="2000" data-testid="contact-message"></textarea>' +
            '<div class="fb-actions"><button type="submit" class="btn small primary" data-testid="contact-send">Send</button>' +
            '<button type="button" class="btn small link">Cancel</button></div><span class="fb-note" role="status" data-testid="contact-note"></span>'));
          open.setAttribute("aria-expanded", "true");
          open.setAttribute("aria-controls", id);
          form.id = id;
          form.querySelector(".link").onclick = function () {
            form.hidden = true;
            open.setAttribute("aria-expanded", "false");
            open.focus();
          };
          form.onsubmit = function (e) {
            e.preventDefault();
            var f = form.elements, note = form.querySelector(".fb-note");
            var body = { conversation_id: convId, email: f.email.value.trim(), name: f.name.value.trim(), message: f.message.value.trim() };
            if (!body.email && !body.name && !body.message) {
              note.textContent = "Leave an email, a name or a message.";
              return;
            }
            var bs = form.querySelectorAll("button");
            bs.forEach(function (b) { b.disabled = true; });
            note.textContent = "";
            reach(o.contactURL, {
              method: "POST",
              headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, o.headers),
              credentials: o.credentials || "same-origin",
              body: JSON.stringify(body)
            }).then(function (res) {
              if (!res.ok) return res.text().then(function (t) { throw httpError(res, t); });
              contactLeft[body.conversation_id] = true;
              box.innerHTML = '<span class="thanks" role="status" data-testid="contact-thanks">✓ Thanks. We\'ll get back to you' +
                (body.email ? " at " + esc(body.email) : "") + ".</span>";
            }).catch(function (err) {
              bs.forEach(function (b) { b.disabled = false; });
              note.textContent = "Not sent: " + errText(err);
            });
          };
          form.querySelector("input").focus({ preventScroll: true });
          reveal(form);
        };
      }

      // feedback: thumbs up sends at once; thumbs down first offers an
      // optional comment.
      function feedback(f) {
        var box = f.appendChild(el("div", "feedback", '<div class="thumbs" role="group" aria-label="Was this answer helpful?">' +
          button("icon-btn", "thumbs-up", "Helpful", ICON.up) + button("icon-btn", "thumbs-down", "Not helpful", ICON.down) +
          '</div><span class="fb-note" role="status"></span>'));
        var up = box.querySelector('[data-testid="thumbs-up"]'), down = box.querySelector('[data-testid="thumbs-down"]');
        var note = box.lastChild, form = null;
        function press(b) {
          up.setAttribute("aria-pressed", String(b === up));
          down.setAttribute("aria-pressed", String(b === down));
        }
        function send(value, comment) {
          var bs = art.querySelectorAll(".feedback button, .feedback-form button");
          bs.forEach(function (b) { b.disabled = true; });
          note.textContent = "";
          reach(o.feedbackURL, {
            method: "POST",
            headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, o.headers),
            credentials: o.credentials || "same-origin",
            body: JSON.stringify({ trace_id: trace, value: value, comment: comment || "" })
          }).then(function (res) {
            if (!res.ok) return res.text().then(function (t) { throw httpError(res, t); });
            box.innerHTML = '<span class="thanks" role="status" data-testid="feedback-thanks">✓ Thanks for the feedback</span>';
            if (form) form.remove();
          }).catch(function (err) {
            bs.forEach(function (b) { b.disabled = false; });
            note.textContent = "Feedback not sent: " + errText(err);
          });
        }
        up.onclick = function () {
          press(up);
          if (form) form.hidden = true;
          send(1);
        };
        down.onclick = function () {
          press(down);
          if (!form) {
            var label = "What was wrong or missing? (optional)";
            form = art.appendChild(el("form", "feedback-form", '<textarea rows="2" maxlength="2000" data-testid="feedback-comment" aria-label="' +
              label + '" placeholder="' + label + '"></textarea><div class="fb-actions"><button type="submit" class="btn small primary" ' +
              'data-testid="feedback-send">Send</button><button type="button" class="btn small link">Cancel</button></div>'));
            var ta = form.firstChild;
            form.querySelector(".link").onclick = function () {
              form.hidden = true;
              press(null);
              down.focus();
            };
            ta.onkeydown = function (e) {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                form.requestSubmit();
              }
            };
            form.onsubmit = function (e) {
              e.preventDefault();
              send(-1, ta.value.trim());
            };
          }
          form.hidden = false;
          form.firstChild.focus({ preventScroll: true });
          reveal(form);
        };
      }

      return { user: user, art: art, onEvent: onEvent, fail: fail, stop: stop, state: function () { return state; } };
    }

    function ask(question) {
      var q = String(question || "").trim();
      if (!q || busy) return;
      if (o.onStart) o.onStart();
      hideCard();
      var ctrl = new AbortController(), body = { question: q }, f = o.filters && o.filters();
      // The composer is free again as soon as the answer settles (done,
      // error or Stop), even if the connection lingers.
      var t = turn(q, function () {
        if (busy !== ctrl) return; // reset() started afresh meanwhile
        setBusy(null);
        var a = root.activeElement;
        if (a === doc.body || o.form.contains(a)) o.input.focus();
      });
      o.log.appendChild(t.user);
      o.log.appendChild(t.art);
      toBottom();
      setBusy(ctrl);
      if (convId) body.conversation_id = convId;
      if (f) body.filters = f;
      stream(o.askURL, {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json", Accept: "text/event-stream" }, o.headers),
        credentials: o.credentials || "same-origin",
        body: JSON.stringify(body),
        signal: ctrl.signal
      }, t.onEvent).then(function () {
        if (t.state() === "streaming") t.fail({ message: "The connection closed before the answer was complete. Try again." });
      }, function (err) {
        if (err && err.name === "AbortError") t.stop();
        else t.fail(err);
      });
    }

    function reset() {
      var b = busy;
      setBusy(null);
      if (b) b.abort();
      hideCard();
      o.log.textContent = "";
      convId = "";
      if (o.saveId) o.saveId("");
      if (o.onReset) o.onReset();
    }

    // ---- citation cards: hover, focus or click a [n] marker ----
    function hideCard() {
      clearTimeout(timer);
      var b = cardFor;
      if (!b) return;
      cardFor = null; // first: removing the card may blur its link, which calls back here
      pinned = false;
      b.setAttribute("aria-expanded", "false");
      card.remove();
    }
    function hideLater() {
      clearTimeout(timer);
      if (!pinned) timer = setTimeout(hideCard, 250);
    }
    function showCard(b, pin) {
      var art = b.closest('[data-testid="chat-answer"]'), c = art && art.llmCites && art.llmCites[b.getAttribute("data-n")];
      clearTimeout(timer);
      if (!c) return;
      if (cardFor !== b) hideCard();
      if (!card) {
        card = el("div", "cite-card");
        card.id = cardId;
        card.setAttribute("data-testid", "citation-card");
        card.setAttribute("role", "group");
        card.onmouseenter = function () { clearTimeout(timer); };
        card.onmouseleave = hideLater;
      }
      var href = o.link && o.link(c);
      card.setAttribute("aria-label", "Source " + c.n);
      card.innerHTML = '<div class="cite-title"><span class="src-n">' + esc(c.n) + "</span> " + esc(c.title || c.source || "Untitled") + "</div>" +
        (o.detail && c.heading ? '<div class="cite-heading">' + esc(c.heading) + "</div>" : "") +
        (c.snippet ? '<div class="cite-snippet">' + esc(c.snippet) + "</div>" : "") +
        (o.detail || href ? '<div class="cite-foot"><span class="num">' + (o.detail && typeof c.score === "number" ? "score " + c.score.toFixed(2) : "") +
          "</span>" + (href ? anchor(href, "", o.detail ? "Open document →" : "Open article →") : "") + "</div>" : "");
      if (cardFor !== b) b.parentNode.after(card); // right after the marker, so Tab reaches the link
      cardFor = b;
      pinned = pinned || pin;
      b.setAttribute("aria-expanded", "true");
      b.setAttribute("aria-controls", cardId);
      // Below the marker, or above it when that runs out of view.
      var br = b.closest(".answer-body").getBoundingClientRect(), mr = b.getBoundingClientRect();
      var w = card.offsetWidth, h = card.offsetHeight, top = mr.bottom - br.top + 6;
      if (mr.bottom + h + 6 > (o.viewBottom ? o.viewBottom() : innerHeight) && mr.top - h - 6 > 0) top = mr.top - br.top - h - 6;
      card.style.left = Math.max(0, Math.min(mr.left - br.left - 12, br.width - w)) + "px";
      card.style.top = top + "px";
    }
    function cite(e) { return e.target.closest && e.target.closest(".cite"); }
    o.log.addEventListener("mouseover", function (e) {
      var b = cite(e);
      if (b) showCard(b, false);
    });
    o.log.addEventListener("mouseout", function (e) {
      if (cite(e) && cite(e) === cardFor && !card.contains(e.relatedTarget)) hideLater();
    });
    o.log.addEventListener("focusin", function (e) {
      var b = cite(e);
      if (b && !refocus) showCard(b, false);
    });
    o.log.addEventListener("focusout", function (e) {
      var to = e.relatedTarget;
      if (!cardFor || (to && (to === cardFor || card.contains(to)))) return;
      if (!to && (pinned || card.matches(":hover"))) return; // Safari does not focus clicked links
      hideCard();
    });
    o.log.addEventListener("click", function (e) {
      var b = cite(e);
      if (!b) return;
      if (b === cardFor && pinned) hideCard();
      else showCard(b, true);
    });
    o.log.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || !cardFor) return;
      var b = cardFor;
      hideCard();
      refocus = true; // back on the marker without opening the card again
      b.focus();
      refocus = false;
      e.stopPropagation();
    });
    root.addEventListener("click", function (e) {
      if (cardFor && !card.contains(e.target) && !cite(e)) hideCard();
    });
    window.addEventListener("resize", hideCard);

    // ---- composer: Enter sends, Shift+Enter is a new line ----
    function grow() {
      o.input.style.height = "auto";
      o.input.style.height = Math.min(o.input.scrollHeight + 2, 200) + "px";
    }
    function submit() {
      var q = o.input.value.trim();
      if (!q) return;
      o.input.value = "";
      grow();
      ask(q);
    }
    o.input.addEventListener("input", grow);
    function sends(e) { return e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229; }
    o.input.addEventListener("keydown", function (e) {
      if (!sends(e)) return;
      e.preventDefault();
      if (!busy) submit();
    });
    // Synthetic key events (test drivers) send the newline as a separate
    // keypress that the keydown's preventDefault does not stop.
    o.input.addEventListener("keypress", function (e) {
      if (sends(e)) e.preventDefault();
    });
    o.form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) busy.abort();
      else submit();
    });
    setBusy(null);

    // restore renders the turns of a past conversation (done events as
    // the server recorded them) and goes on with it.
    function restore(id, turns) {
      convId = id || "";
      (turns || []).forEach(function (d) {
        var t = turn(d.question, function () {});
        o.log.appendChild(t.user);
        o.log.appendChild(t.art);
        t.onEvent("done", JSON.stringify(Object.assign({}, d, { conversation_id: convId })));
      });
      toBottom();
    }

    return { ask: ask, reset: reset, restore: restore, busy: function () { return !!busy; } };
  }

  var LC = window.LLMOpsChat = window.LLMOpsChat || {};
  LC.escape = esc;
  LC.renderAnswer = renderAnswer;
  LC.parseSSE = parseSSE;
  LC.stream = stream;
  LC.conversation = conversation;

  // ---- the embeddable widget ----

  var CSS = ":host{all:initial!important}" +
    ".w{--bg:#fff;--surface:#fff;--surface-2:#f1f2f4;--border:#e3e4e8;--border-strong:#cfd1d7;--text:#1b1d22;--text-2:#5b606b;--text-3:#676c78;" +
    "--accent:var(--lw-accent,#4f46e5);--accent-text:var(--lw-accent-text,#fff);--accent-soft:color-mix(in srgb,var(--accent) 14%,var(--bg));" +
    "--ok:#15803d;--error:#c0262d;--error-soft:#fdecec;--neutral-soft:#f0f1f3;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;" +
    "font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--text)}" +
    "@media (prefers-color-scheme:dark){.w{--bg:#171a21;--surface:#1e222b;--surface-2:#262b35;--border:#2a2f3a;--border-strong:#3a404d;" +
    "--text:#e7e9ee;--text-2:#a3a9b6;--text-3:#8b92a0;--ok:#4ade80;--error:#f87171;--error-soft:#341717;--neutral-soft:#22262e}}" +
    "*{box-sizing:border-box}button,textarea{font:inherit;color:inherit}" +
    ":focus-visible{outline:2px solid var(--accent);outline-offset:2px}" +
    ".icon{width:16px;height:16px;flex:none;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".launcher,.panel{position:fixed;right:20px;z-index:2147483000}.left .launcher,.left .panel{right:auto;left:20px}" +
    ".launcher{bottom:20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;background:var(--accent);color:var(--accent-text);" +
    "box-shadow:0 4px 16px rgba(0,0,0,.25);display:grid;place-items:center}.launcher .icon{width:24px;height:24px}" +
    ".panel{bottom:88px;width:380px;max-width:calc(100vw - 32px);height:min(600px,calc(100vh - 112px));display:flex;flex-direction:column;" +
    "background:var(--bg);border:1px solid var(--border);border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden}" +
    ".panel[hidden]{display:none}" +
    "header{display:flex;align-items:center;gap:4px;padding:8px 8px 8px 16px;border-bottom:1px solid var(--border)}" +
    "h2{flex:1;margin:0;font-size:15px;font-weight:600}" +
    ".log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:12px;overscroll-behavior:contain}" +
    ".composer{display:flex;gap:8px;align-items:flex-end;padding:8px;border-top:1px solid var(--border)}" +
    "textarea{flex:1;resize:none;min-height:36px;max-height:160px;padding:7px 10px;border:1px solid var(--border-strong);border-radius:6px;background:var(--surface)}" +
    "textarea:focus{outline:none;border-color:var(--accent)}" +
    ".btn{padding:7px 14px;border-radius:6px;border:1px solid var(--border-strong);background:var(--surface);font-weight:600;font-size:13px;cursor:pointer}" +
    ".btn.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text)}" +
    ".btn.stop{background:var(--surface);color:var(--text);border-color:var(--border-strong)}" +
    ".btn.small{padding:3px 10px;font-size:12px}.btn.link{border:0;background:none;color:var(--text-2);font-weight:400}.btn:disabled{opacity:.6}" +
    ".icon-btn{display:inline-grid;place-items:center;width:28px;height:28px;border:0;border-radius:6px;background:none;color:var(--text-2);cursor:pointer}" +
    ".icon-btn:hover{background:var(--surface-2);color:var(--text)}.icon-btn[aria-pressed=true]{color:var(--accent);background:var(--accent-soft)}" +
    ".msg.user{align-self:flex-end;max-width:85%;background:var(--accent);color:var(--accent-text);padding:8px 12px;border-radius:12px 12px 4px 12px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".msg.assistant{background:var(--surface);border:1px solid var(--border);border-radius:12px 12px 12px 4px;padding:8px 12px}" +
    ".answer-body{position:relative;overflow-wrap:anywhere}.answer-body:empty{display:none}" +
    ".answer-body p,.answer-body ol,.answer-body ul,.answer-body pre{margin:0 0 8px}.answer-body>:last-child{margin-bottom:0}" +
    ".answer-body ol,.answer-body ul{padding-left:20px}" +
    "code{font-family:var(--mono);font-size:.9em;background:var(--surface-2);padding:1px 4px;border-radius:4px}" +
    "pre{background:var(--surface-2);padding:8px;border-radius:6px;overflow-x:auto}pre code{padding:0}" +
    ".thinking{color:var(--text-3);display:inline-flex;gap:8px;align-items:center}.dots{display:inline-flex;gap:3px}" +
    ".dots i{width:5px;height:5px;border-radius:50%;background:currentColor;animation:b 1s infinite}" +
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}@keyframes b{50%{opacity:.2}}" +
    "@media (prefers-reduced-motion:reduce){.dots i{animation:none}}" +
    ".cite-sup{line-height:0}.cite{font:600 10px/1 var(--mono);min-width:16px;height:16px;padding:0 3px;margin:0 1px;border-radius:4px;" +
    "border:1px solid var(--border-strong);background:var(--surface-2);color:var(--accent);cursor:pointer}" +
    ".cite[aria-expanded=true]{background:var(--accent);color:var(--accent-text)}" +
    ".cite-card{position:absolute;z-index:5;width:min(300px,100%);padding:8px 12px;background:var(--surface);border:1px solid var(--border-strong);" +
    "border-radius:8px;box-shadow:0 6px 24px rgba(0,0,0,.18);font-size:13px;line-height:1.45}" +
    ".cite-title{font-weight:600}.cite-snippet{color:var(--text-2);margin-top:4px;display:-webkit-box;-webkit-line-clamp:5;-webkit-box-orient:vertical;overflow:hidden}" +
    ".src-n{font:600 11px var(--mono);color:var(--text-3);margin-right:6px}" +
    ".sources{margin-top:8px;padding-top:8px;border-top:1px solid var(--border);font-size:13px}" +
    ".sources-title{font-size:12px;font-weight:600;color:var(--text-2)}.sources ol{list-style:none;margin:0;padding:0}" +
    ".sources a,.cite-foot a{color:var(--accent)}.cite-foot{margin-top:4px;font-size:12px}" +
    ".answer-foot{display:flex;align-items:center;gap:8px;margin-top:8px;flex-wrap:wrap;font-size:12px;color:var(--text-3)}" +
    ".feedback,.meta{display:flex;align-items:center;gap:4px}.thanks{color:var(--ok)}.fb-note{color:var(--error)}" +
    ".feedback-form{margin-top:8px}.feedback-form textarea{width:100%;resize:vertical;background:var(--bg)}.fb-actions{display:flex;gap:8px;margin-top:4px}" +
    ".fallback-note,.chat-error{display:flex;gap:8px;padding:8px;border-radius:6px;font-size:13px}.fallback-note .icon,.chat-error .icon{margin-top:2px}" +
    ".fallback-note{margin-bottom:8px;background:var(--neutral-soft);color:var(--text-2)}" +
    ".chat-error{margin-top:4px;color:var(--error);background:var(--error-soft)}.greet{color:var(--text-2)}" +
    ".contact-offer{margin-top:8px;padding-top:8px;border-top:1px solid var(--border)}.contact-form{display:flex;flex-direction:column;gap:4px;margin-top:8px}" +
    ".contact-lead{margin:0 0 4px;font-size:13px;color:var(--text-2)}.contact-form label{font-size:12px;font-weight:600;color:var(--text-2)}" +
    ".contact-form input,.contact-form textarea{width:100%;font:inherit;padding:6px 8px;border:1px solid var(--border-strong);border-radius:6px;background:var(--bg);color:var(--text)}" +
    ".contact-form input:focus,.contact-form textarea:focus{outline:none;border-color:var(--accent)}.contact-form textarea{flex:none;resize:vertical;max-height:none}" +
    "@media (max-width:480px){.panel,.left .panel{inset:0;width:auto;max-width:none;height:auto;border:0;border-radius:0}.open .launcher{display:none}}";

  function mount() {
    var key = script && script.getAttribute("data-key");
    if (!key) return;
    var origin = new URL(script.src, location.href).origin, store = "llmops-widget:" + key;
    var opt = function (n, d) { return script.getAttribute("data-" + n) || d; };
    var title = opt("title", "Help"), color = opt("color", "");
    var greeting = opt("greeting", "Ask a question — answers come from our help articles, with their sources.");
    function warn(why) { console.warn("llmops widget on " + location.origin + ": " + why); }

    function start() {
      var host = document.getElementById("llmops-widget");
      if (host && host.shadowRoot) return; // loaded twice
      if (!host) {
        host = document.body.appendChild(document.createElement("div"));
        host.id = "llmops-widget";
      }
      var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
      if (color) host.style.setProperty("--lw-accent", color);
      if (m) { // dark text on a light accent
        var h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
        var lum = 0.299 * parseInt(h.slice(0, 2), 16) + 0.587 * parseInt(h.slice(2, 4), 16) + 0.114 * parseInt(h.slice(4), 16);
        if (lum > 170) host.style.setProperty("--lw-accent-text", "#111");
      }
      var root = host.attachShadow({ mode: "open" });
      root.innerHTML = "<style>" + CSS + '</style><div class="w' + (opt("position", "right") === "left" ? " left" : "") + '">' +
        '<section class="panel" id="panel" data-testid="widget-panel" role="dialog" aria-labelledby="w-title" hidden>' +
        '<header><h2 id="w-title">' + esc(title) + "</h2>" +
        '<button type="button" class="icon-btn" data-testid="chat-new" title="New conversation" aria-label="New conversation">' + ICON.reset + "</button>" +
        '<button type="button" class="icon-btn" data-close title="Close" aria-label="Close">' + ICON.x + "</button></header>" +
        '<div class="log" aria-live="polite" aria-label="Conversation"></div>' +
        '<form class="composer"><textarea rows="1" maxlength="2000" data-testid="chat-input" aria-label="Your question" placeholder="Ask a question…"></textarea>' +
        '<button type="submit" class="btn primary" data-testid="chat-send">Send</button></form></section>' +
        '<button type="button" class="launcher" data-testid="widget-bubble" aria-label="' + esc(title) +
        '" aria-expanded="false" aria-controls="panel">' + ICON.chat + "</button></div>";
      var $ = function (s) { return root.querySelector(s); };
      var w = $(".w"), panel = $(".panel"), log = $(".log"), input = $("textarea"), launcher = $(".launcher");

      function greet() {
        if (greeting) log.innerHTML = '<div class="msg assistant greet"><div class="answer-body"><p>' + esc(greeting) + "</p></div></div>";
      }
      function open(on, focus) {
        panel.hidden = !on;
        w.classList.toggle("open", on);
        launcher.setAttribute("aria-expanded", String(on));
        if (on && focus) input.focus();
      }
      function close() {
        open(false);
        launcher.focus();
      }
      var conv = conversation({
        log: log, form: $("form"), input: input, send: $('[data-testid="chat-send"]'),
        askURL: origin + "/api/v1/widget/ask/stream",
        feedbackURL: origin + "/api/v1/widget/feedback",
        contactURL: origin + "/api/v1/widget/contact",
        headers: { Authorization: "Bearer " + key },
        credentials: "omit",
        link: function (c) { return webURL(c.source_url); },
        newTab: true,
        liveBubbles: false,
        scroller: log,
        viewBottom: function () { return log.getBoundingClientRect().bottom; },
        loadId: function () {
          try { return sessionStorage.getItem(store); } catch (e) { return ""; }
        },
        saveId: function (id) {
          try {
            if (id) sessionStorage.setItem(store, id);
            else sessionStorage.removeItem(store);
          } catch (e) { /* storage blocked: the conversation lasts as long as the page */ }
        },
        onReset: greet,
        errorText: function (err) {
          if (err.status === 401) {
            warn("the widget key was not accepted (revoked or mistyped)");
            return "This help chat is not set up correctly: its key was not accepted.";
          }
          if (err.status === 403) {
            warn("this origin is not allowed for the widget key; add it in llmops under Settings → Chat widget");
            return "This widget is not allowed on this site.";
          }
          if (err.network) {
            warn("could not reach " + origin + "; if the browser reports a CORS error, check the key's allowed origins");
            return "Can't reach the help service right now. Try again later.";
          }
        }
      });
      greet();
      launcher.onclick = function () { open(panel.hidden, true); };
      $("[data-close]").onclick = close;
      $('[data-testid="chat-new"]').onclick = function () {
        conv.reset();
        input.focus();
      };
      root.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && !panel.hidden) close();
      });
      if (opt("open", "") === "true") open(true, false);
    }
    // Check the key and this site before showing anything: a visitor
    // should never get a bubble that can only fail. Refusals are for the
    // site's owner, in the console; a busy or failing server still gets
    // the bubble (its answers say what went wrong).
    function ready() {
      if (document.body) start();
      else document.addEventListener("DOMContentLoaded", start);
    }
    reach(origin + "/api/v1/widget/config", { method: "POST", headers: { Authorization: "Bearer " + key }, credentials: "omit" }).then(function (res) {
      if (res.status === 401) warn("the widget key was not accepted (revoked or mistyped); the widget stays hidden");
      else if (res.status === 403) warn("this origin is not allowed for the widget key; add it in llmops under Settings → Chat widget. The widget stays hidden");
      else ready();
    }, function () {
      warn("could not reach " + origin + " (if the browser reports a CORS error, check the key's allowed origins); the widget stays hidden");
    });
  }
  mount();
})();
