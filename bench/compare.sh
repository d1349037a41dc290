#!/usr/bin/env bash
# compare.sh: patrolgrid's key benchmarks before and after a change, on
# alternating runs, compared with benchstat.
#
#   compare.sh [-n RUNS] [-t BENCHTIME] [-o OUTDIR] [-b 'BenchA BenchB'] BEFORE_TREE AFTER_TREE
#
#   -n RUNS       rounds (default 6); each round runs every benchmark once
#                 (-count=1) in each tree, the order of the two trees
#                 swapped every round so that a drift of the machine falls
#                 on both alike
#   -t BENCHTIME  go test -benchtime (default 1s; 100ms or 20x for a quick look)
#   -o OUTDIR     where before.txt and after.txt go (default: the current folder)
#   -b NAMES      the benchmarks (default: BenchmarkDemoCity BenchmarkRoadCoverage
#                 BenchmarkJT808Session BenchmarkOsmAndPort)
#
# Each benchmark is found in each tree by grepping its _test.go files for
# `func NAME(`, so a benchmark whose package moved between the two trees is
# still compared: the benchstat tables ignore the pkg key. A benchmark found
# in no package, or in more than one, of a tree is an error. Each package's
# test binary is built once per tree and run from its package folder, as go
# test would.
#
# Shared test data (the Monaco extract of BenchmarkRoadCoverage) comes from
# PATROLGRID_TESTDATA, by default ../shared/data beside AFTER_TREE or else
# BEFORE_TREE; PATROLGRID_REQUIRE=1 is set so that a benchmark fails rather
# than skips without it. The trees are only read (test binaries go to a
# temporary folder).
set -euo pipefail

runs=6 benchtime=1s outdir=. only=""
while getopts "n:t:o:b:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    t) benchtime=$OPTARG ;;
    o) outdir=$OPTARG ;;
    b) only=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: compare.sh [-n RUNS] [-t BENCHTIME] [-o OUTDIR] [-b NAMES] BEFORE_TREE AFTER_TREE" >&2; exit 2; }
before=$(cd "$1" && pwd) after=$(cd "$2" && pwd)
benches=(${only:-BenchmarkDemoCity BenchmarkRoadCoverage BenchmarkJT808Session BenchmarkOsmAndPort})

export CGO_ENABLED=1 PATROLGRID_REQUIRE=${PATROLGRID_REQUIRE:-1}
if [ -z "${PATROLGRID_TESTDATA:-}" ]; then
  for d in "$after/../shared/data" "$before/../shared/data"; do
    [ -d "$d" ] && { PATROLGRID_TESTDATA=$(cd "$d" && pwd); break; }
  done
fi
[ -n "${PATROLGRID_TESTDATA:-}" ] && export PATROLGRID_TESTDATA

benchstat=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
if [ ! -x "$benchstat" ]; then
  go install golang.org/x/perf/cmd/benchstat@latest
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$outdir"
: >"$outdir/before.txt"
: >"$outdir/after.txt"

# pkgdir TREE NAME prints the folder, relative to TREE, of the one package
# whose tests define benchmark NAME.
pkgdir() {
  local dirs
  dirs=$( (cd "$1" && grep -rlE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=testdata \
    --exclude-dir='.?*' "^func $2\(" . || true) | xargs -r -n1 dirname | sort -u)
  case $(printf '%s' "$dirs" | grep -c . || true) in
    1) printf '%s\n' "$dirs" ;;
    0) echo "compare: $2 not found in $1" >&2; return 1 ;;
    *) echo "compare: $2 found in several packages of $1:" $dirs >&2; return 1 ;;
  esac
}

# Find every benchmark in both trees and build each package's test binary
# once per tree.
declare -A dir bin
for side in before after; do
  tree=${!side}
  for b in "${benches[@]}"; do
    d=$(pkgdir "$tree" "$b")
    dir[$side/$b]=$tree/${d#./}
    exe=$work/$side/${d#./}.test
    if [ ! -x "$exe" ]; then
      mkdir -p "$(dirname "$exe")"
      echo "compare: build $side ${d#./}" >&2
      (cd "$tree" && go test -c -o "$exe" "$d")
    fi
    bin[$side/$b]=$exe
    echo "compare: $side $b in ${d#./}" >&2
  done
done

# run SIDE NAME runs benchmark NAME once in SIDE's tree, appending to SIDE.txt.
run() {
  local out=$outdir/$1.txt
  (cd "${dir[$1/$2]}" && "${bin[$1/$2]}" -test.run '^$' -test.bench "^$2\$" -test.count 1 \
    -test.benchtime "$benchtime" -test.benchmem) >>"$out" 2>&1 || {
    echo "compare: $1 $2 failed; see $out" >&2; tail -5 "$out" >&2; exit 1; }
}

start=$SECONDS
for ((r = 1; r <= runs; r++)); do
  for b in "${benches[@]}"; do
    if ((r % 2)); then run before "$b"; run after "$b"; else run after "$b"; run before "$b"; fi
  done
  echo "compare: round $r of $runs done after $((SECONDS - start)) s" >&2
done

cd "$outdir"
"$benchstat" -ignore pkg before.txt after.txt
