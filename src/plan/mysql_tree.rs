//! MySQL 8 `EXPLAIN FORMAT=TREE` and `EXPLAIN ANALYZE` output:
//!
//! ```text
//! -> Limit: 20 row(s)  (cost=1005 rows=20) (actual time=3.1..3.1 rows=20 loops=1)
//!     -> Filter: (o.user_id = 42)  (cost=1005 rows=1000) (actual time=0.04..3.1 rows=30 loops=1)
//!         -> Table scan on o  (cost=1005 rows=10000) (actual time=0.03..2.5 rows=10000 loops=1)
//! ```
//!
//! MySQL prints a filter as its own node above the scan; it is folded into the scan
//! (`filter`, `rows_removed_by_filter`) so the plan rules read both servers alike.

use std::sync::OnceLock;

use regex::Regex;

use super::{Plan, PlanFormat, PlanNode, close_to, set_actuals};

fn line_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<name>.+?)(?:\s+\(cost=(?:[\d.e+]+\.\.)?(?P<cost>[\d.e+]+) rows=(?P<rows>[\d.e+]+)\))?(?:\s+\((?:actual time=(?P<as>[\d.]+)\.\.(?P<at>[\d.]+) rows=(?P<ar>[\d.e+]+) loops=(?P<lp>\d+)|(?P<never>never executed))\))?\s*$",
        )
        .expect("static regex")
    })
}

pub fn looks_like(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && *l != "EXPLAIN")
        // PostgreSQL's arrows are followed by two spaces (`->  Seq Scan`).
        .is_some_and(|l| l.starts_with("-> ") && !l.starts_with("->  "))
}

fn after<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    s.find(word).map(|p| &s[p + word.len()..])
}

/// `on o using idx_order (order_id=o.id)` → (relation, index, condition).
fn target(rest: &str) -> (Option<String>, Option<String>, Option<String>) {
    let rest = rest.trim();
    let (head, cond) = match rest.find(" (") {
        Some(p) => (&rest[..p], Some(rest[p + 1..].trim().to_string())),
        None => (rest, None),
    };
    let mut rel = None;
    let mut idx = None;
    let words: Vec<&str> = head.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "on" if i + 1 < words.len() => {
                rel = Some(words[i + 1].trim_matches('`').to_string());
                i += 1;
            }
            "using" if i + 1 < words.len() => {
                idx = Some(words[i + 1].trim_matches('`').to_string());
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (rel, idx, cond)
}

fn classify(name: &str, n: &mut PlanNode) {
    let lower = name.to_ascii_lowercase();
    let (ty, rest): (&str, &str) = if let Some(r) = after(name, "Table scan") {
        ("Full Table Scan", r)
    } else if let Some(r) =
        after(&lower, "index lookup").map(|_| after(name, "lookup").unwrap_or(""))
    {
        ("Index Lookup", r)
    } else if let Some(r) =
        after(&lower, "index range scan").map(|_| after(name, "scan").unwrap_or(""))
    {
        ("Index Range Scan", r)
    } else if let Some(r) = after(&lower, "index scan").map(|_| after(name, "scan").unwrap_or("")) {
        ("Full Index Scan", r)
    } else {
        ("", "")
    };
    if !ty.is_empty() {
        n.node_type = ty.to_string();
        let (rel, idx, cond) = target(rest);
        n.relation = rel.filter(|r| r != "<temporary>");
        n.index = idx;
        n.index_cond = cond;
        return;
    }
    let head = name.split(':').next().unwrap_or(name).trim();
    let detail = name.split_once(':').map(|x| x.1.trim().to_string());
    n.node_type = match head {
        "Limit" | "Limit/Offset" => "Limit".into(),
        "Sort" | "Sort row IDs" => {
            n.sort_key = detail
                .map(|d| {
                    d.split(", limit input")
                        .next()
                        .unwrap_or("")
                        .split(", ")
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            "Sort".into()
        }
        "Filter" => {
            n.filter = detail;
            "Filter".into()
        }
        "Aggregate" => {
            n.strategy = Some("Plain".into());
            "Aggregate".into()
        }
        "Group aggregate" => {
            n.strategy = Some("Sorted".into());
            "Aggregate".into()
        }
        "Aggregate using temporary table" => {
            n.strategy = Some("Hashed".into());
            "Aggregate".into()
        }
        h if h.starts_with("Nested loop ") => {
            n.join_type = Some(join_type(&h["Nested loop ".len()..]));
            "Nested Loop".into()
        }
        h if h.contains("hash join") => {
            n.join_type = Some(join_type(h.split(" hash join").next().unwrap_or("inner")));
            if let Some(p) = name.find(" (") {
                n.hash_cond = Some(name[p + 1..].trim().to_string());
            }
            "Hash Join".into()
        }
        h => {
            let mut s = h.to_string();
            if let Some(c) = s.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            s
        }
    };
}

fn join_type(s: &str) -> String {
    match s.trim().trim_end_matches(" join") {
        "inner" | "" => "Inner",
        "left" | "outer" => "Left",
        "semijoin" | "semi" => "Semi",
        "antijoin" | "anti" => "Anti",
        other => return other.to_string(),
    }
    .to_string()
}

/// A Filter over a single scan becomes the scan's filter, as PostgreSQL prints it.
fn fold_filters(n: &mut PlanNode) {
    for c in &mut n.children {
        fold_filters(c);
    }
    if n.node_type == "Filter" && n.children.len() == 1 {
        let child = &n.children[0];
        if child.node_type.ends_with("Scan") || child.node_type == "Index Lookup" {
            let mut scan = n.children.pop().unwrap_or_default();
            let read = scan.actual_rows;
            scan.filter = n.filter.take();
            scan.rows_removed_by_filter = match (read, n.actual_rows) {
                (Some(r), Some(kept)) => super::nz(Some((r - kept).max(0.0))),
                _ => None,
            };
            scan.actual_rows = n.actual_rows.or(scan.actual_rows);
            scan.plan_rows = n.plan_rows.or(scan.plan_rows);
            *n = scan;
        }
    }
}

pub fn parse(text: &str) -> Option<Plan> {
    let mut stack: Vec<(usize, PlanNode)> = Vec::new();
    let mut root: Option<PlanNode> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let Some(body) = trimmed.strip_prefix("-> ") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let Some(c) = line_re().captures(body.trim()) else {
            continue;
        };
        let mut n = PlanNode::default();
        classify(&c["name"], &mut n);
        let f = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<f64>().ok());
        n.total_cost = f("cost");
        n.plan_rows = f("rows");
        set_actuals(&mut n, &c);
        close_to(&mut stack, &mut root, indent);
        if stack.is_empty() && root.is_some() {
            continue;
        }
        stack.push((indent, n));
    }
    close_to(&mut stack, &mut root, 0);
    let mut root = root?;
    fold_filters(&mut root);
    Some(Plan {
        format: PlanFormat::MysqlTree,
        execution_ms: root.actual_ms,
        root,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn explain_analyze_tree() {
        let text = "EXPLAIN
-> Limit: 20 row(s)  (cost=1005 rows=20) (actual time=3.12..3.13 rows=20 loops=1)
    -> Sort: o.created_at DESC, limit input to 20 row(s) per chunk  (cost=1005 rows=10000) (actual time=3.1..3.1 rows=20 loops=1)
        -> Filter: (o.user_id = 42)  (cost=1005 rows=1000) (actual time=0.04..3.01 rows=30 loops=1)
            -> Table scan on o  (cost=1005 rows=10000) (actual time=0.03..2.5 rows=10000 loops=1)
-> Nested loop inner join  (cost=9 rows=3)
";
        let p = crate::plan::parse(text).unwrap();
        assert_eq!(p.format, crate::plan::PlanFormat::MysqlTree);
        assert_eq!(p.root.node_type, "Limit");
        let sort = &p.root.children[0];
        assert_eq!(sort.sort_key, vec!["o.created_at DESC"]);
        let scan = &sort.children[0];
        assert!(scan.is_seq_scan());
        assert_eq!(scan.relation.as_deref(), Some("o"));
        assert_eq!(scan.filter.as_deref(), Some("(o.user_id = 42)"));
        assert_eq!(scan.scan_rows(), Some((10000.0, 30.0)));
    }

    #[test]
    fn mysql_client_box() {
        let text = "+----------+\n| EXPLAIN |\n+----------+\n| -> Limit: 1 row(s)  (cost=1 rows=1)\n    -> Table scan on t  (cost=1 rows=1)\n |\n+----------+\n1 row in set (0.00 sec)\n";
        let p = crate::plan::parse(text).unwrap();
        assert_eq!(p.root.node_type, "Limit");
        assert_eq!(p.root.children[0].relation.as_deref(), Some("t"));
    }

    #[test]
    fn index_lookup_and_hash_join() {
        let text = "-> Inner hash join (o.user_id = u.id)  (cost=3.5 rows=3) (actual time=0.1..0.2 rows=3 loops=1)
    -> Index lookup on i using idx_order (order_id=o.id)  (cost=0.25 rows=3) (actual time=0.01..0.02 rows=3 loops=30)
    -> Hash
        -> Single-row index lookup on u using PRIMARY (id=42)  (cost=0.35 rows=1) (never executed)
";
        let p = crate::plan::parse(text).unwrap();
        assert_eq!(p.root.node_type, "Hash Join");
        assert_eq!(p.root.hash_cond.as_deref(), Some("(o.user_id = u.id)"));
        let look = &p.root.children[0];
        assert_eq!(
            (look.node_type.as_str(), look.index.as_deref()),
            ("Index Lookup", Some("idx_order"))
        );
        assert_eq!(look.index_cond.as_deref(), Some("(order_id=o.id)"));
        assert!(p.root.children[1].children[0].never_executed);
    }
}
