#!/usr/bin/env python3
"""Compares `qperf explain --format json` with pev2's own parses of the same text plans.

Usage (from the repository root, after `cargo build --release`):
    scripts/check-explain-corpus.py [../shared/corpus/explain-text/pev2]

For every `NN.txt` with an `NN.expect.json` (pev2's parse into PostgreSQL's JSON
vocabulary) it checks that both have the same number of nodes and the same node types in
preorder. pev2 names some nodes its own way ("Nested Loop Join", "HashAggregate",
"Subquery Scan <alias>"); both sides go through the same canonical names first.
Prints one line per disagreement and a summary; exits 1 if any file disagrees.
"""
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/explain-text/pev2")
exe = pathlib.Path("target/release/qperf")


def canon(t):
    t = t.strip()
    for prefix in ("Parallel ", "Partial ", "Finalize "):
        if t.startswith(prefix):
            t = t[len(prefix):]
    if t.startswith("Subquery Scan"):
        return "Subquery Scan"
    if t in ("HashAggregate", "GroupAggregate", "MixedAggregate", "Aggregate"):
        return "Aggregate"
    if t in ("HashSetOp", "SetOp"):
        return "SetOp"
    if t.startswith("Nested Loop"):
        return "Nested Loop"
    if t.startswith("Hash ") and t.endswith("Join"):
        return "Hash Join"
    if t.startswith("Merge ") and t.endswith("Join"):
        return "Merge Join"
    if t in ("Insert", "Update", "Delete", "Merge", "ModifyTable"):
        return "ModifyTable"
    if t.endswith(" Backward"):
        t = t[: -len(" Backward")]
    return t


def expect_types(node, out):
    out.append(canon(node.get("Node Type", "")))
    for c in node.get("Plans", []):
        expect_types(c, out)
    return out


def our_types(node, out):
    out.append(canon(node["node_type"]))
    for c in node["children"]:
        our_types(c, out)
    return out


# pev2's expectation files that leave nodes out (checked by hand against the plan text).
PARTIAL = {
    "46-buckets.txt": "the expectation stops at the Hash; the plan has its Seq Scan on s1k below it",
    "48-memoize.txt": "the expectation stops at the Memoize; the plan has its Index Scan on users below it",
}

checked = bad = partial = 0
for exp in sorted(root.rglob("*.expect.json")):
    txt = exp.with_name(exp.name.replace(".expect.json", ".txt"))
    if not txt.exists():
        continue
    want_doc = json.loads(exp.read_text())
    want_doc = want_doc[0] if isinstance(want_doc, list) else want_doc
    if "Plan" not in want_doc:
        continue
    want = expect_types(want_doc["Plan"], [])
    r = subprocess.run([str(exe), "explain", str(txt), "--format", "json"], capture_output=True, text=True)
    checked += 1
    if r.returncode not in (0, 1):
        bad += 1
        print(f"FAIL {txt}: exit {r.returncode}: {r.stderr.strip()[:200]}")
        continue
    got = our_types(json.loads(r.stdout)["plan"]["root"], [])
    if got != want and txt.name in PARTIAL and got[: len(want)] == want:
        partial += 1
        print(f"NOTE {txt}: {PARTIAL[txt.name]}")
        continue
    if got != want:
        bad += 1
        print(f"DIFF {txt}: {len(got)} nodes vs pev2 {len(want)}")
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                print(f"     first difference at node {i + 1}: {a!r} vs pev2 {b!r}")
                break
print(f"{checked} plans with pev2 expectations, {checked - bad - partial} agree on node count and types, "
      f"{partial} agree as far as pev2's partial expectation goes, {bad} differ")
sys.exit(1 if bad else 0)
