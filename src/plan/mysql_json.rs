//! MySQL / MariaDB `EXPLAIN FORMAT=JSON` (and `ANALYZE FORMAT=JSON`) into the plan model.
//!
//! A query block becomes a node; `nested_loop` members become its children in join
//! order; `ordering_operation` / `grouping_operation` / `duplicates_removal` become Sort /
//! Aggregate / Unique nodes above them. Table access types map to node types: `ALL` →
//! `Full Table Scan`, `index` → `Full Index Scan`, `range` → `Index Range Scan`, `ref` /
//! `eq_ref` / `const` → `Index Lookup`.

use serde_json::Value;

use super::{Plan, PlanFormat, PlanNode};

pub fn is_mysql(v: &Value) -> bool {
    v.get("query_block").is_some()
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn table(t: &Value) -> PlanNode {
    let s = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
    let access = s("access_type").unwrap_or_default();
    let node_type = match access.as_str() {
        "ALL" => "Full Table Scan",
        "index" => "Full Index Scan",
        "range" | "index_merge" => "Index Range Scan",
        "ref" | "eq_ref" | "const" | "system" | "ref_or_null" | "fulltext" => "Index Lookup",
        _ => "Table Access",
    };
    let cost = t.get("cost_info");
    let mut n = PlanNode {
        node_type: node_type.to_string(),
        relation: s("table_name"),
        index: s("key"),
        filter: s("attached_condition"),
        rows_examined: num(t.get("rows_examined_per_scan")).or_else(|| num(t.get("rows"))),
        filtered_pct: num(t.get("filtered")),
        total_cost: cost.and_then(|c| num(c.get("prefix_cost"))),
        plan_rows: num(t.get("rows_produced_per_join")),
        ..Default::default()
    };
    // ANALYZE FORMAT=JSON (MariaDB: r_rows, r_filtered, r_total_time_ms).
    if let Some(r) = num(t.get("r_rows")) {
        n.actual_rows = Some(r * num(t.get("r_filtered")).unwrap_or(100.0) / 100.0);
        n.rows_removed_by_filter = super::nz(Some(r - n.actual_rows.unwrap_or(r)));
        n.loops = num(t.get("r_loops")).or(Some(1.0));
        n.actual_ms = num(t.get("r_total_time_ms"));
    }
    if let Some(inner) = t
        .get("materialized_from_subquery")
        .and_then(|m| m.get("query_block"))
    {
        n.children.push(block(inner));
    }
    n
}

fn block(b: &Value) -> PlanNode {
    let mut kids: Vec<PlanNode> = Vec::new();
    let mut wrap: Vec<PlanNode> = Vec::new();
    let mut cur = b;
    // Descend through the operations that wrap the join.
    loop {
        if let Some(o) = cur.get("ordering_operation") {
            wrap.push(PlanNode {
                node_type: "Sort".into(),
                sort_method: o
                    .get("using_filesort")
                    .and_then(Value::as_bool)
                    .filter(|x| *x)
                    .map(|_| "filesort".to_string()),
                ..Default::default()
            });
            cur = o;
        } else if let Some(g) = cur.get("grouping_operation") {
            wrap.push(PlanNode {
                node_type: "Aggregate".into(),
                strategy: g
                    .get("using_temporary_table")
                    .and_then(Value::as_bool)
                    .filter(|x| *x)
                    .map(|_| "Hashed".to_string()),
                ..Default::default()
            });
            cur = g;
        } else if let Some(d) = cur.get("duplicates_removal") {
            wrap.push(PlanNode {
                node_type: "Unique".into(),
                ..Default::default()
            });
            cur = d;
        } else {
            break;
        }
    }
    if let Some(t) = cur.get("table") {
        kids.push(table(t));
    }
    if let Some(nl) = cur.get("nested_loop").and_then(Value::as_array) {
        for m in nl {
            if let Some(t) = m.get("table") {
                kids.push(table(t));
            }
        }
    }
    if let Some(specs) = cur
        .get("union_result")
        .and_then(|u| u.get("query_specifications"))
        .and_then(Value::as_array)
    {
        for q in specs {
            if let Some(qb) = q.get("query_block") {
                kids.push(block(qb));
            }
        }
    }
    let mut node = if kids.len() == 1 && wrap.is_empty() {
        kids.pop().unwrap_or_default()
    } else {
        PlanNode {
            node_type: if kids.len() > 1 {
                "Nested Loop".into()
            } else {
                "Query Block".into()
            },
            join_type: (kids.len() > 1).then(|| "Inner".to_string()),
            children: kids,
            ..Default::default()
        }
    };
    while let Some(mut w) = wrap.pop() {
        w.children.push(node);
        node = w;
    }
    node.total_cost = node
        .total_cost
        .or_else(|| b.get("cost_info").and_then(|c| num(c.get("query_cost"))));
    node
}

pub fn parse(v: &Value) -> Option<Plan> {
    let qb = v.get("query_block")?;
    Some(Plan {
        format: PlanFormat::MysqlJson,
        root: block(qb),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn mysql8_join_with_filesort() {
        let text = r#"{"query_block": {"select_id": 1, "cost_info": {"query_cost": "1210.50"},
          "ordering_operation": {"using_filesort": true,
            "nested_loop": [
              {"table": {"table_name": "o", "access_type": "ALL", "rows_examined_per_scan": 10000,
                 "filtered": "1.00", "attached_condition": "(`shop`.`o`.`user_id` = 42)",
                 "cost_info": {"prefix_cost": "1010.00"}}},
              {"table": {"table_name": "i", "access_type": "ref", "key": "idx_order",
                 "rows_examined_per_scan": 3, "filtered": "100.00"}}]}}}"#;
        let p = crate::plan::parse(text).unwrap();
        assert_eq!(p.root.node_type, "Sort");
        let join = &p.root.children[0];
        assert_eq!(join.node_type, "Nested Loop");
        let scan = &join.children[0];
        assert!(scan.is_seq_scan());
        assert_eq!(scan.scan_rows(), Some((10000.0, 100.0)));
        assert_eq!(join.children[1].index.as_deref(), Some("idx_order"));
    }
}
