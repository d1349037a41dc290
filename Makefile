# The two commands of README.md: `make demo` runs the server with the
# embedded demo city; `make test` runs every test. Both set up what they
# need on a fresh machine. `make build` puts the patrolgrid binary the
# README's examples call in bin/; `make demo-roads` serves a city on real
# roads (see README.md, Planning).

export CGO_ENABLED := 1
GO ?= go
BIN := bin/patrolgrid
UI_SOURCES := $(wildcard web/ui/src/* web/ui/build.mjs web/ui/package.json web/ui/package-lock.json)
UI_STAMP := web/static/dist/.built

.PHONY: demo demo-roads build test ui deps bench load

demo: build
	@echo "==> $(BIN) serve --demo: the map is up once it prints its address (Ctrl-C stops it)"
	$(BIN) serve --demo

# The demo on real roads: 88 units designed over Wilmington, Delaware (an
# approximate boundary drawn for the demo) on the roads of the whole state's
# extract in the shared test data, each cell weighing its length of road,
# then served with the demo motion driving them along the streets. The road
# graphs and the plan go to the cache folder; the first run imports the
# extract, later ones load its graph file.
TESTDATA ?= $(or $(PATROLGRID_TESTDATA),../shared/data)
DELAWARE := $(TESTDATA)/osm/delaware.osm.pbf
ROADS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/patrolgrid
ROADS_PLAN := $(ROADS_CACHE)/wilmington-plan.json

demo-roads: build
	@test -f $(DELAWARE) || { echo "$(DELAWARE) is missing: set PATROLGRID_TESTDATA to the folder holding osm/delaware.osm.pbf"; exit 1; }
	@echo "==> $(BIN) plan design: 88 units over Wilmington on the roads of $(DELAWARE), written to $(ROADS_PLAN)"
	$(BIN) plan design --boundary data/wilmington/boundary.geojson --osm $(DELAWARE) --cache-dir $(ROADS_CACHE) --out $(ROADS_PLAN)
	@echo "==> $(BIN) serve --demo on Wilmington's streets: the map is up once it prints its address (Ctrl-C stops it)"
	$(BIN) serve --demo --plan $(ROADS_PLAN) --osm $(DELAWARE) --cache-dir $(ROADS_CACHE)

# go build knows what is stale, so it always runs: with nothing changed it
# takes a second. The first build on a machine downloads the modules
# ("go: downloading" lines) and compiles some 400 packages, H3's C library
# among them, which takes minutes on two cores; -v names each package as
# it starts compiling, so a long wait shows where it is.
build: $(UI_STAMP)
	@echo "==> go build -o $(BIN) ./cmd/patrolgrid (the first build on a machine takes minutes, later ones seconds)"
	$(GO) build -v -o $(BIN) ./cmd/patrolgrid

test: deps $(UI_STAMP)
	$(GO) vet ./...
	$(GO) run ./cmd/layout .
	$(GO) test -race -count=1 -p 1 -timeout 12m ./...

ui: $(UI_STAMP)

# The map page: front-end libraries from npm (lockfile), bundled into the
# embedded folder web/static/dist.
$(UI_STAMP): $(UI_SOURCES)
	@echo "==> go generate ./web: the map page's libraries from npm (npm ci), bundled by esbuild into web/static/dist"
	$(GO) generate ./web
	touch $@

# Tools the tests drive, from Debian's packages, as command:package:
# Chromium for the browser test, redis-server for the Redis store tests
# (which start their own), osm2pgrouting for its car configuration, which
# the pgrouting road profile is checked against.
DEPS := chromium:chromium redis-server:redis-server osm2pgrouting:osm2pgrouting cbc:coinor-cbc
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
load: build
	$(BIN) serve --demo --listen 127.0.0.1:18080 >/tmp/patrolgrid-load.log 2>&1 & \
	  pid=$$!; trap "kill $$pid" EXIT; sleep 2; \
	  $(BIN) simulate --server http://127.0.0.1:18080 --units 88 --rate 1 --duration 60s --watchers 100
