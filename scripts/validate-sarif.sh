#!/usr/bin/env bash
# Validates qperf's SARIF for the bundled seed_shop capture with Microsoft's SARIF
# validator (npm @microsoft/sarif-multitool). Fails on any error-level result; prints
# the warnings and notes. Needs node/npx and the npm registry.
# Usage: scripts/validate-sarif.sh [path/to/qperf]      (default: target/release/qperf)
set -euo pipefail
cd "$(dirname "$0")/.."
QPERF=${1:-target/release/qperf}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$QPERF" analyze fixtures/seed_shop/baseline.log.gz --format sarif > "$tmp/qperf.sarif"
npx -y @microsoft/sarif-multitool@5 validate "$tmp/qperf.sarif" -o "$tmp/result.sarif" \
    --level Error Warning Note > "$tmp/validator.txt" 2>&1 || { cat "$tmp/validator.txt"; exit 1; }
python3 - "$tmp/result.sarif" <<'PY'
import collections, json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
counts = collections.Counter((r.get("level", "warning"), r["ruleId"]) for r in results)
for (level, rule), n in sorted(counts.items()):
    print(f"  {level:7} {rule} x{n}")
errors = sum(n for (level, _), n in counts.items() if level == "error")
print(f"SARIF validator: {errors} errors, {len(results) - errors} warnings/notes")
sys.exit(1 if errors else 0)
PY
