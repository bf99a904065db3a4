//! PostgreSQL text-format plans (psql output and auto_explain log entries), already
//! unframed by `frame`.
//!
//! The tree comes from indentation: a node line is `->  Name  (cost=…) (actual …)` (the
//! first node has no arrow); property lines (`Filter: …`) belong to the node above them;
//! `InitPlan 1`, `SubPlan 2` and `CTE name` lines label the subtree that follows.

use super::{Plan, PlanNode, Trigger, close_to, nz};

/// A node line: `name  (cost=sc..tc rows=pr width=w) (actual time=as..at rows=ar
/// loops=lp)` or `(never executed)`, each part optional. Read by hand: this runs for
/// every line of every logged plan, where a capturing regex cost more than the rest of
/// the plan reading together. `tests::header_matches_the_pattern` holds it to the
/// pattern it replaced.
#[derive(Debug, Default, PartialEq)]
struct Header<'a> {
    name: &'a str,
    cost: [Option<f64>; 4],
    actual: [Option<f64>; 4],
    never: bool,
}

/// `[\d.]+` → its value (None when it is not a number, like `1.2.3`).
fn num(t: &str, int_only: bool) -> Option<Option<f64>> {
    let ok = !t.is_empty()
        && t.bytes()
            .all(|c| c.is_ascii_digit() || (!int_only && c == b'.'));
    ok.then(|| t.parse::<f64>().ok())
}

/// `a..b`: the split the greedy pattern makes (at the last `..`).
fn range(t: &str) -> Option<(Option<f64>, Option<f64>)> {
    let i = t.rfind("..")?;
    Some((num(&t[..i], false)?, num(&t[i + 2..], false)?))
}

/// `key=value` at the start of `t`, up to the next space; returns the value and the rest.
fn field<'a>(t: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let t = t.strip_prefix(key)?.strip_prefix('=')?;
    Some(match t.find(' ') {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    })
}

fn cost_part(t: &str) -> Option<[Option<f64>; 4]> {
    let (r, rest) = field(t, "cost")?;
    let (sc, tc) = range(r)?;
    let (pr, rest) = field(rest, "rows")?;
    let (w, rest) = field(rest, "width")?;
    if !rest.is_empty() {
        return None;
    }
    Some([sc, tc, num(pr, false)?, num(w, true)?])
}

fn actual_part(t: &str) -> Option<[Option<f64>; 4]> {
    let mut t = t.strip_prefix("actual ")?;
    let (mut st, mut at) = (None, None);
    if let Some((r, rest)) = field(t, "time") {
        (st, at) = range(r)?;
        t = rest;
    }
    let (ar, rest) = field(t, "rows")?;
    let (lp, rest) = field(rest, "loops")?;
    if !rest.is_empty() {
        return None;
    }
    Some([st, at, num(ar, false)?, num(lp, true)?])
}

/// The trailing `(…)` of `s` after whitespace: (what is before it, trimmed; inside).
fn last_group(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_suffix(')')?;
    let open = body.rfind('(')?;
    let before = &body[..open];
    let mut name = before.trim_end();
    if name.is_empty() {
        // Only whitespace before: the pattern's name takes one character of it.
        name = &before[..before.chars().next()?.len_utf8()];
    }
    (before.len() > name.len()).then(|| (name, &body[open + 1..]))
}

fn parse_header(body: &str) -> Option<Header<'_>> {
    let mut s = body.trim_end();
    let mut h = Header::default();
    if let Some((rest, inner)) = last_group(s) {
        if inner == "never executed" {
            h.never = true;
            s = rest;
        } else if let Some(a) = actual_part(inner) {
            h.actual = a;
            s = rest;
        }
    }
    if let Some((rest, inner)) = last_group(s)
        && let Some(c) = cost_part(inner)
    {
        h.cost = c;
        s = rest;
    }
    if s.is_empty() || s.contains('\n') {
        return None;
    }
    h.name = s;
    Some(h)
}

/// Node names PostgreSQL prints, to tell a cost-less (`COSTS OFF`) node line from a
/// property line.
const NODE_WORDS: &[&str] = &[
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap",
    "Tid Scan",
    "Tid Range Scan",
    "Subquery Scan",
    "Function Scan",
    "Table Function Scan",
    "Values Scan",
    "CTE Scan",
    "Named Tuplestore Scan",
    "WorkTable Scan",
    "Foreign Scan",
    "Custom Scan",
    "Sample Scan",
    "Result",
    "ProjectSet",
    "Append",
    "Merge Append",
    "Recursive Union",
    "Nested Loop",
    "Merge",
    "Hash",
    "Materialize",
    "Memoize",
    "Sort",
    "Incremental Sort",
    "Group",
    "Aggregate",
    "HashAggregate",
    "GroupAggregate",
    "MixedAggregate",
    "WindowAgg",
    "Unique",
    "SetOp",
    "HashSetOp",
    "LockRows",
    "Limit",
    "Gather",
    "Gather Merge",
    "Insert",
    "Update",
    "Delete",
    "Partial",
    "Finalize",
    "Parallel",
];

fn looks_like_node(body: &str) -> bool {
    // `: ` first: it rules out every property line without comparing the node words.
    !body.contains(": ")
        && NODE_WORDS.iter().any(|w| {
            body.starts_with(w)
                && body[w.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ' || c == '(')
        })
}

/// Splits a node name into the JSON vocabulary.
fn classify(name: &str, n: &mut PlanNode) {
    let mut s = name.trim();
    if let Some(rest) = s.strip_prefix("Parallel ") {
        n.parallel = true;
        s = rest;
    }
    // `Async Foreign Scan` (PG 14+): JSON says "Async Capable"; the node is a Foreign Scan.
    s = s.strip_prefix("Async ").unwrap_or(s);
    for mode in ["Partial ", "Finalize "] {
        if let Some(rest) = s.strip_prefix(mode) {
            n.partial_mode = Some(mode.trim().to_string());
            s = rest;
        }
    }
    let (head, target) = match s.find(" on ") {
        Some(p) => (&s[..p], Some(s[p + 4..].trim())),
        None => (s, None),
    };
    let (ty, idx) = match head.find(" using ") {
        Some(p) => (&head[..p], Some(head[p + 7..].trim().to_string())),
        None => (head, None),
    };
    let mut ty = ty.trim().to_string();
    if let Some(t) = ty.strip_suffix(" Backward") {
        n.backward = true;
        ty = t.to_string();
    }
    n.index = idx;
    let agg = |strategy: &str, n: &mut PlanNode| {
        n.strategy = Some(strategy.to_string());
        "Aggregate".to_string()
    };
    n.node_type = match ty.as_str() {
        "Aggregate" => agg("Plain", n),
        "HashAggregate" => agg("Hashed", n),
        "GroupAggregate" => agg("Sorted", n),
        "MixedAggregate" => agg("Mixed", n),
        "HashSetOp" => {
            n.strategy = Some("Hashed".into());
            "SetOp".into()
        }
        "SetOp" => {
            n.strategy = Some("Sorted".into());
            "SetOp".into()
        }
        "Insert" | "Update" | "Delete" | "Merge" if target.is_some() => {
            n.operation = Some(ty.clone());
            "ModifyTable".into()
        }
        t if t.starts_with("Hash ") && t.ends_with(" Join")
            || t.starts_with("Merge ") && t.ends_with(" Join") =>
        {
            let base = if t.starts_with("Hash") {
                "Hash Join"
            } else {
                "Merge Join"
            };
            let mid = t[t.find(' ').unwrap_or(0)..t.len() - 5].trim();
            n.join_type = Some(if mid.is_empty() {
                "Inner".into()
            } else {
                mid.to_string()
            });
            base.into()
        }
        t if t.starts_with("Nested Loop") => {
            let mid = t["Nested Loop".len()..]
                .trim()
                .trim_end_matches("Join")
                .trim();
            n.join_type = Some(if mid.is_empty() {
                "Inner".into()
            } else {
                mid.to_string()
            });
            "Nested Loop".into()
        }
        t => t.to_string(),
    };
    if n.partial_mode.is_some() && n.node_type != "Aggregate" {
        // `Partial` only qualifies aggregates; anything else keeps its name.
        n.node_type = format!(
            "{} {}",
            n.partial_mode.take().unwrap_or_default(),
            n.node_type
        );
    }
    let Some(target) = target else { return };
    let mut parts = target.split_whitespace();
    let first = parts.next().unwrap_or("").trim_matches('"');
    let alias = parts.next().map(|a| a.trim_matches('"').to_string());
    let (schema, object) = match first.rsplit_once('.') {
        Some((sc, o)) if !first.starts_with('"') => {
            (Some(sc.trim_matches('"').to_string()), o.trim_matches('"'))
        }
        _ => (None, first),
    };
    match n.node_type.as_str() {
        "Bitmap Index Scan" => n.index = Some(object.to_string()),
        "CTE Scan" | "WorkTable Scan" | "Named Tuplestore Scan" => {
            n.cte_name = Some(object.to_string());
            n.alias = alias.filter(|a| a != object);
        }
        "Function Scan" | "Table Function Scan" => {
            n.function_name = Some(object.to_string());
            n.schema = schema;
            n.alias = alias.filter(|a| a != object);
        }
        "Subquery Scan" | "Values Scan" => n.alias = Some(object.to_string()),
        _ => {
            n.relation = Some(object.to_string());
            n.schema = schema;
            n.alias = alias.filter(|a| a != object);
        }
    }
}

fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t.split_whitespace().next()?;
    t.trim_end_matches("kB").trim_end_matches("ms").parse().ok()
}

/// `key=value` pairs after a prefix word: `shared hit=1 read=2` → [("hit",1),("read",2)].
fn pairs(s: &str) -> Vec<(&str, f64)> {
    s.split_whitespace()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k, v.trim_end_matches(',').parse().ok()?))
        })
        .collect()
}

fn buffers(n: &mut PlanNode, v: &str) {
    for part in v.split(", ") {
        let (scope, rest) = part.split_once(' ').unwrap_or((part, ""));
        for (k, x) in pairs(rest) {
            let slot = match (scope, k) {
                ("shared", "hit") => &mut n.buffers.shared_hit,
                ("shared", "read") => &mut n.buffers.shared_read,
                ("shared", "dirtied") => &mut n.buffers.shared_dirtied,
                ("shared", "written") => &mut n.buffers.shared_written,
                ("local", "hit") => &mut n.buffers.local_hit,
                ("local", "read") => &mut n.buffers.local_read,
                ("temp", "read") => &mut n.buffers.temp_read,
                ("temp", "written") => &mut n.buffers.temp_written,
                _ => continue,
            };
            *slot = nz(Some(x));
        }
    }
}

fn io_timings(n: &mut PlanNode, v: &str) {
    // PG ≤ 15: `read=1.2 write=0.3`; PG 16+: `shared read=1.2 write=0.3, temp read=…`.
    let mut read = 0.0;
    let mut write = 0.0;
    for part in v.split(", ") {
        for (k, x) in pairs(part) {
            match k {
                "read" => read += x,
                "write" => write += x,
                _ => {}
            }
        }
    }
    n.io_read_ms = nz(Some(read));
    n.io_write_ms = nz(Some(write));
}

fn property(n: &mut PlanNode, key: &str, value: &str) {
    let v = value.trim();
    match key {
        "Filter" => n.filter = Some(v.to_string()),
        "Index Cond" => n.index_cond = Some(v.to_string()),
        "Recheck Cond" => n.recheck_cond = Some(v.to_string()),
        "Join Filter" => n.join_filter = Some(v.to_string()),
        "Hash Cond" => n.hash_cond = Some(v.to_string()),
        "Merge Cond" => n.merge_cond = Some(v.to_string()),
        "Rows Removed by Filter" => n.rows_removed_by_filter = nz(number(v)),
        "Rows Removed by Index Recheck" => n.rows_removed_by_index_recheck = nz(number(v)),
        "Rows Removed by Join Filter" => n.rows_removed_by_join_filter = nz(number(v)),
        "Sort Key" => n.sort_key = split_list(v),
        "Workers Planned" => n.workers_planned = number(v),
        "Workers Launched" => n.workers_launched = number(v),
        "Heap Fetches" => n.heap_fetches = number(v),
        "Heap Blocks" => {
            for (k, x) in pairs(v) {
                match k {
                    "exact" => n.exact_heap_blocks = nz(Some(x)),
                    "lossy" => n.lossy_heap_blocks = nz(Some(x)),
                    _ => {}
                }
            }
        }
        "Buffers" => buffers(n, v),
        "I/O Timings" => io_timings(n, v),
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
        "Buckets" | "Batches" => {
            // `Buckets: 65536 (originally 1024)  Batches: 4 (originally 1)  Memory Usage: 4097kB`
            // (Hash); `Batches: 5  Memory Usage: 4145kB  Disk Usage: 2000kB` (HashAggregate)
            let text = format!("{key}: {v}");
            for seg in text.split("  ") {
                let Some((k, val)) = seg.split_once(':') else {
                    continue;
                };
                let val = val.trim();
                let (now, orig) = match val.split_once(" (originally ") {
                    Some((a, b)) => (number(a), number(b.trim_end_matches(')'))),
                    None => (number(val), None),
                };
                match k.trim() {
                    "Buckets" => {
                        n.hash_buckets = now;
                        n.original_hash_buckets = orig.filter(|o| Some(*o) != now);
                    }
                    "Batches" => {
                        n.hash_batches = now;
                        n.original_hash_batches = orig.filter(|o| Some(*o) != now);
                    }
                    "Memory Usage" => n.peak_memory_kb = now,
                    "Disk Usage" => n.disk_usage_kb = nz(now),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// A comma-separated list that may contain commas inside parentheses or quotes.
pub fn split_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut cur = String::new();
    for c in v.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Lines about the whole plan rather than a node.
fn plan_line(plan: &mut Plan, body: &str) -> bool {
    let (k, v) = match body.split_once(':') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => return false,
    };
    match k {
        "Query Text" => plan.query_text = Some(v.to_string()),
        "Planning Time" | "Planning time" => plan.planning_ms = number(v),
        "Execution Time" | "Execution time" | "Total runtime" => plan.execution_ms = number(v),
        "Settings" => plan.settings = split_list(v),
        "Query Identifier" | "Serialization" => {}
        _ if k.starts_with("Trigger ") => {
            // `Trigger RI_ConstraintTrigger_a_1 for constraint fk: time=0.1 calls=1`
            let name = k["Trigger ".len()..]
                .split(" for constraint ")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let p = pairs(v);
            let get = |key: &str| p.iter().find(|(kk, _)| *kk == key).map(|(_, x)| *x);
            plan.triggers.push(Trigger {
                name,
                time_ms: get("time"),
                calls: get("calls"),
            });
        }
        _ => return false,
    }
    true
}

pub fn parse(text: &str) -> Option<Plan> {
    let mut plan = Plan::default();
    // (indent of the node line, node); the stack holds the open ancestors.
    let mut stack: Vec<(usize, PlanNode)> = Vec::new();
    let mut root: Option<PlanNode> = None;
    let mut label: Option<String> = None;
    // Inside a `Planning:` / `JIT:` block: its indent, and whether it is the JIT one.
    let mut block: Option<(usize, bool)> = None;
    for raw in text.lines() {
        // auto_explain indents the whole plan with a tab.
        let line = raw.strip_prefix('\t').unwrap_or(raw);
        let line: std::borrow::Cow<str> = if line.contains('\t') {
            line.replace('\t', "        ").into()
        } else {
            line.into()
        };
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some((bi, jit)) = block {
            if indent > bi {
                if jit {
                    if let Some(v) = trimmed.strip_prefix("Functions:") {
                        plan.jit_functions = number(v);
                    } else if let Some(v) = trimmed.strip_prefix("Timing:") {
                        plan.jit_ms = v
                            .split(", ")
                            .find_map(|p| p.trim().strip_prefix("Total "))
                            .and_then(number);
                    }
                }
                continue;
            }
            block = None;
        }
        if trimmed == "Planning:" || trimmed == "JIT:" {
            block = Some((indent, trimmed == "JIT:"));
            continue;
        }
        let is_arrow = trimmed.starts_with("->");
        let body = trimmed.trim_start_matches("->").trim_start();
        let node_indent = indent;
        if !is_arrow
            && (body.starts_with("InitPlan ")
                || body.starts_with("SubPlan ")
                || body.starts_with("CTE "))
            && !body.contains(": ")
        {
            close_to(&mut stack, &mut root, indent);
            label = Some(
                body.split(" (returns")
                    .next()
                    .unwrap_or(body)
                    .trim()
                    .to_string(),
            );
            continue;
        }
        if !is_arrow && plan_line(&mut plan, body) {
            continue;
        }
        let node_like = is_arrow
            || super::frame::paren_word(body, &["cost=", "actual ", "never executed)"])
            || (looks_like_node(body) && (stack.is_empty() || !body.contains(':')));
        if node_like && let Some(h) = parse_header(body) {
            let mut n = PlanNode::default();
            classify(h.name, &mut n);
            [n.startup_cost, n.total_cost, n.plan_rows, n.plan_width] = h.cost;
            [n.actual_startup_ms, n.actual_ms, n.actual_rows, n.loops] = h.actual;
            if h.never {
                n.never_executed = true;
                n.loops = Some(0.0);
            }
            n.subplan_name = label.take();
            if root.is_some() && stack.is_empty() {
                // A second top-level tree: keep the first.
                continue;
            }
            close_to(&mut stack, &mut root, node_indent);
            if stack.is_empty() && root.is_some() {
                continue;
            }
            stack.push((node_indent, n));
            continue;
        }
        if let Some((_, node)) = stack.last_mut() {
            let (k, v) = match body.split_once(": ") {
                Some(kv) => kv,
                None => match body.split_once(':') {
                    Some(kv) => kv,
                    None => continue,
                },
            };
            property(node, k.trim(), v);
        }
    }
    close_to(&mut stack, &mut root, 0);
    plan.root = root?;
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::super::parse as parse_any;
    use super::{Header, parse_header};

    /// The pattern the hand-written reader replaced: the specification it is held to.
    fn by_pattern(body: &str) -> Option<Header<'_>> {
        let re = regex::Regex::new(
            r"^(?P<name>.+?)(?:\s+\(cost=(?P<sc>[\d.]+)\.\.(?P<tc>[\d.]+) rows=(?P<pr>[\d.]+) width=(?P<w>\d+)\))?(?:\s+\((?:actual (?:time=(?P<as>[\d.]+)\.\.(?P<at>[\d.]+) )?rows=(?P<ar>[\d.]+) loops=(?P<lp>\d+)|(?P<never>never executed))\))?\s*$",
        )
        .unwrap();
        let c = re.captures(body)?;
        let f = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<f64>().ok());
        Some(Header {
            name: c.name("name")?.as_str(),
            cost: [f("sc"), f("tc"), f("pr"), f("w")],
            actual: [f("as"), f("at"), f("ar"), f("lp")],
            never: c.name("never").is_some(),
        })
    }

    #[test]
    fn header_matches_the_pattern() {
        let mut lines: Vec<String> = Vec::new();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/explain/pg15");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "txt") {
                for l in std::fs::read_to_string(&p).unwrap().lines() {
                    lines.push(
                        l.trim_start()
                            .trim_start_matches("->")
                            .trim_start()
                            .to_string(),
                    );
                }
            }
        }
        lines.extend(
            [
                "Seq Scan on t",
                "Seq Scan on t  (cost=0.00..1.50 rows=50 width=4)",
                "Seq Scan on t  (cost=0.00..1.50 rows=50 width=4) (actual time=0.010..0.020 rows=50 loops=1)",
                "Seq Scan on t  (cost=0.00..1.50 rows=50 width=4) (never executed)",
                "Seq Scan on t (actual rows=50 loops=1)",
                "Seq Scan on t  (actual time=0.010..0.020 rows=50 loops=1)   ",
                "Seq Scan on t  (cost=1...2 rows=3 width=4)",
                "Seq Scan on t  (cost=1.2.3..4 rows=3 width=4)",
                "Seq Scan on t  (cost=1..2 rows=3 width=4.5)",
                "Seq Scan on t  (cost=1..2 rows=3 width=4) (garbage)",
                "Seq Scan on t  (cost=1..2 rows=3 width=4)(actual rows=1 loops=1)",
                "Seq Scan on t  (cost=1..2 rows=3  width=4)",
                "Seq Scan on t  (actual time=1..2 rows=3 loops=1) (cost=1..2 rows=3 width=4)",
                "Seq Scan on t  (actual time=x..2 rows=3 loops=1)",
                "Seq Scan on t\t(cost=1..2 rows=3 width=4)",
                "Function Scan on f(x)  (cost=1..2 rows=3 width=4)",
                "(cost=1..2 rows=3 width=4)",
                "x (cost=1..2 rows=3 width=4)",
                "  (cost=1..2 rows=3 width=4)",
                "Result  (never executed)",
                "Result  (never  executed)",
                "Limit  (cost=..1 rows=1 width=1)",
                "",
            ]
            .map(String::from),
        );
        for l in &lines {
            assert_eq!(parse_header(l), by_pattern(l), "{l:?}");
        }
    }

    #[test]
    fn auto_explain_entry() {
        let text = "\tQuery Text: SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20
\tLimit  (cost=30375.17..30377.27 rows=18 width=74) (actual time=239.037..239.121 rows=13 loops=1)
\t  Buffers: shared hit=866 read=19208
\t  I/O Timings: shared read=130.027
\t  ->  Gather Merge  (cost=30375.17..30377.27 rows=18 width=74) (actual time=239.035..239.118 rows=13 loops=1)
\t        Workers Planned: 2
\t        Workers Launched: 2
\t        ->  Sort  (cost=29375.14..29375.17 rows=9 width=74) (actual time=213.034..213.036 rows=4 loops=3)
\t              Sort Key: created_at DESC
\t              Sort Method: external merge  Disk: 11336kB
\t              Worker 0:  Sort Method: quicksort  Memory: 25kB
\t              ->  Parallel Seq Scan on orders  (cost=0.00..29375.00 rows=9 width=74) (actual time=60.027..212.969 rows=4 loops=3)
\t                    Filter: ((user_id = 41199) AND (status = 'completed'::text))
\t                    Rows Removed by Filter: 499996
";
        let p = parse_any(text).unwrap();
        assert!(p.query_text.unwrap().starts_with("SELECT"));
        assert_eq!(p.root.node_type, "Limit");
        assert_eq!(p.root.buffers.shared_read, Some(19208.0));
        assert_eq!(p.root.io_read_ms, Some(130.027));
        let sort = &p.root.children[0].children[0];
        assert_eq!(sort.sort_method.as_deref(), Some("external merge"));
        assert_eq!(sort.sort_space_kb, Some(11336.0));
        let scan = &sort.children[0];
        assert!(scan.parallel && scan.is_seq_scan());
        assert_eq!(scan.relation.as_deref(), Some("orders"));
        assert_eq!(scan.rows_read(), Some(3.0 * 500000.0));
        // Under a Gather, per-loop times are per process and run side by side.
        assert!((scan.inclusive_ms.unwrap() - 212.969).abs() < 1e-6);
        assert!((p.root.exclusive_ms.unwrap() - (239.121 - 239.118)).abs() < 1e-6);
    }

    #[test]
    fn psql_output_names_and_blocks() {
        let text = "                                QUERY PLAN
---------------------------------------------------------------------------
 HashAggregate  (cost=10.0..12.0 rows=10 width=12) (actual time=1.0..1.2 rows=10 loops=1)
   Group Key: i.order_id
   Batches: 1  Memory Usage: 24kB
   InitPlan 1 (returns $0)
     ->  Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1)
   ->  Hash Left Join  (cost=1.0..9.0 rows=100 width=12) (actual time=0.1..0.9 rows=100 loops=1)
         Hash Cond: (i.order_id = o.id)
         ->  Index Scan Backward using order_items_order_id_idx on public.order_items i  (cost=0.43..8.5 rows=4 width=20) (never executed)
               Index Cond: (order_id = 42)
         ->  Hash  (cost=1.0..1.0 rows=10 width=4) (actual time=0.05..0.05 rows=10 loops=1)
               Buckets: 1024 (originally 512)  Batches: 1  Memory Usage: 9kB
               ->  Bitmap Heap Scan on orders o  (cost=1.0..1.0 rows=10 width=4) (actual time=0.01..0.04 rows=10 loops=1)
                     Heap Blocks: exact=3 lossy=7
                     ->  Bitmap Index Scan on orders_pkey  (cost=0.0..1.0 rows=10 width=0) (actual time=0.01..0.01 rows=10 loops=1)
 Planning:
   Buffers: shared hit=12
 Planning Time: 0.1 ms
 Trigger RI_ConstraintTrigger_a_1 for constraint fk: time=0.5 calls=3
 JIT:
   Functions: 4
   Timing: Generation 0.8 ms, Inlining 0.0 ms, Optimization 0.4 ms, Emission 6.6 ms, Total 7.8 ms
 Execution Time: 1.5 ms
(20 rows)
";
        let p = parse_any(text).unwrap();
        let r = &p.root;
        assert_eq!(
            (r.node_type.as_str(), r.strategy.as_deref()),
            ("Aggregate", Some("Hashed"))
        );
        assert_eq!(r.children.len(), 2);
        assert_eq!(r.children[0].subplan_name.as_deref(), Some("InitPlan 1"));
        let join = &r.children[1];
        assert_eq!(
            (join.node_type.as_str(), join.join_type.as_deref()),
            ("Hash Join", Some("Left"))
        );
        let scan = &join.children[0];
        assert!(scan.backward && scan.never_executed);
        assert_eq!(scan.schema.as_deref(), Some("public"));
        assert_eq!(scan.alias.as_deref(), Some("i"));
        let hash = &join.children[1];
        assert_eq!(
            (hash.hash_buckets, hash.original_hash_buckets),
            (Some(1024.0), Some(512.0))
        );
        let bitmap = &hash.children[0];
        assert_eq!(
            (bitmap.exact_heap_blocks, bitmap.lossy_heap_blocks),
            (Some(3.0), Some(7.0))
        );
        assert_eq!(bitmap.children[0].index.as_deref(), Some("orders_pkey"));
        assert_eq!(p.execution_ms, Some(1.5));
        assert_eq!((p.jit_functions, p.jit_ms), (Some(4.0), Some(7.8)));
        assert_eq!(p.triggers[0].calls, Some(3.0));
        assert_eq!(
            r.buffers.shared_hit, None,
            "planning buffers are not the root's"
        );
        assert_eq!(r.label(), "HashAggregate");
        assert_eq!(join.label(), "Hash Left Join");
    }

    #[test]
    fn costs_off() {
        let p = parse_any("Sort\n  Sort Key: a\n  ->  Seq Scan on t\n        Filter: (a > 1)\n")
            .unwrap();
        assert_eq!(p.root.node_type, "Sort");
        assert_eq!(p.root.children[0].filter.as_deref(), Some("(a > 1)"));
    }
}
