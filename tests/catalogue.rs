//! The rule catalogue (`rules/*.md`), the code's rule registry and the rule fixtures
//! must agree both ways: one id, one doc, one fixture folder, the same thresholds.

use std::collections::BTreeSet;
use std::path::Path;

use qperf::rules::{RuleId, catalogue, parse_doc};

fn dir_names(dir: &str, ext: Option<&str>) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            match ext {
                Some(x) if p.extension()? == x => {
                    Some(p.file_stem()?.to_string_lossy().into_owned())
                }
                None if p.is_dir() => Some(p.file_name()?.to_string_lossy().into_owned()),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn every_rule_has_a_doc_and_every_doc_a_rule() {
    let code: BTreeSet<String> = RuleId::ALL.iter().map(|r| r.to_string()).collect();
    let docs = dir_names("rules", Some("md"));
    assert_eq!(code, docs, "RuleId::ALL vs rules/*.md");
}

#[test]
fn every_rule_has_fixtures_and_every_fixture_folder_a_rule() {
    let code: BTreeSet<String> = RuleId::ALL.iter().map(|r| r.to_string()).collect();
    let fixtures = dir_names("fixtures/rules", None);
    assert_eq!(code, fixtures, "RuleId::ALL vs fixtures/rules/*/");
    for id in &code {
        for f in ["hit.log", "ok.log"] {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/rules")
                .join(id)
                .join(f);
            assert!(p.exists(), "missing {}", p.display());
        }
    }
}

#[test]
fn thresholds_in_code_match_the_doc() {
    for d in catalogue() {
        let doc: Vec<&str> = d.thresholds.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            d.id.params(),
            doc.as_slice(),
            "rules/{}.md thresholds vs the rule's PARAMS",
            d.id
        );
        for (k, v, help) in &d.thresholds {
            assert!(v.is_finite(), "rules/{}.md: {k} is not a number", d.id);
            assert!(
                !help.is_empty(),
                "rules/{}.md: threshold {k} has no description",
                d.id
            );
        }
    }
}

#[test]
fn docs_have_the_sections_users_read() {
    for d in catalogue() {
        for section in [
            "## What it flags",
            "## Why it matters",
            "## Example",
            "## Fix",
            "## Limits",
        ] {
            assert!(
                d.body.contains(section),
                "rules/{}.md lacks `{section}`",
                d.id
            );
        }
        assert!(!d.summary.is_empty());
    }
}

#[test]
fn malformed_front_matter_is_rejected_with_the_line() {
    let bad = "---\nid: seq-scan\nseverity: loud\nsummary: x\n---\nbody";
    let e = parse_doc(RuleId::SeqScan, bad).unwrap_err();
    assert!(e.to_string().contains("unknown severity `loud`"), "{e}");
    let bad =
        "---\nid: seq-scan\nseverity: info\nsummary: x\nthresholds:\n  min_rows_read: lots\n---\n";
    let e = parse_doc(RuleId::SeqScan, bad).unwrap_err();
    assert!(e.to_string().contains("rules/seq-scan.md:6"), "{e}");
    let e = parse_doc(
        RuleId::SeqScan,
        "---\nid: select-star\nseverity: info\nsummary: x\n---\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("expected `seq-scan`"), "{e}");
}
