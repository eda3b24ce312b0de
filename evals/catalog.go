package evals

import "llmops/evals/gate"

// Metric describes one metric a run reports. docs/METRICS.md has the
// formulas; keys are stable (gates and baselines name them).
type Metric struct {
	Key           string `json:"key"`
	Label         string `json:"label"`
	Group         string `json:"group"` // retrieval, answer, judge
	Help          string `json:"help"`
	LowerIsBetter bool   `json:"lower_is_better,omitempty"`
}

// Metric groups.
const (
	GroupRetrieval = "retrieval"
	GroupAnswer    = "answer"
	GroupJudge     = "judge"
)

// Metrics lists every metric in display order.
var Metrics = []Metric{
	{"hit@1", "Hit@1", GroupRetrieval, "Share of cases whose first retrieved document is relevant", false},
	{"hit@5", "Hit@5", GroupRetrieval, "Share of cases with a relevant document in the top 5", false},
	{"recall@5", "Recall@5", GroupRetrieval, "Relevant documents in the top 5 ÷ all relevant documents", false},
	{"recall@10", "Recall@10", GroupRetrieval, "Relevant documents in the top 10 ÷ all relevant documents", false},
	{"mrr@10", "MRR@10", GroupRetrieval, "1 / rank of the first relevant document (0 beyond 10)", false},
	{"ndcg@10", "nDCG@10", GroupRetrieval, "Graded ranking quality of the top 10 (BEIR definition)", false},
	{"context_precision", "Context precision", GroupRetrieval, "Share of the answerer's context that is relevant (ID-based)", false},
	{"context_recall", "Context recall", GroupRetrieval, "Share of relevant documents that reached the answerer's context (ID-based)", false},

	{"faithfulness", "Faithfulness", GroupAnswer, "Answer sentences supported by the retrieved context ÷ all sentences", false},
	{"relevance", "Relevance", GroupAnswer, "The answer path's offline relevance score of the answers it gave (question terms stated, action direction, answer type)", false},
	{"answer_relevancy", "Answer relevancy", GroupAnswer, "Embedding similarity of question and answer (0 for a refusal of an answerable question)", false},
	{"correctness_f1", "Correctness (F1)", GroupAnswer, "Token F1 of the answer against the reference answer", false},
	{"rouge_l", "ROUGE-L", GroupAnswer, "Longest-common-subsequence F-measure against the reference answer", false},
	{"answer_similarity", "Answer similarity", GroupAnswer, "Embedding similarity of the answer and the reference answer", false},
	{"citation_precision", "Citation precision", GroupAnswer, "Cited chunks that support their sentence ÷ all citations", false},
	{"refusal_correctness", "Refusal correctness", GroupAnswer, "Unanswerable cases the assistant declined ÷ unanswerable cases", false},
	{"false_refusal", "False refusals", GroupAnswer, "Answerable cases the assistant declined ÷ answerable cases (lower is better)", true},

	{"faithfulness_llm", "Faithfulness (judge)", GroupJudge, "Judge: share of answer sentences the context supports", false},
	{"answer_relevancy_llm", "Relevancy (judge)", GroupJudge, "Judge: how directly the answer addresses the question", false},
	{"correctness_llm", "Correctness (judge)", GroupJudge, "Judge: agreement with the reference answer", false},
	{"citation_precision_llm", "Citation precision (judge)", GroupJudge, "Judge: cited chunks that support their sentence", false},
	{"refusal_llm", "Refusal (judge)", GroupJudge, "Judge: unanswerable cases the answer declined", false},
}

// MetricByKey returns the description of key; unknown keys get a bare
// entry whose direction follows gate.LowerIsBetter.
func MetricByKey(key string) Metric {
	for _, m := range Metrics {
		if m.Key == key {
			return m
		}
	}
	return Metric{Key: key, Label: key, Group: GroupAnswer, LowerIsBetter: gate.LowerIsBetter(key)}
}

// HeadlineMetrics are the runs table's columns.
var HeadlineMetrics = []string{"hit@5", "ndcg@10", "faithfulness", "relevance", "correctness_f1", "refusal_correctness"}
