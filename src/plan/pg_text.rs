//! PostgreSQL text-format plans (psql output and auto_explain log entries).
//!
//! The tree is read from indentation: a node line is `->  Name  (cost=…) (actual …)` (or
//! the first node line, which has no arrow); property lines (`Filter: …`) belong to the
//! nearest node above that is less indented.

use std::sync::OnceLock;

use regex::Regex;

use super::{Plan, PlanNode};

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<name>.+?)(?:\s+\(cost=(?P<sc>[\d.]+)\.\.(?P<tc>[\d.]+) rows=(?P<pr>\d+) width=\d+\))?(?:\s+\((?:actual (?:time=(?P<as>[\d.]+)\.\.(?P<at>[\d.]+) )?rows=(?P<ar>[\d.]+) loops=(?P<lp>\d+)|(?P<never>never executed))\))?\s*$",
        )
        .expect("static regex")
    })
}

/// A node line's name, split into type, relation, alias and index.
fn split_name(name: &str, n: &mut PlanNode) {
    let mut s = name.trim();
    if let Some(rest) = s.strip_prefix("Parallel ") {
        n.parallel = true;
        s = rest;
    }
    let (head, rel) = match s.find(" on ") {
        Some(p) => (&s[..p], Some(&s[p + 4..])),
        None => (s, None),
    };
    let (ty, idx) = match head.find(" using ") {
        Some(p) => (&head[..p], Some(&head[p + 7..])),
        None => (head, None),
    };
    n.node_type = ty.trim().to_string();
    n.index = idx.map(|i| i.trim().to_string());
    if let Some(rel) = rel {
        let mut parts = rel.split_whitespace();
        let r = parts.next().unwrap_or("");
        // `public.orders` → `orders`; the schema rarely matters for advice.
        let r = r.rsplit('.').next().unwrap_or(r).trim_matches('"');
        n.relation = Some(r.to_string());
        n.alias = parts.next().map(|a| a.trim_matches('"').to_string());
    } else if n.node_type == "Bitmap Index Scan" {
        // `Bitmap Index Scan on idx`: the name after `on` is the index.
    }
    if n.node_type == "Bitmap Index Scan" {
        n.index = n.relation.take();
        n.alias = None;
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .trim_end_matches("kB")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn property(n: &mut PlanNode, key: &str, value: &str) {
    let v = value.trim();
    match key {
        "Filter" => n.filter = Some(v.to_string()),
        "Index Cond" | "Recheck Cond" if n.index_cond.is_none() => {
            n.index_cond = Some(v.to_string())
        }
        "Join Filter" => n.join_filter = Some(v.to_string()),
        "Hash Cond" | "Merge Cond" => n.hash_cond = Some(v.to_string()),
        "Rows Removed by Filter" => n.rows_removed_by_filter = number(v),
        "Sort Key" => n.sort_key = v.split(", ").map(str::to_string).collect(),
        "Workers Launched" => n.workers_launched = number(v),
        "Sort Method" => {
            // `external merge  Disk: 11336kB` / `quicksort  Memory: 25kB`
            let (method, space) = match v.find("  ") {
                Some(p) => (&v[..p], v[p..].trim()),
                None => (v, ""),
            };
            n.sort_method = Some(method.trim().to_string());
            if let Some((ty, kb)) = space.split_once(':') {
                n.sort_space_type = Some(ty.trim().to_string());
                n.sort_space_kb = number(kb);
            }
        }
        _ => {}
    }
}

pub fn parse(text: &str) -> Option<Plan> {
    let mut plan = Plan::default();
    // (indent of the node line, node); the stack holds the open ancestors.
    let mut stack: Vec<(usize, PlanNode)> = Vec::new();
    let mut root: Option<PlanNode> = None;
    let close_to =
        |stack: &mut Vec<(usize, PlanNode)>, root: &mut Option<PlanNode>, indent: usize| {
            while let Some((i, _)) = stack.last() {
                if *i < indent {
                    break;
                }
                let (_, node) = stack.pop().expect("non-empty");
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.push(node),
                    None => *root = Some(node),
                }
            }
        };
    for raw in text.lines() {
        // psql's `+` wrap markers and a leading/trailing pipe or quote from pasted output.
        let line = raw.trim_end().trim_end_matches('+').trim_end();
        let line = line.trim_start_matches('\t');
        if line.trim().is_empty() || line.trim_start().starts_with("QUERY PLAN") {
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.chars().all(|c| c == '-')
            || (trimmed.starts_with('(') && trimmed.ends_with("rows)"))
        {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(rest) = trimmed.strip_prefix("Query Text:") {
            plan.query_text = Some(rest.trim().to_string());
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Planning Time:") {
            plan.planning_ms = number(rest.trim_end_matches(" ms"));
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Execution Time:") {
            plan.execution_ms = number(rest.trim_end_matches(" ms"));
            continue;
        }
        let is_arrow = trimmed.starts_with("->");
        let body = trimmed.trim_start_matches("->").trim_start();
        let node_indent = indent;
        let looks_like_node = is_arrow
            || (stack.is_empty() && root.is_none())
            || body.contains("(cost=")
            || body.contains("(actual ");
        if looks_like_node && let Some(c) = header_re().captures(body) {
            let mut n = PlanNode::default();
            split_name(&c["name"], &mut n);
            let f = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<f64>().ok());
            n.startup_cost = f("sc");
            n.total_cost = f("tc");
            n.plan_rows = f("pr");
            n.actual_ms = f("at");
            n.actual_rows = f("ar");
            n.loops = f("lp");
            n.never_executed = c.name("never").is_some();
            if root.is_some() && stack.is_empty() {
                // A second top-level tree (e.g. a trigger line): keep the first.
                continue;
            }
            close_to(&mut stack, &mut root, node_indent);
            stack.push((node_indent, n));
            continue;
        }
        if let Some((k, v)) = body.split_once(": ")
            && let Some((_, node)) = stack.last_mut()
        {
            property(node, k.trim(), v);
        } else if let Some((k, v)) = body.split_once(':')
            && let Some((_, node)) = stack.last_mut()
        {
            property(node, k.trim(), v);
        }
    }
    close_to(&mut stack, &mut root, 0);
    plan.root = root?;
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_explain_entry() {
        let text = "\tQuery Text: SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20
\tLimit  (cost=30375.17..30377.27 rows=18 width=74) (actual time=239.037..239.121 rows=13 loops=1)
\t  Buffers: shared hit=866 read=19208
\t  ->  Gather Merge  (cost=30375.17..30377.27 rows=18 width=74) (actual time=239.035..239.118 rows=13 loops=1)
\t        Workers Launched: 2
\t        ->  Sort  (cost=29375.14..29375.17 rows=9 width=74) (actual time=213.034..213.036 rows=4 loops=3)
\t              Sort Key: created_at DESC
\t              Sort Method: external merge  Disk: 11336kB
\t              ->  Parallel Seq Scan on orders  (cost=0.00..29375.00 rows=9 width=74) (actual time=60.027..212.969 rows=4 loops=3)
\t                    Filter: ((user_id = 41199) AND (status = 'completed'::text))
\t                    Rows Removed by Filter: 499996
";
        let p = parse(text).unwrap();
        assert!(p.query_text.unwrap().starts_with("SELECT"));
        assert_eq!(p.root.node_type, "Limit");
        let sort = &p.root.children[0].children[0];
        assert_eq!(sort.sort_method.as_deref(), Some("external merge"));
        assert_eq!(sort.sort_space_kb, Some(11336.0));
        let scan = &sort.children[0];
        assert!(scan.parallel && scan.is_seq_scan());
        assert_eq!(scan.relation.as_deref(), Some("orders"));
        assert_eq!(scan.rows_read(), Some(3.0 * 500000.0));
    }

    #[test]
    fn psql_output_with_index_scan() {
        let text = "                                QUERY PLAN
---------------------------------------------------------------------------
 Index Scan using order_items_order_id_idx on order_items i  (cost=0.43..8.5 rows=4 width=20) (actual time=0.02..0.03 rows=4 loops=1)
   Index Cond: (order_id = 42)
 Planning Time: 0.1 ms
 Execution Time: 0.05 ms
(4 rows)
";
        let p = parse(text).unwrap();
        assert_eq!(p.root.index.as_deref(), Some("order_items_order_id_idx"));
        assert_eq!(p.root.relation.as_deref(), Some("order_items"));
        assert_eq!(p.root.alias.as_deref(), Some("i"));
        assert_eq!(p.root.index_cond.as_deref(), Some("(order_id = 42)"));
        assert_eq!(p.execution_ms, Some(0.05));
    }
}
