#!/usr/bin/env bash
# End-to-end proof on a real database: what qperf suggests for the seed_shop baseline
# capture, applied as emitted, measured with the seed_shop simulator.
#
# Usage: scripts/case-study.sh OUTDIR [SEED_SHOP_DIR]   (default: ../shared/scenario/seed_shop)
# Needs: the seed_shop requirements (PostgreSQL 15 on 5432, psql, python3 + psycopg 3) and a
# release build (cargo build --release). Takes ~10 minutes on 2 cores.
#   A   baseline database (primary keys only), default logging
#   Q   + exactly the SQL of `qperf analyze <baseline capture> --format sql`
#   QA  Q with the application-side rewrites qperf proposes (app.py --app-fixes: JOIN
#       instead of the N+1 loop, narrow SELECT, cache of the repeated dashboard query)
# Writes OUTDIR/{qperf.sql,A.json,Q.json,QA.json,table.md}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
SEED=$(cd "${2:-$ROOT/../shared/scenario/seed_shop}" && pwd)
QPERF=$ROOT/target/release/qperf
[ -x "$QPERF" ] || { echo "build first: cargo build --release" >&2; exit 2; }

"$QPERF" analyze "$SEED/captured/baseline_text/postgresql.log" --format sql > "$OUT/qperf.sql"
cd "$SEED"
. ./lib.sh
./reset_logging.sh 2>/dev/null
./setup_db.sh >/dev/null
run() { local label=$1; shift; log "run $label"; $PYTHON app.py -R 1000 --seed 42 "$@" --out "$OUT/$label.json" >/dev/null; }
run A
log "applying $OUT/qperf.sql"
app_psql -v ON_ERROR_STOP=1 -f "$OUT/qperf.sql"
run Q
run QA --app-fixes
$PYTHON summarize.py A="$OUT/A.json" Q="$OUT/Q.json" QA="$OUT/QA.json" | tee "$OUT/table.md"
