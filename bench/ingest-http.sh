#!/usr/bin/env bash
# Ingest over HTTP into Redis, side by side in one run on loopback, against
# the peers that bound it (issue 3's targets in brackets):
#
#   geoadd  redis-benchmark GEOADD, pipelined, against a fresh redis-server:
#           the store's ceiling
#   batch   JSON batches (BATCH fixes each, WORKERS at a time) through
#           `patrolgrid serve --redis` from bench/batchload   [>= 150,000 fixes/s]
#   osmand  OsmAnd single-fix GET requests to the OsmAnd port of
#           `serve --redis` under wrk       [>= 25,000/s and >= 40% of bare]
#   bare    a bare net/http handler answering 200 (bench/barehttp) under
#           the same wrk settings, in turns with osmand: the HTTP ceiling
#   fast    the same bare handler on fasthttp, the OsmAnd port's server,
#           in the same turns: the ceiling of the stack the port runs on
#
# It also prints the CPU time the server (and redis-server) spent per
# request in the OsmAnd and bare stages, read from /proc, to show where a
# request's cost lies; on a shared machine these swing with its speed too.
#
# redis-server runs with the test harness's settings (append-only file,
# fsync every second) and is flushed between stages. The server serves the
# embedded demo city (88 units). Every tool runs on this machine, so the
# load generators share its cores with the server and Redis.
# Settings: DURATION (per stage, 5s), N and P (redis-benchmark requests and
# pipeline depth, 1000000 and 64), BATCH (1000), WORKERS (4), THREADS and
# CONNS (wrk, 2 and 64), ROUNDS (3: the OsmAnd and bare stages take turns,
# and their medians are compared).
#
# Each wrk thread reports for its own units, so that every unit's fixes
# arrive in order, as from one device.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
N=${N:-1000000}
P=${P:-64}
BATCH=${BATCH:-1000}
WORKERS=${WORKERS:-4}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
for tool in redis-server redis-cli redis-benchmark go wrk; do
  command -v "$tool" >/dev/null || { echo "ingest-http.sh: $tool not found (wrk: apt-get install wrk)" >&2; exit 1; }
done

dir=$(mktemp -d)
pids=()
port=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$port" ] && redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/patrolgrid" ./cmd/patrolgrid
go build -o "$dir/batchload" ./bench/batchload
go build -o "$dir/barehttp" ./bench/barehttp

for p in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "ingest-http.sh: no free port" >&2; exit 1; }
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes --save "" \
  --appendonly yes --appendfsync everysec --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

# address LOG: waits for the "http://host:port/" a server prints into LOG.
address() {
  for _ in $(seq 300); do
    a=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$1" | head -1 || true)
    [ -n "$a" ] && { echo "$a"; return; }
    sleep 0.05
  done
  echo "ingest-http.sh: no address in $1: $(cat "$1")" >&2; exit 1
}

# The OsmAnd requests, to the path of the URL wrk is given: the demo city's
# 88 units in turn, each at a point of its own, with a timestamp unique to
# the request (microseconds from the start, interleaved between wrk
# threads) so that none is a duplicate. Thread t of T sends for units t,
# t+T, t+2T, ... Each unit's request is built once, up to its timestamp,
# so that wrk spends little of the machine on writing requests.
cat >"$dir/osmand.lua" <<'LUA'
local ids = {}
for _, p in ipairs({{"V", 30}, {"E", 16}, {"F", 14}, {"P", 12}, {"J", 8}, {"C", 8}}) do
  for i = 1, p[2] do ids[#ids + 1] = string.format("%s%02d", p[1], i) end
end
local threads, n = 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  nthreads = tonumber(args[1]); start = os.time() * 1000000
  wrk.headers["Authorization"] = "Bearer bench-device-token-of-ingest-http"
  local raw = wrk.format("GET", wrk.path .. "?@")
  local at = string.find(raw, "@", 1, true)
  local head = string.sub(raw, 1, at - 1)
  tail = string.sub(raw, at + 1)
  heads = {}
  for i = 0, #ids - 1 do
    heads[i] = head .. string.format("id=%s&lat=%.6f&lon=%.6f&speed=0&accuracy=5&timestamp=",
      ids[i + 1], 43.62 + 0.002 * (i % 10), 122.26 + 0.002 * math.floor(i / 10))
  end
end
function request()
  local i = (n * nthreads + tid) % #ids
  local us = start + n * nthreads + tid
  n = n + 1
  local sec = math.floor(us / 1000000)
  if sec ~= stamp_sec then stamp_sec, stamp = sec, os.date("!%Y-%m-%dT%H:%M:%S", sec) end
  return heads[i] .. stamp .. string.format(".%06dZ", us % 1000000) .. tail
end
LUA

# load URL PID...: wrk's 2xx requests per second against URL, then the CPU
# time each PID spent per request (µs), on one line; wrk's summary goes to
# stderr.
tck=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
load() {
  local url=$1 p before=() after=()
  shift
  for p in "$@"; do before+=("$(ticks "$p")"); done
  out=$(wrk -t "$THREADS" -c "$CONNS" -d "$DURATION" -s "$dir/osmand.lua" "$url" -- "$THREADS")
  for p in "$@"; do after+=("$(ticks "$p")"); done
  reqs=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)s.*/\1 \2/p')
  bad=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
  echo "$reqs ${bad:-0} ${before[*]} ${after[*]}" | awk -v k="$tck" '{
    printf "%.0f", ($1 - $3) / $2
    n = (NF - 3) / 2
    for (i = 1; i <= n; i++) printf " %.1f", ($(3 + n + i) - $(3 + i)) * 1e6 / k / $1
    printf "\n" }'
  echo "$out" | sed 's/^/    /' >&2
}

echo "# $(date -u +%FT%TZ) $(nproc) cores (shared: the load tools run on them too), $(redis-server --version | cut -d' ' -f1-3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)"
geoadd=$(redis-benchmark -p "$port" -P "$P" -n "$N" -r 100000 -q \
    GEOADD 'pg:{bench}:pos' 122.26 43.62 'V__rand_int__' 2>/dev/null |
  tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
redis-cli -p "$port" flushall >/dev/null

"$dir/patrolgrid" serve --listen 127.0.0.1:0 --osmand-listen 127.0.0.1:0 --jt808-listen "" --nmea-listen "" \
  --redis "redis://127.0.0.1:$port" --redis-city bench --device-rate 0 --address-rate 0 --viewer-token bench-viewer-token-of-ingest-http --device-token bench-device-token-of-ingest-http >"$dir/serve.log" 2>&1 &
pids+=($!)
servePid=$! redisPid=$(cat "$dir/redis.pid")
server=$(address "$dir/serve.log")
for _ in $(seq 200); do curl -fs "$server/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
osmandPort=$(grep -o 'OsmAnd.*http://127\.0\.0\.1:[0-9]*' "$dir/serve.log" | grep -o 'http://.*')
[ -n "$osmandPort" ] || { echo "ingest-http.sh: no OsmAnd port in $dir/serve.log" >&2; exit 1; }
echo "batch: bench/batchload -batch $BATCH -workers $WORKERS -duration $DURATION" >&2
batchout=$("$dir/batchload" -server "$server" -device-token bench-device-token-of-ingest-http -viewer-token bench-viewer-token-of-ingest-http -batch "$BATCH" -workers "$WORKERS" -duration "$DURATION")
echo "    $batchout" >&2
batch=$(echo "$batchout" | sed -n 's/^json-batch: \([0-9]*\) fixes.*/\1/p')
redis-cli -p "$port" flushall >/dev/null

"$dir/barehttp" >"$dir/bare.log" 2>&1 &
pids+=($!)
barePid=$!
bare=$(address "$dir/bare.log")
"$dir/barehttp" -server fasthttp >"$dir/fast.log" 2>&1 &
pids+=($!)
fastPid=$!
fast=$(address "$dir/fast.log")

# OsmAnd and the bare handlers take turns, ROUNDS times, so that all meet
# the same machine; the medians are compared.
osmands=() bares=() fasts=()
for r in $(seq "$ROUNDS"); do
  echo "osmand, round $r: wrk -t $THREADS -c $CONNS -d $DURATION $osmandPort/" >&2
  osmands+=("$(load "$osmandPort/" "$servePid" "$redisPid")")
  echo "bare, round $r: wrk -t $THREADS -c $CONNS -d $DURATION $bare/" >&2
  bares+=("$(load "$bare/" "$barePid")")
  echo "fast, round $r: wrk -t $THREADS -c $CONNS -d $DURATION $fast/" >&2
  fasts+=("$(load "$fast/" "$fastPid")")
done
# median K LINE...: the median of field K of the lines.
median() {
  local k=$1
  shift
  printf '%s\n' "$@" | awk -v k="$k" '{ print $k }' | sort -n |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
osmand=$(median 1 "${osmands[@]}")
bareRate=$(median 1 "${bares[@]}")
fastRate=$(median 1 "${fasts[@]}")
rates() { printf '%s\n' "$@" | awk '{ print $1 }' | paste -sd' '; }
echo "osmand rounds: $(rates "${osmands[@]}"); bare rounds: $(rates "${bares[@]}"); fasthttp rounds: $(rates "${fasts[@]}")" >&2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
printf '%-52s %12s  %s\n' "what" "fixes/s" "against its peer"
printf '%-52s %12.0f  %s\n' "redis-benchmark GEOADD -P $P (store ceiling)" "$geoadd" ""
printf '%-52s %12.0f  %s\n' "JSON batches of $BATCH via serve --redis" "$batch" "$(ratio "$batch" "$geoadd") of GEOADD [target >= 150000 fixes/s]"
printf '%-52s %12.0f  %s\n' "OsmAnd GET via serve --redis (wrk -c $CONNS, median)" "$osmand" "$(ratio "$osmand" "$bareRate") of bare net/http [targets >= 25000/s, >= 0.40]; $(ratio "$osmand" "$fastRate") of bare fasthttp"
printf '%-52s %12.0f  %s\n' "bare net/http 200 (wrk -c $CONNS, median, HTTP ceiling)" "$bareRate" ""
printf '%-52s %12.0f  %s\n' "bare fasthttp 200 (wrk -c $CONNS, median)" "$fastRate" ""
echo
echo "CPU per request (medians; wrk's own not counted): OsmAnd $(median 2 "${osmands[@]}") µs in serve" \
  "+ $(median 3 "${osmands[@]}") µs in redis-server; bare net/http $(median 2 "${bares[@]}") µs;" \
  "bare fasthttp $(median 2 "${fasts[@]}") µs"
