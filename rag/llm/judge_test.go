package llm

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"llmops/store"
)

// judgeServer answers every request with the text of outputs[n-1] (the
// last one repeats), or 429 where that text is "429".
func judgeServer(t *testing.T, outputs ...string) *chatServer {
	return newChatServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		out := outputs[min(n, len(outputs))-1]
		if out == "429" {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "slow down")
			return
		}
		answer(w, out)
	})
}

func TestJudgeSupport(t *testing.T) {
	t.Parallel()
	srv := judgeServer(t, "```json\n[{\"i\":1,\"supported\":true},{\"i\":2,\"supported\":\"partial\"}]\n```")
	c := newTestClient(t, srv.URL, nil)
	sentences := []string{"Refunds take 5 days.", "They are free\nof charge.", "Call us anytime."}
	sources := [][]string{{"Refunds are processed within 5 business days."}, {"Refunds are processed within 5 business days.", "Fees apply."}, {" "}}
	got, err := JudgeSupport(context.Background(), c, sentences, sources)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 0.5, 0}; !slices.Equal(got, want) {
		t.Errorf("got scores %v, want %v", got, want)
	}
	body := srv.body(1)
	if body["temperature"] != float64(0) {
		t.Errorf("got temperature %v, want 0", body["temperature"])
	}
	msgs := body["messages"].([]any)
	prompt := msgs[len(msgs)-1].(map[string]any)["content"].(string)
	for _, want := range []string{"[P1] Refunds are processed", "[P2] Fees apply.", "1. Refunds take 5 days.\n   cites: P1\n",
		"2. They are free of charge.\n   cites: P1, P2\n", "sentences 1 to 2"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q:\n%s", want, prompt)
		}
	}
	if strings.Count(prompt, "Refunds are processed") != 1 || strings.Contains(prompt, "Call us") {
		t.Errorf("want each passage once and no sentence without sources:\n%s", prompt)
	}
}

func TestJudgeSupportOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		outputs  []string
		want     []float64
		wantReqs int64
	}{
		{"line form", []string{"1: yes\n2 - no"}, []float64{1, 0}, 1},
		{"partial JSON", []string{`[{"i":1,"supported":false},{"i":2,"supported":true},{"i":3,`}, []float64{0, 1}, 1},
		{"429 then 200", []string{"429", `[{"i":1,"supported":true},{"i":2,"supported":true}]`}, []float64{1, 1}, 2},
		{"garbage", []string{"As an AI, I think these are mostly fine."}, nil, 1},
		{"one verdict missing", []string{`[{"i":1,"supported":true}]`}, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := judgeServer(t, tc.outputs...)
			c := newTestClient(t, srv.URL, nil)
			got, err := JudgeSupport(context.Background(), c, []string{"A.", "B."}, [][]string{{"a"}, {"b"}})
			if tc.want == nil {
				wantCode(t, err, store.EUNAVAILABLE, "judge output could not be parsed", "m-test")
				if got != nil {
					t.Errorf("got scores %v with the error, want none", got)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !slices.Equal(got, tc.want) {
				t.Errorf("got scores %v, want %v", got, tc.want)
			}
			if n := srv.requests.Load(); n != tc.wantReqs {
				t.Errorf("got %d requests, want %d", n, tc.wantReqs)
			}
		})
	}
}

func TestJudgeSupportWithoutAsking(t *testing.T) {
	t.Parallel()
	srv := judgeServer(t, "unused")
	c := newTestClient(t, srv.URL, nil)
	got, err := JudgeSupport(context.Background(), c, []string{"A.", "B."}, [][]string{nil, {""}})
	if err != nil || !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("got %v, %v; want [0 0] and no error", got, err)
	}
	if got, err := JudgeSupport(context.Background(), c, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("no sentences: got %v, %v; want none", got, err)
	}
	if srv.requests.Load() != 0 {
		t.Errorf("got %d requests, want none", srv.requests.Load())
	}
	_, err = JudgeSupport(context.Background(), c, []string{"A."}, nil)
	wantCode(t, err, store.EINVALID, "1 sentences but 0 source lists")
}
