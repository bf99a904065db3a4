#!/usr/bin/env python3
"""Compare qperf with pt-query-digest on MySQL slow logs: events and total Query_time per file.

Usage: scripts/compare-pt-query-digest.py FILE_OR_DIR...   (needs pt-query-digest on PATH and
a release build: cargo build --release). Exits 1 when any file differs.
"""
import gzip, json, pathlib, subprocess, sys

exe = pathlib.Path(__file__).resolve().parent.parent / "target/release/qperf"
files = []
for a in sys.argv[1:]:
    p = pathlib.Path(a)
    files += sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]

bad = 0
for f in files:
    # pt-query-digest does not decompress; qperf reads the .gz itself.
    data = gzip.open(f).read() if f.suffix == ".gz" else f.read_bytes()
    pt = subprocess.run(["pt-query-digest", "--output", "json", "--limit", "100%"], input=data,
                        capture_output=True)
    pt.stdout = pt.stdout.decode(errors="replace")
    try:
        g = json.loads(pt.stdout[pt.stdout.index("{"):])["global"]
        pt_events = int(g["query_count"])
        pt_time = float(g["metrics"].get("Query_time", {}).get("sum", 0) or 0)
    except (ValueError, KeyError):
        pt_events, pt_time = 0, 0.0
    q = subprocess.run([str(exe), "analyze", str(f), "--format", "json", "--input-format", "mysql-slow"],
                       capture_output=True, text=True, errors="replace")
    try:
        s = json.loads(q.stdout)["summary"]
        q_events, q_time = s["events"], s["total_ms"] / 1000
    except ValueError:
        q_events, q_time = 0, 0.0
    same = pt_events == q_events and abs(pt_time - q_time) <= max(1e-6, 1e-6 * pt_time)
    bad += not same
    print(f"{'ok  ' if same else 'DIFF'} {f}: pt-query-digest {pt_events} events {pt_time:.6f} s, qperf {q_events} events {q_time:.6f} s")
print(f"{len(files) - bad} same, {bad} different")
sys.exit(1 if bad else 0)
