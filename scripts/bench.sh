#!/usr/bin/env bash
# Measures qperf's wall time and peak RSS on generated logs (needs ../shared/bench).
# Usage: scripts/bench.sh [SIZE_MB]     (default 100; files are cached in target/bench/)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-100}
gen=../shared/bench
out=target/bench
mkdir -p "$out"
cargo build --release --quiet
for kind in pg my; do
  f=$out/${kind}_${size}m.log
  if [ ! -f "$f" ]; then
    if [ $kind = pg ]; then python3 $gen/gen_pglog.py --size-mb "$size" --seed 1 --out "$f" --truth "${f%.log}.truth.json"
    else python3 $gen/gen_mysqlslow.py --size-mb "$size" --seed 1 --out "$f" --truth "${f%.log}.truth.json"; fi
  fi
  cat "$f" > /dev/null   # page cache
  bytes=$(stat -c %s "$f")
  /usr/bin/time -f "%e %M" -o "$out/time.txt" target/release/qperf analyze "$f" --format json > "$out/report.json"
  read -r secs rss < "$out/time.txt"
  events=$(python3 -c "import json; print(json.load(open('$out/report.json'))['summary']['events'])")
  truth=$(python3 -c "import json; print(json.load(open('${f%.log}.truth.json'))['totals']['queries'])")
  printf '| %s | %d MB | %s s | %.0f MB/s | %d MB | %s (truth %s) |\n' "$f" $((bytes / 1000000)) "$secs" \
    "$(python3 -c "print($bytes / 1e6 / max($secs, 0.01))")" $((rss / 1024)) "$events" "$truth"
done
