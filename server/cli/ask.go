package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"llmops/rag/assistant"
	"llmops/server"
	"llmops/server/client"
	"llmops/store"
	"llmops/store/schema"
)

var askCmd = &command{
	name: "ask", args: "QUESTION", short: "answer a question from the knowledge base, with citations",
	long: `Answer a question from a data dir no server holds (--data) or from a
running server (--server, a viewer key). Offline, it answers exactly as
serve would with the same flags: the same models (LLMOPS_LLM_*), the same
--groundedness-threshold and --top-k. Either way the answer is recorded as
a trace; --json prints the object POST /api/v1/ask returns.`,
	run: runAsk,
}

func runAsk(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, true)
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := apiKeyFlag(fs, env, "viewer")
	asJSON := fs.Bool("json", false, "print the answer object as JSON")
	var req assistant.Request
	fs.StringVar(&req.Filters.Category, "category", "", "only documents of this category")
	fs.StringVar(&req.Filters.ProductVersion, "product-version", "", "only documents of this product version")
	tags := fs.String("tags", "", "only documents with one of these comma-separated tags")
	fs.StringVar(&req.ConversationID, "conversation", "", "continue this conversation (its ID from an earlier --json answer)")
	if err := cmd.parse(env, fs, args, true); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	req.Question = strings.TrimSpace(strings.Join(fs.Args(), " "))
	if *tags != "" {
		req.Filters.Tags = strings.Split(*tags, ",")
	}
	if req.Question == "" {
		return usagef("give a question, e.g. llmops ask how do I cancel my subscription")
	}
	if err := req.Validate(); err != nil {
		return usageError{err}
	}
	if *serverURL != "" {
		if apiKey.Value() == "" {
			return usagef("--server needs --api-key (or LLMOPS_API_KEY)")
		}
		if set(fs, "groundedness-threshold") {
			return usagef("--groundedness-threshold applies with --data: a server answers with its own")
		}
	}

	var res assistant.Result
	if *serverURL != "" {
		if set(fs, "top-k") {
			req.TopK = app.cfg.TopK
		}
		if err := client.New(*serverURL, apiKey.Value()).JSON(ctx, "/api/v1/ask", req, &res); err != nil {
			return err
		}
	} else {
		a, err := app.open(ctx, env, server.AppOptions{})
		if err != nil {
			return err
		}
		req.Channel, req.Actor = schema.ChannelCLI, store.Actor{Kind: store.ActorCLI, Name: cliUser(env.Getenv)}
		r, err := a.Assistant.Ask(ctx, req, nil)
		if cerr := a.Close(context.WithoutCancel(ctx)); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		res = *r
	}
	return printAnswer(env, &res, *asJSON)
}

func printAnswer(env *Env, res *assistant.Result, asJSON bool) error {
	w := env.Stdout
	if asJSON {
		if res.Citations == nil {
			res.Citations = []assistant.Citation{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintln(w, res.Answer)
	if len(res.Citations) > 0 {
		fmt.Fprintln(w, "\nSources:")
		for _, c := range res.Citations {
			where := c.Source
			if c.Page > 0 {
				where += fmt.Sprintf(", p. %d", c.Page)
			}
			fmt.Fprintf(w, "  [%d] %s (%s)\n", c.N, c.Title, where)
		}
	}
	if res.Fallback {
		fmt.Fprintln(w, "\nNot answered from the docs: flagged for a human.")
	}
	fmt.Fprintf(w, "\ngroundedness %.2f · %s · %dms · trace %s\n", res.Groundedness, res.Model, res.LatencyMS, res.TraceID)
	return nil
}

// set reports whether flag name was given on the command line.
func set(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}
