package assistant

import (
	"context"
	"maps"

	"llmops/rag/guard"
	"llmops/rag/guard/pii"
	"llmops/store"
	"llmops/store/schema"
)

// Messages of answers the guardrails gave instead of the assistant's.
const (
	// blockedMessage answers a blocked question or a withheld answer:
	// neutral, saying neither what was found nor how to get around it.
	blockedMessage = "Sorry, I can't help with that request here. I've passed your conversation on to our team, and a person will follow up."
	// outOfScopeMessage follows the admin's scope sentence.
	outOfScopeMessage = "Your question seems to be outside what I can answer from our documentation, so I'd rather not guess."
)

// blocked answers req with msg instead of an answer: a fallback, flagged
// on the trace and, when escalate is set, escalated to a person.
func (a *Assistant) blocked(ctx context.Context, req *Request, t *tracer, convID string, reasons []string, msg string, escalate bool, emit func(Event) error) (*Result, error) {
	res := &Result{Answer: msg, Citations: []Citation{}, Fallback: true, Escalated: escalate, TraceID: t.trace.ID, ConversationID: convID,
		Guard:    &GuardSummary{Blocked: true, Flagged: true, Reasons: reasons},
		TokensIn: t.trace.TokensIn, TokensOut: t.trace.TokensOut, CostUSD: t.trace.CostUSD}
	if m, ok := t.trace.Attributes[schema.AttrResponseModel].(string); ok {
		res.Model = m
	}
	t.trace.Attributes[schema.AttrGuardBlocked] = true
	for _, piece := range pieces(res.Answer) {
		if err := emit(Event{Type: EventToken, Text: piece}); err != nil {
			return nil, err
		}
	}
	if err := emit(Event{Type: EventCitations, Citations: res.Citations}); err != nil {
		return nil, err
	}
	if convID != "" {
		turn := store.Turn{Question: req.Question, Answer: res.Answer, TraceID: t.trace.ID, Fallback: true}
		if err := a.opts.Conversations.AppendTurn(context.WithoutCancel(ctx), convID, req.Channel, owner(req.Actor), turn, escalate); err != nil {
			a.opts.Logger.Warn("ask: conversation not saved", "conversation", convID, "err", err)
		}
	}
	return res, nil
}

// summary is what the client learns of the guards' verdicts: nil when
// every guard passed.
func summary(results ...*guard.Result) *GuardSummary {
	var s GuardSummary
	for _, r := range results {
		if r == nil {
			continue
		}
		s.Blocked = s.Blocked || r.Blocked
		s.Flagged = s.Flagged || r.Flagged
		s.Reasons = append(s.Reasons, r.Reasons...)
	}
	if !s.Flagged {
		return nil
	}
	return &s
}

// verdict records one guard's verdict as a span, and on the trace when it
// did not pass.
func (t *tracer) verdict(v guard.Verdict) {
	sp := t.startAt(v.Start, schema.SpanGuardPrefix+v.Guard, schema.SpanKindGuard, "")
	sp.attrs[schema.AttrGuardMode] = string(v.Mode)
	sp.attrs[schema.AttrGuardVerdict] = string(v.Outcome)
	if len(v.Reasons) > 0 {
		sp.attrs[schema.AttrGuardReasons] = v.Reasons
	}
	switch v.Guard {
	case guard.InputInjection, guard.InputScope:
		sp.attrs[schema.AttrGuardScore] = round(v.Score)
	}
	if len(v.PII) > 0 {
		counts := map[string]int{}
		for typ, n := range pii.Counts(v.PII) {
			counts[string(typ)] = n
		}
		sp.attrs[schema.AttrGuardPII] = counts
	}
	if v.Err != nil {
		sp.attrs[schema.AttrGuardFailed] = true
	}
	t.endAt(sp, v.End, v.Err)
	if v.Outcome != guard.OutcomePass && v.Outcome != guard.OutcomeSkipped {
		g, _ := t.trace.Attributes[schema.AttrGuards].(map[string]string)
		g = maps.Clone(g)
		if g == nil {
			g = map[string]string{}
		}
		g[v.Guard] = string(v.Outcome)
		t.trace.Attributes[schema.AttrGuards] = g
	}
}

// redactOutput redacts PII in the model's text kept on the llm span, when
// the output PII guard redacts answers.
func (t *tracer) redactOutput() {
	for i := range t.spans {
		if t.spans[i].Name != schema.SpanLLM {
			continue
		}
		if s, ok := t.spans[i].Attributes[schema.AttrOutput].(string); ok {
			t.spans[i].Attributes[schema.AttrOutput], _ = pii.RedactText(s)
		}
	}
}
