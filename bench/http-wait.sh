#!/usr/bin/env bash
# What a waiting request costs each HTTP stack: bench/barehttp on net/http
# and on fasthttp, answering at once and after waiting for the next tick
# of a WAIT ticker (as an OsmAnd request waits for its group of fixes to
# be stored), under wrk with THREADS and CONNS (2 and 64) for DURATION
# (6s) each. It prints requests/s and the server's CPU per request, read
# from /proc over the run.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-6s}
WAIT=${WAIT:-250us}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
for tool in go wrk; do
  command -v "$tool" >/dev/null || { echo "http-wait.sh: $tool not found (wrk: apt-get install wrk)" >&2; exit 1; }
done
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/barehttp" ./bench/barehttp
hz=$(getconf CLK_TCK)
printf '%-10s %-8s %12s %14s\n' server wait "requests/s" "CPU µs/req"
for server in net fasthttp; do
  for wait in 0 "$WAIT"; do
    "$dir/barehttp" -server "$server" -wait "$wait" >"$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q http "$dir/log" && break; sleep 0.05; done
    url=$(grep -o 'http://[0-9.:]*' "$dir/log")
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    out=$(wrk -t "$THREADS" -c "$CONNS" -d "$DURATION" "$url/")
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$out" | sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)s.*/\1 \2/p' |
      awk -v s="$server" -v w="$wait" -v c=$((cpu1 - cpu0)) -v hz="$hz" \
        '{ printf "%-10s %-8s %12.0f %14.1f\n", s, w, $1 / $2, c / hz * 1e6 / $1 }'
  done
done
