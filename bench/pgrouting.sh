#!/usr/bin/env bash
# Compares patrolgrid's road isochrones with pgRouting on Monaco.
#
# Loads ../shared/data/osm/monaco.osm.pbf into a fresh PostgreSQL database
# with osm2pgrouting's car configuration, runs pgr_drivingDistance to 300 s
# from 20 fixed start vertices, and compares each cell's ETA with
# `patrolgrid isochrone --profile pgrouting` from the same points: the
# share of reached cells in the same 1/3/5-minute tier, the median
# absolute ETA difference, and the speed ratio of one pgr_drivingDistance
# query (which rebuilds its graph each call) to one patrolgrid isochrone,
# both timed in this run. Exits non-zero when a target is missed.
#
# Needs root for apt-get when the Debian packages are missing, and a
# PostgreSQL 15 server on $PGHOST:$PGPORT that trusts user $PGUSER.
#
#   bash bench/pgrouting.sh     # RES=10 STARTS=20 REPEAT=200; KEEP=1 keeps the work files
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${PATROLGRID_TESTDATA:-../shared/data}
PBF=$DATA/osm/monaco.osm.pbf
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=${PGR_DB:-patrolgrid_pgr_bench}
RES=${RES:-10}
STARTS=${STARTS:-20}
REPEAT=${REPEAT:-200}
LIMIT=300
MAPCONFIG=/usr/share/osm2pgrouting/mapconfig_for_cars.xml

[ -f "$PBF" ] || { echo "pgrouting.sh: $PBF is missing (set PATROLGRID_TESTDATA)" >&2; exit 2; }

# Tools: Debian packages, installed when missing.
missing=()
command -v osm2pgrouting >/dev/null || missing+=(osm2pgrouting)
command -v osmium >/dev/null || missing+=(osmium-tool)
[ -f /usr/share/postgresql/15/extension/pgrouting.control ] || missing+=(postgresql-15-pgrouting)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
pg_isready -q || { echo "pgrouting.sh: no PostgreSQL on $PGHOST:$PGPORT" >&2; exit 2; }

WORK=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "keeping the work files in $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")

echo "== loading Monaco into pgRouting (osm2pgrouting, car configuration)" >&2
osmium cat --overwrite -o "$WORK/monaco.osm" "$PBF"
dropdb --if-exists "$DB"
createdb "$DB"
"${PSQL[@]}" -c 'CREATE EXTENSION postgis' -c 'CREATE EXTENSION pgrouting'
osm2pgrouting -f "$WORK/monaco.osm" -c "$MAPCONFIG" -d "$DB" -U "$PGUSER" -h "$PGHOST" -p "$PGPORT" --clean >"$WORK/osm2pgrouting.log" 2>&1 ||
  { tail -20 "$WORK/osm2pgrouting.log" >&2; exit 1; }

echo "== building patrolgrid's pgrouting car graph" >&2
go build -o "$WORK/patrolgrid" ./cmd/patrolgrid
go build -o "$WORK/pgcompare" ./bench/pgcompare
PG=("$WORK/patrolgrid" isochrone --osm "$PBF" --cache "$WORK/monaco-pgrouting.graph" --profile pgrouting --mode car --res "$RES")

# Start points: $STARTS intersections (three or more ways) inside the
# Principality, evenly spread over their OSM node ids, so the same
# extract always gives the same points.
"${PSQL[@]}" -At -F, >"$WORK/starts.csv" <<SQL
WITH deg AS (
  SELECT v AS id, count(*) AS n FROM (SELECT source AS v FROM ways UNION ALL SELECT target FROM ways) e GROUP BY v
), cand AS (
  SELECT p.id, p.osm_id, ST_X(p.the_geom) AS lon, ST_Y(p.the_geom) AS lat,
         row_number() OVER (ORDER BY p.osm_id) AS rn, count(*) OVER () AS total
  FROM ways_vertices_pgr p JOIN deg USING (id)
  WHERE deg.n >= 3 AND p.the_geom && ST_MakeEnvelope(7.410, 43.726, 7.438, 43.750, 4326)
)
SELECT id, lon, lat FROM cand WHERE (rn - 1) % (total / $STARTS) = 0 ORDER BY rn LIMIT $STARTS;
SQL

echo "== pgr_drivingDistance to ${LIMIT} s from $(wc -l <"$WORK/starts.csv") starts" >&2
"${PSQL[@]}" <<SQL
CREATE TABLE bench_starts (id bigint, lon float8, lat float8);
\copy bench_starts FROM '$WORK/starts.csv' CSV
CREATE TABLE bench_dd (start bigint, node bigint, agg_cost float8);
CREATE TABLE bench_times (start bigint, ms float8);
DO \$\$
DECLARE s bigint; t0 timestamptz;
BEGIN
  -- one warm-up query, then each start timed on its own
  PERFORM count(*) FROM pgr_drivingDistance(
    'SELECT gid AS id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM ways',
    (SELECT min(id) FROM bench_starts), $LIMIT, true);
  FOR s IN SELECT id FROM bench_starts ORDER BY id LOOP
    t0 := clock_timestamp();
    INSERT INTO bench_dd SELECT s, node, agg_cost FROM pgr_drivingDistance(
      'SELECT gid AS id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM ways',
      s, $LIMIT, true);
    INSERT INTO bench_times VALUES (s, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
SQL
"${PSQL[@]}" -At -F, -c 'SELECT start, ms FROM bench_times ORDER BY start' >"$WORK/pgr_times.csv"

# pgRouting's reach along the roads: from every reached vertex, points
# every 4 m along each road leaving it in an open direction, at the
# vertex's time plus the share of the road's cost, up to the limit.
"${PSQL[@]}" -At -F, >"$WORK/pgr_samples.csv" <<SQL
WITH e AS (
  SELECT d.start, w.the_geom, w.length_m, d.agg_cost AS t0, w.cost_s AS c, false AS back
  FROM bench_dd d JOIN ways w ON w.source = d.node WHERE w.cost_s > 0
  UNION ALL
  SELECT d.start, w.the_geom, w.length_m, d.agg_cost, w.reverse_cost_s, true
  FROM bench_dd d JOIN ways w ON w.target = d.node WHERE w.reverse_cost_s > 0
), s AS (
  SELECT e.start, e.t0 + f * e.c AS eta,
         ST_LineInterpolatePoint(e.the_geom, CASE WHEN e.back THEN 1 - f ELSE f END) AS p
  FROM e, LATERAL (SELECT generate_series(0, n)::float8 / n AS f
                   FROM (SELECT greatest(1, ceil(e.length_m / 4))::int AS n) k) g
)
SELECT start, ST_X(p), ST_Y(p), eta FROM s WHERE eta <= $LIMIT;
SQL

echo "== patrolgrid isochrone --profile pgrouting from the same starts" >&2
mkdir -p "$WORK/ours"
: >"$WORK/our_times.csv"
while IFS=, read -r id lon lat; do
  "${PG[@]}" --from "$lat,$lon" --limit ${LIMIT}s --repeat "$REPEAT" >"$WORK/ours/$id.csv" 2>"$WORK/time.txt" ||
    { cat "$WORK/time.txt" >&2; exit 1; }
  us=$(sed -n 's/^isochrone: median \([0-9.]*\) µs.*/\1/p' "$WORK/time.txt")
  echo "$id,$us" >>"$WORK/our_times.csv"
done <"$WORK/starts.csv"

echo "== comparison at H3 resolution $RES" >&2
status=0
"$WORK/pgcompare" --res "$RES" --limit $LIMIT --pgr "$WORK/pgr_samples.csv" --ours "$WORK/ours" \
  --pgr-times "$WORK/pgr_times.csv" --our-times "$WORK/our_times.csv" || status=$?
dropdb --if-exists "$DB"
exit $status
