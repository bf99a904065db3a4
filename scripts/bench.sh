#!/usr/bin/env bash
# qperf beside pgBadger, pt-query-digest and the grep/cat floors on generated logs of
# 100 MB and 1 GB, in one run; prints the table docs/performance.md records.
#
# Usage: scripts/bench.sh [--sizes "100 1024"] [--runs N] [--peer-runs N] [--no-peers]
#   needs ../shared/bench (generators, peers.sh), GNU time, and for the peers the
#   Debian packages pgbadger and percona-toolkit. Files are cached in target/bench/.
#   pgBadger runs on the 100 MB file only (the issue's rule: it waits on its workers in
#   1 s steps, and -j 1 takes minutes per 100 MB); pt-query-digest runs on both sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="100 1024" runs=3 peer_runs=1 peers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2;;
    --runs) runs=$2; shift 2;;
    --peer-runs) peer_runs=$2; shift 2;;
    --no-peers) peers=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
bench=../shared/bench
out=target/bench
raw=$out/peers.tsv
mkdir -p "$out"
: > "$raw"
cargo build --release --quiet
qperf=$PWD/target/release/qperf

for s in $sizes; do
  for kind in pg my; do
    f=$out/${kind}_${s}m.log
    [ -f "$f" ] && continue
    gen=$bench/gen_pglog.py; [ $kind = my ] && gen=$bench/gen_mysqlslow.py
    python3 "$gen" --size-mb "$s" --seed 1 --out "$f" --truth "${f%.log}.truth.json" >&2
  done
done

for s in $sizes; do
  pg=$out/pg_${s}m.log my=$out/my_${s}m.log
  # qperf with every core (the default) and with one thread, and the floors.
  "$bench/peers.sh" --pg "$pg" --my "$my" --runs "$runs" --raw "$raw" --tools floor,extra \
    --extra-pg "$qperf analyze {} --format json" --extra-my "$qperf analyze {} --format json" > /dev/null
  "$bench/peers.sh" --pg "$pg" --my "$my" --runs "$runs" --raw "$raw" --tools extra --extra-name qperf-j1 \
    --extra-pg "$qperf analyze {} --format json --jobs 1" --extra-my "$qperf analyze {} --format json --jobs 1" > /dev/null
  if [ "$peers" = 1 ]; then
    tools=ptqd
    [ "$s" -le 100 ] && tools=pgbadger,pgbadger-j2,ptqd
    "$bench/peers.sh" --pg "$pg" --my "$my" --runs "$peer_runs" --raw "$raw" --tools "$tools" > /dev/null
  fi
  # Every statement counted once: qperf's count against the generator's truth.
  for kind in pg my; do
    f=$out/${kind}_${s}m.log
    "$qperf" analyze "$f" --format json > "$out/report.json" || true
    python3 - "$out/report.json" "${f%.log}.truth.json" "$f" <<'PY' >&2
import json, sys
r, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"# {sys.argv[3]}: qperf {r['summary']['events']} statements, {r['summary']['fingerprints']} fingerprints; "
      f"truth {t['totals']['queries']} statements, {len(t['shapes'])} shapes")
PY
  done
done

echo
echo "## Results ($(date -u +%F), $(nproc) cores; medians; x qperf = wall / qperf's wall on the same file)"
echo
"$bench/peers.sh" --summary "$raw"
echo
echo "## Commands"
echo
cut -f1,11 "$raw" | sort -u | awk -F'\t' '{printf "- %s: `%s`\n", $1, $2}' | sed "s#$PWD/##g"
