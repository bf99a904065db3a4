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
        plan_rows: num(t.get("rows_produced_per_join")).or_else(|| {
            // MariaDB: rows examined and the share its condition keeps.
            Some(num(t.get("rows"))? * num(t.get("filtered")).unwrap_or(100.0) / 100.0)
        }),
        ..Default::default()
    };
    // ANALYZE FORMAT=JSON (MariaDB: r_rows, r_filtered, r_total_time_ms).
    if let Some(r) = num(t.get("r_rows")) {
        n.actual_rows = Some(r * num(t.get("r_filtered")).unwrap_or(100.0) / 100.0);
        n.rows_removed_by_filter = super::nz(Some(r - n.actual_rows.unwrap_or(r)));
        n.loops = num(t.get("r_loops")).or(Some(1.0));
        n.actual_ms = num(t.get("r_total_time_ms")).or_else(|| {
            let table = num(t.get("r_table_time_ms"))?;
            Some(table + num(t.get("r_other_time_ms")).unwrap_or(0.0))
        });
    }
    if let Some(inner) = t.get("materialized_from_subquery").and_then(build) {
        n.children.push(inner);
    }
    n
}

/// Wrapping operations: JSON key → (node type, strategy).
const WRAPPERS: &[(&str, &str)] = &[
    ("ordering_operation", "Sort"),
    ("filesort", "Sort"),
    ("read_sorted_file", "Sort"),
    ("grouping_operation", "Aggregate"),
    ("duplicates_removal", "Unique"),
    ("duplicate_removal", "Unique"),
    ("temporary_table", "Temporary Table"),
    ("windowing", "WindowAgg"),
];

/// One MySQL / MariaDB plan object into a node: a table, a nested loop, a wrapping
/// operation around either, a union, or a query block holding any of these.
fn build(v: &Value) -> Option<PlanNode> {
    if let Some(t) = v.get("table") {
        return Some(table(t));
    }
    if let Some(nl) = v.get("nested_loop").and_then(Value::as_array) {
        let kids: Vec<PlanNode> = nl.iter().filter_map(build).collect();
        return Some(if kids.len() == 1 {
            kids.into_iter().next().unwrap_or_default()
        } else {
            PlanNode {
                node_type: "Nested Loop".into(),
                join_type: Some("Inner".into()),
                children: kids,
                ..Default::default()
            }
        });
    }
    for (key, ty) in WRAPPERS {
        if let Some(inner) = v.get(*key) {
            // `read_sorted_file` only wraps its `filesort`: one Sort, not two.
            if *key == "read_sorted_file" {
                return build(inner);
            }
            let mut n = PlanNode {
                node_type: (*ty).to_string(),
                ..Default::default()
            };
            if *ty == "Sort" {
                n.sort_key = inner
                    .get("sort_key")
                    .and_then(Value::as_str)
                    .map(|k| vec![k.to_string()])
                    .unwrap_or_default();
                let filesort = *key == "filesort"
                    || inner.get("using_filesort").and_then(Value::as_bool) == Some(true);
                n.sort_method = filesort.then(|| "filesort".to_string());
                n.actual_rows = num(inner.get("r_output_rows"));
                n.loops = num(inner.get("r_loops"));
                n.actual_ms = num(inner.get("r_total_time_ms"));
            }
            if *ty == "Aggregate"
                && inner.get("using_temporary_table").and_then(Value::as_bool) == Some(true)
            {
                n.strategy = Some("Hashed".into());
            }
            if let Some(c) = build(inner) {
                n.children.push(c);
            }
            return Some(n);
        }
    }
    if let Some(specs) = v
        .get("union_result")
        .and_then(|u| u.get("query_specifications"))
        .and_then(Value::as_array)
    {
        return Some(PlanNode {
            node_type: "Append".into(),
            children: specs.iter().filter_map(build).collect(),
            ..Default::default()
        });
    }
    if let Some(qb) = v.get("query_block") {
        let mut n = build(qb)?;
        n.total_cost = n
            .total_cost
            .or_else(|| qb.get("cost_info").and_then(|c| num(c.get("query_cost"))));
        if n.actual_ms.is_none() {
            n.actual_ms = num(qb.get("r_total_time_ms"));
        }
        return Some(n);
    }
    None
}

pub fn parse(v: &Value) -> Option<Plan> {
    v.get("query_block")?;
    let root = build(v)?;
    Some(Plan {
        format: PlanFormat::MysqlJson,
        execution_ms: num(v.get("query_block").and_then(|q| q.get("r_total_time_ms"))),
        root,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn mariadb_analyze_with_filesort_and_temporary_table() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/explain/mariadb/group_by.analyze.json"
        ))
        .unwrap();
        let p = crate::plan::parse(&text).unwrap();
        assert_eq!(p.root.node_type, "Sort");
        let tmp = &p.root.children[0];
        assert_eq!(tmp.node_type, "Temporary Table");
        let scan = &tmp.children[0];
        assert!(scan.is_seq_scan());
        assert_eq!(scan.relation.as_deref(), Some("o"));
        assert_eq!(scan.actual_rows, Some(3560.0));
        assert!(p.execution_ms.is_some());
    }

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
