package cli

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"llmops/evals/review"
	"llmops/server"
	"llmops/server/client"
	"llmops/store"
)

var reviewReportCmd = &command{
	name: "review report", short: "print a week's review report (failing question clusters, gaps, verdicts, agreement)",
	long: `Print the weekly review report of --week (default: this week, e.g. 2026-W50)
as Markdown (--format md) or JSON (--format json): the 20 most common failing
question clusters, knowledge gaps, documents cited in failing answers, verdicts
and causes by prompt version, thumbs and escalations per day, reviewer
agreement (Cohen's kappa) and progress. From a data dir no server holds
(--data) or a running server (--server, a viewer key).`,
	run: runReviewReport,
}

func runReviewReport(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, false)
	week := fs.String("week", store.ISOWeek(time.Now()), "ISO week, e.g. 2026-W50")
	format := fs.String("format", "md", "md or json")
	serverURL := fs.String("server", "", "URL of a running llmops serve")
	apiKey := apiKeyFlag(fs, env, "viewer")
	if err := cmd.parse(env, fs, args, false); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if *format != "md" && *format != "json" {
		return usagef("--format must be md or json")
	}
	if _, err := store.ParseISOWeek(*week); err != nil {
		return usagef("--week must look like 2026-W50")
	}
	var r review.Report
	if *serverURL != "" {
		if apiKey.Value() == "" {
			return usagef("--server needs --api-key (or LLMOPS_API_KEY)")
		}
		if err := client.New(*serverURL, apiKey.Value()).Get(ctx, "/api/v1/review/report?week="+url.QueryEscape(*week), &r); err != nil {
			return err
		}
	} else {
		a, err := app.open(ctx, env, server.AppOptions{})
		if err != nil {
			return err
		}
		rep, err := review.BuildReport(ctx, a.Store, a.Knowledge.EmbedTexts, *week)
		if cerr := a.Close(context.WithoutCancel(ctx)); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		r = *rep
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(&r)
	}
	return r.Markdown(env.Stdout)
}
