# The one test command (.ci/run calls it) and the benchmarks.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test check bench run

test: check
	sh scripts/ensure-chromium.sh
	$(GO) test -race -count=1 ./...

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# One table (BENCHMARKS.md tells how to read it); the micro benchmarks of the
# verification path follow it. About five minutes on a 2-core machine.
bench:
	$(GO) test -run '^$$' -bench '^BenchmarkTable$$' -benchtime 1x -timeout 20m ./cmd/clusterapi/
	$(GO) test -run '^$$' -bench . -benchmem ./internal/auth/ ./internal/token/

run:
	$(GO) run ./cmd/clusterapi serve
