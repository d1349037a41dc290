#!/usr/bin/env bash
# Ingest over the terminal protocols, measured with `patrolgrid simulate`
# against `patrolgrid serve` on loopback (issue 4's target in brackets):
#
#   jt808   CONNS JT/T 808 terminal connections for the demo city's UNITS
#           units, RATE fixes/s each, as 0x0200 frames (batch 1) and as
#           0x0704 batches of each size in BATCHES    [>= 100,000 fixes/s
#           over 100 connections]
#
# Each stage runs against a fresh server on its memory store: an
# accelerated replay spends up to RATE × DURATION seconds of each unit's
# fix time, 1 s per fix, and a second one could not follow it within the
# server's time filters. The server is started without --demo (whose
# motion would send its own fixes), so the script registers one device per
# unit through the admin API: phone and terminal id by the demo city's
# convention (phone 1390000 and the unit's number in 4 digits, terminal id
# the unit id); the terminals register (0x0100) and authenticate with the
# code the server answers.
# With CONNS above UNITS, connections of one unit take turns in its fixes:
# they never collide, but the server may take one before the other's
# earlier one, and counts the late one "stored" (out of order).
#
# Everything runs on this machine: simulate shares its cores with the
# server. PERF=1 records the server with `perf record -g` during the first
# stage and prints its hottest functions, with and without what they call;
# PERF_DATA=file keeps the recording.
# Settings: DURATION (per stage, 20s), UNITS (88), CONNS (100), RATE (1000),
# BATCHES ("1 10 30"), PERF (0), PERF_DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
UNITS=${UNITS:-88}
CONNS=${CONNS:-100}
RATE=${RATE:-1000}
BATCHES=${BATCHES:-1 10 30}
PERF=${PERF:-0}
for tool in go curl jq; do
  command -v "$tool" >/dev/null || { echo "ingest-protocols.sh: $tool not found" >&2; exit 1; }
done
[ "$PERF" = 0 ] || command -v perf >/dev/null || { echo "ingest-protocols.sh: perf not found" >&2; exit 1; }

# The server's tokens: the admin provisions the devices, the device token
# is the OsmAnd and JSON senders' (a fleet gateway's).
admin=bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
token=bench-device-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
viewer=bench-viewer-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

dir=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/patrolgrid" ./cmd/patrolgrid

# free_ports: three consecutive loopback ports nothing listens on.
free_ports() {
  for p in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null &&
      ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 2))") 2>/dev/null; then
      echo "$p $((p + 1)) $((p + 2))"; return
    fi
  done
  echo "ingest-protocols.sh: no free ports" >&2; exit 1
}

# start_server: a fresh server with the terminal ports, and a device per unit.
start_server() {
  read -r http jt808 nmea <<<"$(free_ports)"
  "$dir/patrolgrid" serve --listen "127.0.0.1:$http" --jt808-listen "127.0.0.1:$jt808" --nmea-listen "127.0.0.1:$nmea" \
    --osmand-listen "" --device-rate 0 --address-rate 0 --admin-token "$admin" --device-token "$token" --viewer-token "$viewer" >"$dir/serve.log" 2>&1 &
  server_pid=$!
  server="http://127.0.0.1:$http"
  for _ in $(seq 300); do curl -fs "$server/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -fs "$server/readyz" >/dev/null || { echo "ingest-protocols.sh: server not ready: $(cat "$dir/serve.log")" >&2; exit 1; }
  i=0
  for unit in $(curl -fs -H "Authorization: Bearer $admin" "$server/api/v1/plan" | jq -r '.units[].id'); do
    i=$((i + 1))
    printf '{"id":"%s.jt808","unit":"%s","phone":"1390000%04d","terminal":"%.7s"}' "$unit" "$unit" "$i" "$unit" |
      curl -fs -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d @- "$server/api/v1/devices"
  done
  [ "$i" -ge "$UNITS" ] || { echo "ingest-protocols.sh: the plan has $i units, want $UNITS" >&2; exit 1; }
}

stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; }

# stage NAME ARGS...: runs simulate against a fresh server and prints
# "NAME accepted/s taken/s p50 p99" from its summary: the fixes the
# server counted, over the time from the start until it had taken the
# last one.
stage() {
  name=$1; shift
  start_server
  if [ "$PERF" != 0 ] && [ ! -e "$dir/perf.data" ]; then
    perf record -g -o "$dir/perf.data" -p "$server_pid" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  echo "$name: patrolgrid simulate $*" >&2
  out=$("$dir/patrolgrid" simulate --server "$server" --token "$token" --viewer-token "$viewer" --jt808-addr "127.0.0.1:$jt808" \
    --units "$UNITS" --rate "$RATE" --duration "$DURATION" --drain 60s "$@")
  [ -n "${perf_pid:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; perf_pid=; }
  stop_server
  echo "$out" | sed -n '/^summary:/,$p' | sed 's/^/    /' >&2
  secs=$(echo "$out" | sed -n 's/^ *server counted [0-9]* fixes in \([0-9.]*\)s,.*/\1/p')
  accepted=$(echo "$out" | sed -n '/server counted/,$ s/^ *accepted *\([0-9]*\).*/\1/p' | head -1)
  stored=$(echo "$out" | sed -n '/server counted/,$ s/^ *stored *\([0-9]*\).*/\1/p' | head -1)
  latency=$(echo "$out" | sed -n 's/^ *reply latency *p50 \([^ ]*\) .* p99 \([^ ]*\) .*/\1 \2/p')
  awk -v n="$name" -v a="$accepted" -v s="${stored:-0}" -v t="$secs" -v l="${latency:--  -}" \
    'BEGIN { split(l, p, " "); printf "%-44s %12.0f %12.0f %10s %10s\n", n, a / t, (a + s) / t, p[1], p[2] }'
}

echo "# $(date -u +%FT%TZ) $(nproc) cores (shared: simulate runs on them too), $(go version | cut -d' ' -f3); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %12s %12s %10s %10s\n' "stage" "accepted/s" "taken/s" "reply p50" "reply p99"
for b in $BATCHES; do
  what="0x0200"
  [ "$b" -gt 1 ] && what="0x0704 x$b"
  stage "jt808 $what, $CONNS conns × $RATE/s" --protocol jt808 --conns "$CONNS" --batch "$b"
done
echo "[target: JT/T 808 >= 100000 fixes/s over 100 connections; taken = accepted + stored out of order]"
if [ "$PERF" != 0 ] && [ -e "$dir/perf.data" ]; then
  echo
  echo "# perf: the server during the first stage; share of its samples in each function and what it calls, then in the function itself"
  perf report -i "$dir/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
    grep -E '^ +[0-9.]+% +[0-9.]+% .*(patrolgrid|syscall|runtime\.(gcBgMarkWorker|mallocgc|selectgo|chansend1)$|poll\.)' | head -40
  echo
  perf report -i "$dir/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25
  [ -z "${PERF_DATA:-}" ] || cp "$dir/perf.data" "$PERF_DATA"
fi
