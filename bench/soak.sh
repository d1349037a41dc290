#!/usr/bin/env bash
# Soak test (issue 16), not part of `make test`: SOAK_UNITS units at 1 Hz
# over the three device protocols and SOAK_WATCHERS map clients on
# /api/v1/live, against one `patrolgrid serve --redis`, for SOAK_DURATION.
#
#   bench/soak.sh                                   # 1,000 units, 200 map clients, 30 minutes
#   SOAK_DURATION=3m SOAK_SAMPLE=15s bench/soak.sh  # a short check
#
# It builds the binary, designs a plan of SOAK_UNITS units over the demo
# city (`plan design`, the demo mix scaled up, seed 1; SOAK_PLAN gives a
# plan file instead), starts its own redis-server (no persistence) and
# `serve --redis` with the OsmAnd, JT/T 808 and NMEA ports and a viewer,
# a device and an admin token of 32 hex digits each (passed in the
# environment, not on command lines), and provisions a device per unit
# through the admin API (provision_devices: the one step that knows the
# API's device format). Then `patrolgrid simulate` runs side by side, each
# on units of its own (--skip) as their devices (--devices), at 1 Hz a
# unit: a third of the units over OsmAnd, GET requests to the OsmAnd port
# with each device's key, a worker per device (the HTTP pool keeps open
# the connections it reuses and closes those idle for 90 s, and the
# server's goroutines move with them); a third over JT/T
# 808, terminals that register (0x0100) by their phone and terminal id; the rest over
# NMEA, trackers that log in with their key.
#
# The SOAK_WATCHERS map clients: all but SOAK_LATENCY_WATCHERS (10) are
# bench/livesink clients, there from the start, which negotiate
# permessage-deflate as browsers do, read every frame without parsing it
# and reconnect as the map page does when the server drops them. The
# other SOAK_LATENCY_WATCHERS are simulate's watchers, which parse every
# message to time the fixes of their run, one more OsmAnd unit (of the
# first third): that run starts SOAK_WATCH_AFTER (60s) into the soak and
# ends with the others. Parsing is what a map client costs its own
# machine: 200 parsing watchers take more than the 2 cores the server
# shares with them here (171 and 197 of 200 simulate watchers fell behind
# in two tries and were dropped, 1013 too slow, as the server should).
#
# Every SOAK_SAMPLE it prints a row: the server's resident memory
# (/proc/PID/status VmRSS), goroutines (go_goroutines), Redis used_memory,
# the fixes the server counted (patrolgrid_fixes_total: accepted, and
# rejected), the accepted rate since the last row, the length of the fix
# stream (XLEN; one entry per stored batch of fixes), the map clients
# connected (patrolgrid_live_clients) and dropped as too slow so far
# (patrolgrid_live_dropped_total), and the server's CPU (100% = one
# core). At the end it prints the runs' summaries and the verdict: the
# least-squares slope of memory, goroutines and Redis memory over the
# last two thirds of the soak, and the change that slope makes over that
# window, "flat" when it is under 5% of the window's mean.
#
# Redis memory grows until the fix stream reaches its cap: the server is
# started with --history-entries SOAK_HISTORY_ENTRIES (300,000 here, a
# million by default), each entry a batch of fixes, so the plateau comes
# within the soak. SOAK_DIR keeps the logs, plan, devices and samples
# (default: a temporary folder, removed at the end).
#
# Settings: SOAK_DURATION (30m), SOAK_UNITS (1000), SOAK_WATCHERS (200),
# SOAK_LATENCY_WATCHERS (10), SOAK_SAMPLE (30s), SOAK_WATCH_AFTER (60s),
# SOAK_HISTORY_ENTRIES (300000), SOAK_PORT (18400: HTTP, then OsmAnd,
# JT/T 808 and NMEA on the next three), SOAK_REDIS_PORT (6420), SOAK_PLAN,
# SOAK_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_DURATION=${SOAK_DURATION:-30m}
SOAK_UNITS=${SOAK_UNITS:-1000}
SOAK_WATCHERS=${SOAK_WATCHERS:-200}
SOAK_SAMPLE=${SOAK_SAMPLE:-30s}
SOAK_LATENCY_WATCHERS=${SOAK_LATENCY_WATCHERS:-10}
SOAK_WATCH_AFTER=${SOAK_WATCH_AFTER:-60s}
SOAK_HISTORY_ENTRIES=${SOAK_HISTORY_ENTRIES:-300000}
SOAK_PORT=${SOAK_PORT:-18400}
SOAK_REDIS_PORT=${SOAK_REDIS_PORT:-6420}
export CGO_ENABLED=1
for tool in go curl jq redis-server redis-cli openssl awk; do
  command -v "$tool" >/dev/null || { echo "soak.sh: $tool not found" >&2; exit 1; }
done

# seconds D: a duration of s, m or h in whole seconds.
seconds() {
  case $1 in
    *h) echo $((${1%h} * 3600)) ;; *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;;
  esac
}
duration_s=$(seconds "$SOAK_DURATION")
sample_s=$(seconds "$SOAK_SAMPLE")
watch_after_s=$(seconds "$SOAK_WATCH_AFTER")
[ "$SOAK_UNITS" -ge 4 ] || { echo "soak.sh: SOAK_UNITS must be at least 4" >&2; exit 1; }
[ "$watch_after_s" -lt "$duration_s" ] || { echo "soak.sh: SOAK_WATCH_AFTER must be under SOAK_DURATION" >&2; exit 1; }
sinks=$((SOAK_WATCHERS - SOAK_LATENCY_WATCHERS))
[ "$sinks" -ge 0 ] || { echo "soak.sh: SOAK_LATENCY_WATCHERS is over SOAK_WATCHERS" >&2; exit 1; }

keep=${SOAK_DIR:+1}
dir=${SOAK_DIR:-$(mktemp -d)}
mkdir -p "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$keep" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

http_port=$SOAK_PORT osmand_port=$((SOAK_PORT + 1)) jt808_port=$((SOAK_PORT + 2)) nmea_port=$((SOAK_PORT + 3))
for p in "$http_port" "$osmand_port" "$jt808_port" "$nmea_port" "$SOAK_REDIS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "soak.sh: port $p is taken" >&2; exit 1; fi
done
server="http://127.0.0.1:$http_port"
viewer=$(openssl rand -hex 16) device=$(openssl rand -hex 16) admin=$(openssl rand -hex 16)

echo "==> go build" >&2
go build -o "$dir/patrolgrid" ./cmd/patrolgrid
go build -o "$dir/livesink" ./bench/livesink

# The plan: the demo city's mix (vehicle 30, ebike 20, foot 20, post 8,
# joint 6, video 4 of 88) scaled to SOAK_UNITS, the rest to vehicles.
plan=${SOAK_PLAN:-}
if [ -z "$plan" ]; then
  plan=$dir/plan.json
  mix=$(awk -v n="$SOAK_UNITS" 'BEGIN {
    split("vehicle ebike foot post joint video", m, " "); split("30 20 20 8 6 4", c, " ")
    for (i = 2; i <= 6; i++) { k[i] = int(c[i] * n / 88 + 0.5); rest += k[i] }
    k[1] = n - rest; s = ""
    for (i = 1; i <= 6; i++) if (k[i] > 0) s = s (s == "" ? "" : ",") m[i] "=" k[i]
    print s }')
  echo "==> patrolgrid plan design --mix $mix --seed 1" >&2
  "$dir/patrolgrid" plan design --mix "$mix" --seed 1 --out "$plan" >"$dir/design.log" 2>&1 ||
    { cat "$dir/design.log" >&2; exit 1; }
fi
units=$(jq '.units | length' "$plan")
[ "$units" -ge "$SOAK_UNITS" ] || { echo "soak.sh: $plan has $units units, want $SOAK_UNITS" >&2; exit 1; }
city=$(jq -r .city "$plan")

echo "==> redis-server on 127.0.0.1:$SOAK_REDIS_PORT, patrolgrid serve --redis on $server" >&2
redis-server --bind 127.0.0.1 --port "$SOAK_REDIS_PORT" --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$SOAK_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis() { redis-cli -p "$SOAK_REDIS_PORT" "$@"; }

PATROLGRID_VIEWER_TOKEN=$viewer PATROLGRID_DEVICE_TOKEN=$device PATROLGRID_ADMIN_TOKEN=$admin \
  "$dir/patrolgrid" serve --plan "$plan" --redis "redis://127.0.0.1:$SOAK_REDIS_PORT" --listen "127.0.0.1:$http_port" \
  --osmand-listen "127.0.0.1:$osmand_port" --jt808-listen "127.0.0.1:$jt808_port" --nmea-listen "127.0.0.1:$nmea_port" \
  --history-entries "$SOAK_HISTORY_ENTRIES" >"$dir/serve.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 600); do curl -fs "$server/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$server/readyz" >/dev/null || { echo "soak.sh: server not ready: $(cat "$dir/serve.log")" >&2; exit 1; }

# The runs: run k drives count[k] units after skip[k] over protocol[k]
# with watchers[k] watchers. The watchers' run drives the first unit; the
# OsmAnd run the rest of the first third.
names=(osmand jt808 nmea watchers)
protocol=(osmand jt808 nmea osmand)
third=$((SOAK_UNITS / 3))
first=$((SOAK_UNITS - 2 * third))
count=("$((first - 1))" "$third" "$third" 1)
skip=(1 "$first" "$((first + third))" 0)
watchers=(0 0 0 "$SOAK_LATENCY_WATCHERS")

# device_spec PROTOCOL UNIT I: the body of POST /api/v1/devices for the
# device of UNIT, the I-th unit of the plan (from 0), on PROTOCOL: an id
# of its own, and for JT/T 808 the terminal's phone (1390000 and the
# unit's number from 1 in four digits) and terminal id (the unit id, cut
# to the 7 characters of a 2013 terminal id), with which it registers
# (0x0100) to draw its authentication code. OsmAnd and NMEA devices log
# in with the key the server draws, good on their protocol alone.
device_spec() {
  case $1 in
    jt808) jq -cn --arg id "$1-$2" --arg unit "$2" --arg phone "$(printf '1390000%04d' $(($3 + 1)))" \
      '{id: $id, unit: $unit, protocol: "jt808", phone: $phone, terminal: $unit[0:7]}' ;;
    *) jq -cn --arg id "$1-$2" --arg unit "$2" --arg p "$1" '{id: $id, unit: $unit, protocol: $p}' ;;
  esac
}

# provision_devices FILE: a device per unit driven, on its run's protocol,
# through the admin API; FILE gets the answers ({"device":...,"key":...}),
# one a line, which simulate --devices reads.
provision_devices() {
  local file=$1 i=0 p unit
  : >"$file"
  for unit in $(jq -r ".units[:$SOAK_UNITS][].id" "$plan"); do
    p=osmand
    [ "$i" -ge "${skip[1]}" ] && p=jt808
    [ "$i" -ge "${skip[2]}" ] && p=nmea
    device_spec "$p" "$unit" "$i" |
      curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d @- "$server/api/v1/devices" >>"$file"
    echo >>"$file"
    i=$((i + 1))
  done
}
echo "==> provisioning $SOAK_UNITS devices" >&2
provision_devices "$dir/devices.jsonl"

# metric NAME [LABELS]: the sum of NAME's series whose labels hold
# LABELS, from $metrics (the server's /metrics); -1 when there is none.
metric() {
  awk -v n="$1" -v l="${2:-}" '$1 == n || index($1, n "{") == 1 && index($1, l) { s += $2; f = 1 }
    END { printf "%.0f", f ? s : -1 }' <<<"$metrics"
}
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
prev_t=0 prev_fixes=0 prev_cpu=$(cpu_ticks)
columns='%8s %7s %10s %8s %11s %7s %8s %8s %7s %7s %5s\n'
# sample T: a row of the table at T seconds, to stdout and samples.tsv
# (seconds, MB, goroutines, MB, fixes, fixes/s, fixes, entries, clients,
# clients, % of a core).
sample() {
  local t=$1 rss redis_b cpu
  metrics=$(curl -fs -m 10 -H "Authorization: Bearer $viewer" "$server/metrics" || true)
  rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$server_pid/status")
  redis_b=$(redis info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
  cpu=$(cpu_ticks)
  awk -v t="$t" -v rss="$rss" -v g="$(metric go_goroutines)" -v rb="$redis_b" \
    -v f="$(metric patrolgrid_fixes_total 'outcome="accepted"')" -v r="$(metric patrolgrid_fixes_total 'outcome="rejected"')" \
    -v xlen="$(redis xlen "pg:{$city}:fixes")" -v cl="$(metric patrolgrid_live_clients)" \
    -v dr="$(metric patrolgrid_live_dropped_total)" -v pt="$prev_t" -v pf="$prev_fixes" -v c="$cpu" -v pc="$prev_cpu" -v hz="$hz" \
    'BEGIN { d = t - pt; printf "%d\t%.1f\t%d\t%.1f\t%d\t%.0f\t%d\t%d\t%d\t%d\t%.0f\n", t, rss / 1048576, g, rb / 1048576, f,
      (d > 0 ? (f - pf) / d : 0), r, xlen, cl, dr, (d > 0 ? (c - pc) / hz / d * 100 : 0) }' >>"$dir/samples.tsv"
  tail -1 "$dir/samples.tsv" |
    awk -F'\t' -v fmt="$columns" '{ printf fmt, sprintf("%d:%02d", $1 / 60, $1 % 60), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 "%" }'
  prev_t=$t prev_fixes=$(tail -1 "$dir/samples.tsv" | cut -f5) prev_cpu=$cpu
}

# pause S: sleeps S seconds (none when S <= 0) in the background, so that
# a signal ends the soak at once.
pause() { [ "$1" -le 0 ] || { sleep "$1" & wait $!; }; }

# start_run K DURATION: simulate run K in the background, logging to
# simulate-NAME.log.
sims=()
start_run() {
  local k=$1 p=${protocol[$1]}
  local args=(--server "$server" --devices "$dir/devices.jsonl" --rate 1 --duration "$2" --drain 10s
    --protocol "$p" --skip "${skip[$k]}" --units "${count[$k]}" --watchers "${watchers[$k]}")
  case $p in
    osmand) args+=(--osmand-addr "127.0.0.1:$osmand_port" --concurrency "${count[$k]}") ;; # a worker per device
    jt808) args+=(--jt808-addr "127.0.0.1:$jt808_port") ;;
    nmea) args+=(--nmea-addr "127.0.0.1:$nmea_port") ;;
  esac
  echo "${names[$k]}: PATROLGRID_TOKEN=VIEWER_TOKEN patrolgrid simulate ${args[*]}" >&2
  PATROLGRID_TOKEN=$viewer "$dir/patrolgrid" simulate "${args[@]}" >"$dir/simulate-${names[$k]}.log" 2>&1 &
  sims+=($!)
  pids+=($!)
}

echo "# $(date -u +%FT%TZ) $(nproc) cores (shared: the simulators and Redis run on them too), $(go version | cut -d' ' -f3)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg); $SOAK_UNITS units at 1 Hz, $sinks map clients and $SOAK_LATENCY_WATCHERS" \
  "watchers from $SOAK_WATCH_AFTER, $SOAK_DURATION, --history-entries $SOAK_HISTORY_ENTRIES"
for k in 0 1 2; do start_run "$k" "$SOAK_DURATION"; done
echo "map clients: PATROLGRID_TOKEN=VIEWER_TOKEN livesink -server $server -clients $sinks -duration $SOAK_DURATION -every $SOAK_SAMPLE" >&2
PATROLGRID_TOKEN=$viewer "$dir/livesink" -server "$server" -clients "$sinks" -duration "${duration_s}s" -every "$SOAK_SAMPLE" \
  >"$dir/livesink.log" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
# shellcheck disable=SC2059
printf "$columns" time rss_mb goroutines redis_mb fixes_total fixes/s rejected stream clients dropped cpu
: >"$dir/samples.tsv"
start=$(date +%s)
for ((k = 0; k * sample_s < duration_s; k++)); do # the last row before the runs end
  t=$((k * sample_s))
  if [ "${#sims[@]}" = 3 ] && [ "$t" -ge "$watch_after_s" ]; then
    pause $((start + watch_after_s - $(date +%s)))
    start_run 3 "$((duration_s - watch_after_s))s"
  fi
  pause $((start + t - $(date +%s)))
  sample "$t"
done
[ "${#sims[@]}" = 4 ] || start_run 3 1s # a soak shorter than one sample past SOAK_WATCH_AFTER

status=0
for k in 0 1 2 3; do wait "${sims[$k]}" || status=$?; done
wait "$sink_pid" || status=$?
for k in 0 1 2 3; do
  echo
  echo "# ${names[$k]}: units ${skip[$k]}..$((skip[k] + count[k] - 1)) of the plan, ${watchers[$k]} watchers"
  log=$dir/simulate-${names[$k]}.log
  if grep -q '^summary:' "$log"; then sed -n '/^summary:/,$p' "$log"; else tail -5 "$log"; fi
done
echo
echo "# map clients: $sinks livesink clients"
tail -1 "$dir/livesink.log"
[ "$status" = 0 ] || echo "soak.sh: a simulate run or livesink failed (status $status)" >&2

# The verdict: the least-squares slope of each series over the samples of
# the last two thirds, per 10 minutes, and the change it makes over them
# against their mean.
from=$((duration_s / 3))
echo
echo "# from $((from / 60)):$(printf %02d $((from % 60))) to the end: slope, and the change it makes over that window against its mean (flat: under 5%)"
for col in 2:rss_mb 3:goroutines 4:redis_mb; do
  awk -F'\t' -v c="${col%%:*}" -v name="${col#*:}" -v from="$from" '
    $1 >= from { n++; x = $1 / 60; sx += x; sy += $c; sxx += x * x; sxy += x * $c; if (n == 1) x0 = x; x1 = x }
    END {
      if (n < 3) { printf "%-10s too few samples\n", name; exit }
      b = (n * sxy - sx * sy) / (n * sxx - sx * sx); mean = sy / n; change = b * (x1 - x0)
      rel = mean != 0 ? change / mean * 100 : 0
      printf "%-10s %+9.3f per 10 min  mean %9.1f  change %+8.2f (%+.1f%%)  %s\n", name, b * 10, mean, change, rel,
        (rel < 5 && rel > -5) ? "flat" : "NOT FLAT"
    }' "$dir/samples.tsv"
done
awk -F'\t' -v from="$from" -v n="$SOAK_UNITS" '
  $1 >= from { if (!s) { t0 = $1; f0 = $5; s = 1 } t1 = $1; f1 = $5 }
  END { if (t1 > t0) printf "accepted   %.0f fixes/s over that window (offered: %d units at 1 Hz)\n", (f1 - f0) / (t1 - t0), n }' \
  "$dir/samples.tsv"
exit "$status"
