# llmops — every target works on a fresh machine with only Go installed
# (the assets target also needs npm; the vendored files are committed).
.PHONY: run build generate test check-generated lint bench fuzz assets axe screenshots clean injection-model

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ADDR ?= 127.0.0.1:8080
DATA ?= ./llmops-data

HTMX_VERSION := 2.0.11
UPLOT_VERSION := 1.6.32
AXE_VERSION := 4.14.1

run: build
	./llmops serve --addr $(ADDR) --data $(DATA)

build:
	go build -trimpath -ldflags "$(LDFLAGS)" -o llmops .

generate:
	go tool templ generate -include-version=false

# test: the README's test command; CI runs exactly this. -timeout: a test
# binary is cut at 10 minutes by default, and on a busy 2-core machine the
# biggest packages have come near that.
test: check-generated lint
	go test -race -count=1 -timeout 30m ./...

# check-generated fails when *_templ.go files do not match their .templ
# sources (it regenerates them, so commit the result).
check-generated:
	@before=$$(cat $$(find . -name '*_templ.go' -not -path './.git/*' | sort) | sha256sum); \
	go tool templ generate -include-version=false >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	after=$$(cat $$(find . -name '*_templ.go' -not -path './.git/*' | sort) | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated templ code was stale: regenerated, review and commit *_templ.go"; exit 1; fi

# lint: vet, gofmt and staticcheck (pinned in go.mod as a Go tool, like templ).
lint:
	go vet ./...
	go tool staticcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') && echo "gofmt: files above need formatting" && exit 1)

bench:
	go test -run '^$$' -bench . -benchmem -count 1 ./...

# fuzz runs every parser fuzzer for FUZZTIME each (CI runs only their seed
# corpora, as part of go test). FUZZTIME may be a count ("1000000x"); FUZZ
# picks fuzzers by a regular expression over their names. No test timeout:
# a million executions can take longer than go test's default 10 minutes.
# FUZZMINIMIZE=0 turns minimising of new inputs off (a busy machine spends
# more time restarting workers after each minimisation than fuzzing).
FUZZTIME ?= 30s
FUZZ ?= .
FUZZMINIMIZE ?= 1s
fuzz:
	for f in $$(go test -list '^Fuzz' ./rag/parse/ | grep ^Fuzz | grep -E '$(FUZZ)'); do \
	  go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -timeout 0 ./rag/parse/ || exit 1; done
	for f in $$(go test -list '^Fuzz' ./rag/chunk/ | grep ^Fuzz | grep -E '$(FUZZ)'); do \
	  go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -timeout 0 ./rag/chunk/ || exit 1; done

# assets refreshes the vendored front-end libraries from the npm registry.
assets:
	rm -rf assets/vendor/htmx assets/vendor/uplot && mkdir -p assets/vendor/htmx assets/vendor/uplot
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) uplot@$(UPLOT_VERSION) >/dev/null && \
	  mkdir h u && tar -xzf htmx.org-$(HTMX_VERSION).tgz -C h && tar -xzf uplot-$(UPLOT_VERSION).tgz -C u && \
	  cp h/package/dist/htmx.min.js h/package/LICENSE $(CURDIR)/assets/vendor/htmx/ && \
	  cp u/package/dist/uPlot.iife.min.js u/package/dist/uPlot.min.css u/package/LICENSE $(CURDIR)/assets/vendor/uplot/ && \
	  rm -rf $$tmp
	printf 'htmx.org %s\nuplot %s\n' $(HTMX_VERSION) $(UPLOT_VERSION) > assets/vendor/VERSIONS

# axe refreshes the vendored axe-core, which only the browser tests load
# (accessibility checks on every page); it is not embedded in the binary.
axe:
	rm -rf assets/vendor/axe && mkdir -p assets/vendor/axe
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz && \
	  cp package/axe.min.js package/LICENSE package/LICENSE-3RD-PARTY.txt $(CURDIR)/assets/vendor/axe/ && \
	  echo $(AXE_VERSION) > $(CURDIR)/assets/vendor/axe/VERSION && rm -rf $$tmp

# screenshots saves every page at 1440x900 and 390x844, light and dark,
# into SHOTS (git-ignored), from a fresh server with the sample data: the
# same tour the browser tests check for overflow and accessibility.
SHOTS ?= screenshots
screenshots:
	rm -rf $(SHOTS) && mkdir -p $(SHOTS)
	LLMOPS_TOUR_SHOTS=$(CURDIR)/$(SHOTS) go test -count=1 -timeout 30m -run '^TestBrowserTour$$' .
	@echo "screenshots in $(SHOTS)/"

# injection-model retrains the prompt-injection classifier embedded in the
# binary (rag/guard/injection/model.bin) from the train split of
# deepset/prompt-injections in ../shared/datasets plus the hand-written rows
# of $(INJECTION_EXTRA) (docs/INJECTION.md); without that folder it
# says so and changes nothing. The same data gives the same bytes.
INJECTION_DATA ?= ../shared/datasets/prompt-injections
INJECTION_EXTRA ?= rag/guard/injection/testdata/authored_train.jsonl
injection-model:
	@if [ ! -e "$(INJECTION_DATA)" ]; then echo "injection-model: $(INJECTION_DATA) not found; model.bin left as it is"; exit 0; fi; \
	go run . guard train --data $(INJECTION_DATA) --extra $(INJECTION_EXTRA) --out rag/guard/injection/model.bin

clean:
	rm -rf llmops llmops-data
