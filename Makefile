# The one test command (.ci/run calls it) and the benchmarks.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test check bench run

test: check
	bash .ci/ensure-chromium.sh
	$(GO) test -race -count=1 ./...

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/auth/ ./internal/token/ ./internal/account/ ./internal/web/

run:
	$(GO) run ./cmd/clusterapi serve
