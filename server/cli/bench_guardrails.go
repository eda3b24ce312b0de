package cli

import (
	"context"
	"encoding/json"
	"os"

	"llmops/evals/bench"
	"llmops/rag/guard/injection"
)

var benchGuardrailsCmd = &command{
	name: "bench guardrails", args: "--data FILE.jsonl [--split NAME] [--json]", short: "precision and recall of PII detection per type and of injection detection on a labelled file",
	long: `Score the PII detector per type (EMAIL, PHONE, CARD, IBAN, SSN, IP, SECRET,
PERSON, ADDRESS) and the injection scorer on a labelled JSONL file, one
{"text", "pii":[{"type","start","end"}], "injection": bool} a line (rune
offsets; an optional "split" field with --split keeps one part). A found
span counts when it overlaps a labelled one of the same type. The
generated support-message set is rag/guard/pii/testdata/support.jsonl.
--json prints exactly one object: {"items","split","pii":{TYPE:{"tp","fp",
"fn","precision","recall","f1"}},"injection":{...}}.`,
	run: runBenchGuardrails,
}

func runBenchGuardrails(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	data := fs.String("data", "", "labelled JSONL file")
	split := fs.String("split", "", `score only lines whose "split" is this (e.g. test)`)
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if *data == "" {
		return usagef("--data is required")
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	defer f.Close()
	// The injection scorer the assistant uses (server.App.newGuardrails).
	rep, err := bench.Guardrails(f, injection.Default(), *split)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	return rep.WriteText(env.Stdout)
}
