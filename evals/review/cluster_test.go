package review

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"llmops/rag/embed"
	sampledata "llmops/sample-data"
)

// paraphraseFamilies are questions customers ask in several wordings;
// each family is one thing to fix.
var paraphraseFamilies = [][]string{
	{"How do I cancel my subscription?", "I want to cancel my Rosterly subscription", "How can I cancel the subscription plan?", "cancel subscription how"},
	{"Can I get a refund for last month?", "How do refunds work?", "Will you refund me if I cancel mid-month?", "refund for unused month"},
	{"How do I connect Slack?", "Slack integration setup", "How can I connect Rosterly to Slack?", "connect slack workspace"},
	{"How do I export my data?", "Can I export all our data to CSV?", "data export how to", "export employee data"},
	{"How do I set up the time clock?", "Setting up the time clock for my team", "time clock setup steps", "how to configure the time clock"},
	{"What are the API rate limits?", "How many API requests can I make per minute?", "API rate limit per minute", "rate limits for the API"},
	{"How do shift swaps work?", "Can employees swap shifts?", "how to swap a shift with a coworker", "shift swap approval"},
	{"Does the mobile app work offline?", "Can I use the app without internet?", "offline mode in the mobile app", "mobile app offline"},
	{"How do I change my payment method?", "update credit card for billing", "How can I change the card we pay with?", "change payment method"},
	{"Do you support SSO with SCIM?", "single sign-on and SCIM provisioning", "How do I set up SSO?", "SSO setup SCIM"},
}

// sampleEmbedder learns the local embedding model from the sample help
// centre's Markdown, as a fresh install does.
func sampleEmbedder(tb testing.TB) EmbedFunc {
	tb.Helper()
	var texts []string
	err := fs.WalkDir(sampledata.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := fs.ReadFile(sampledata.FS(), path)
		texts = append(texts, string(b))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := embed.Train(context.Background(), texts, embed.TrainOptions{Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return m.EmbedDocuments
}

// TestClusterPurity groups the paraphrase families: no cluster mixes two
// families (purity), and most families stay in one cluster
// (completeness). Both are reported.
func TestClusterPurity(t *testing.T) {
	t.Parallel()
	var questions []string
	var family []int
	for f, qs := range paraphraseFamilies {
		for _, q := range qs {
			questions, family = append(questions, q), append(family, f)
		}
	}
	for _, tc := range []struct {
		name                   string
		embed                  EmbedFunc
		minPurity, minComplete float64
	}{
		{"embedder + lexical", sampleEmbedder(t), 0.95, 0.85},
		{"lexical only", nil, 0.95, 0.7},
	} {
		clusters := Cluster(context.Background(), tc.embed, questions)
		purity := Purity(clusters, family)
		// Completeness is purity with the roles swapped: families as
		// clusters, clusters as labels.
		clusterOf := make([]int, len(questions))
		for c, members := range clusters {
			for _, i := range members {
				clusterOf[i] = c
			}
		}
		byFamily := make([][]int, len(paraphraseFamilies))
		for i, f := range family {
			byFamily[f] = append(byFamily[f], i)
		}
		complete := Purity(byFamily, clusterOf)
		t.Logf("%s: %d questions in %d families → %d clusters; purity %.2f, completeness %.2f", tc.name, len(questions), len(paraphraseFamilies), len(clusters), purity, complete)
		if purity < tc.minPurity || complete < tc.minComplete {
			for _, c := range clusters {
				var qs []string
				for _, i := range c {
					qs = append(qs, questions[i])
				}
				t.Logf("  %q", qs)
			}
			t.Errorf("%s: purity %.2f (want ≥ %.2f), completeness %.2f (want ≥ %.2f)", tc.name, purity, tc.minPurity, complete, tc.minComplete)
		}
	}
}
