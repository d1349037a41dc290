# The two commands of README.md: `make demo` runs the server with the
# embedded demo city; `make test` runs every test. Both set up what they
# need on a fresh machine.

export CGO_ENABLED := 1
GO ?= go
UI_SOURCES := $(wildcard web/ui/src/* web/ui/build.mjs web/ui/package.json web/ui/package-lock.json)
UI_STAMP := web/static/dist/.built

.PHONY: demo test ui deps bench load

demo: $(UI_STAMP)
	$(GO) run ./cmd/patrolgrid serve --demo

test: deps $(UI_STAMP)
	$(GO) vet ./...
	$(GO) run ./cmd/layout .
	$(GO) test -race -count=1 -p 1 -timeout 12m ./...

ui: $(UI_STAMP)

# The map page: front-end libraries from npm (lockfile), bundled into the
# embedded folder web/static/dist.
$(UI_STAMP): $(UI_SOURCES)
	$(GO) generate ./web
	touch $@

# Tools the tests drive, from Debian's packages, as command:package:
# Chromium for the browser test, redis-server for the Redis store tests
# (which start their own), osm2pgrouting for its car configuration, which
# the pgrouting road profile is checked against.
DEPS := chromium:chromium redis-server:redis-server osm2pgrouting:osm2pgrouting
deps:
	@missing=""; for d in $(DEPS); do command -v $${d%%:*} >/dev/null 2>&1 || missing="$$missing $${d#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not installed and not root:$$missing: the tests that need them will skip"; fi; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./geo/... ./patrol ./realtime/...

# Fix-to-websocket latency under load: a demo server and 88 units at 1 Hz
# with 100 live clients (see README.md, Benchmarks).
load: $(UI_STAMP)
	$(GO) build -o /tmp/patrolgrid ./cmd/patrolgrid
	/tmp/patrolgrid serve --demo --listen 127.0.0.1:18080 >/tmp/patrolgrid-load.log 2>&1 & \
	  pid=$$!; trap "kill $$pid" EXIT; sleep 2; \
	  /tmp/patrolgrid simulate --server http://127.0.0.1:18080 --units 88 --rate 1 --duration 60s --watchers 100
