#!/usr/bin/env bash
# Ingest into Redis, side by side in one run against one redis-server
# (started here on a free loopback port, with the test harness's settings:
# append-only file, fsync every second):
#
#   geoadd  redis-benchmark GEOADD, pipelined: one command per fix, the
#           ceiling of a store that writes each fix with one command
#   store   BenchmarkRedisAppend: store.Redis through go-redis, the
#           Lua script per batch (stream, hashes, GEO set, event)
#
# and prints fixes/s and each store figure as a share of GEOADD.
# Settings: N (GEOADD requests, default 1000000), P (pipeline depth, 64),
# BENCHTIME (go test -benchtime, 3s).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
P=${P:-64}
BENCHTIME=${BENCHTIME:-3s}
for tool in redis-server redis-cli redis-benchmark go; do
  command -v "$tool" >/dev/null || { echo "ingest.sh: $tool not found" >&2; exit 1; }
done

dir=$(mktemp -d)
port=
for p in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "ingest.sh: no free port" >&2; exit 1; }
cleanup() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes --save "" \
  --appendonly yes --appendfsync everysec --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(redis-server --version | cut -d' ' -f1-3), $(go version | cut -d' ' -f3)"
geoadd=$(redis-benchmark -p "$port" -P "$P" -n "$N" -r 100000 -q \
    GEOADD 'pg:{bench}:pos' 122.26 43.62 'V__rand_int__' 2>/dev/null |
  tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
echo "redis-benchmark -P $P -n $N GEOADD: $geoadd fixes/s"

out=$(PATROLGRID_BENCH_REDIS="127.0.0.1:$port" go test -run '^$' -bench 'BenchmarkRedisAppend' \
  -benchtime "$BENCHTIME" ./realtime/store 2>/dev/null | grep '^BenchmarkRedisAppend')
echo "$out"
echo
printf '%-40s %12s %9s\n' "what" "fixes/s" "÷ GEOADD"
printf '%-40s %12.0f %9s\n' "redis-benchmark GEOADD -P $P" "$geoadd" "1.00"
echo "$out" | while read -r name _ _ _ rate unit _; do
  [ "$unit" = "fixes/s" ] || continue
  printf '%-40s %12.0f %9.2f\n' "store ${name#BenchmarkRedisAppend/}" "$rate" "$(awk -v a="$rate" -v b="$geoadd" 'BEGIN { print a / b }')"
done
