//! Catalog facts for the tables a workload touches, fetched once per run: columns with
//! types and average widths, row estimates, valid indexes, primary and foreign keys.
//! They go into the same `Schema` that `--schema` fills, so the rules need no second path.

use anyhow::Result;
use tokio_postgres::Client;

use super::Target;
use crate::sql::schema::{Column, Schema};

pub struct Facts {
    pub schema: Schema,
    /// Planner row estimates (`pg_class.reltuples`).
    pub table_rows: Vec<(String, f64)>,
}

/// Average width (bytes, from `pg_stats`) from which a column counts as wide.
const WIDE_BYTES: i32 = 256;

pub async fn fetch(client: &Client, target: &Target, tables: &[String]) -> Result<Facts> {
    let q = |e| target.err("catalog query failed", e);
    let mut ddl = String::new();
    for row in client
        .query(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relname = ANY($1) AND i.indisvalid AND i.indisready",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let def: String = row.get(0);
        ddl.push_str(&def);
        ddl.push_str(";\n");
    }
    for row in client
        .query(
            "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype IN ('p', 'f', 'u') AND t.relname = ANY($1)",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let (t, name, def): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        ddl.push_str(&format!("ALTER TABLE \"{t}\" ADD CONSTRAINT \"{name}\" {def};\n"));
    }
    let mut schema = Schema::from_ddl(&ddl, crate::event::Dialect::Postgres);
    for row in client
        .query(
            "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    coalesce(s.avg_width, 0) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             LEFT JOIN pg_stats s ON s.tablename = c.relname AND s.attname = a.attname \
             WHERE c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let (t, name, ty, width): (String, String, String, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let wide = width >= WIDE_BYTES || ty.contains("json") || ty == "bytea" || ty == "xml";
        schema.tables.entry(t).or_default().columns.push(Column {
            name,
            data_type: ty,
            wide,
        });
    }
    let mut table_rows = Vec::new();
    let mut reltuples: std::collections::BTreeMap<String, f64> = Default::default();
    for row in client
        .query(
            "SELECT relname::text, reltuples::float8 FROM pg_class WHERE relname = ANY($1) AND relkind IN ('r', 'p', 'm')",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let (t, n): (String, f64) = (row.get(0), row.get(1));
        // -1: never analyzed (PG 14+); the plans or the time thresholds decide then.
        if n >= 0.0 {
            reltuples.insert(t.clone(), n);
            table_rows.push((t, n));
        }
    }
    // Column selectivity: pg_stats.n_distinct, negative meaning a fraction of the rows.
    for row in client
        .query(
            "SELECT tablename::text, attname::text, n_distinct::float8 FROM pg_stats \
             WHERE tablename = ANY($1) AND schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let (t, c, n): (String, String, f64) = (row.get(0), row.get(1), row.get(2));
        let distinct = if n < 0.0 {
            -n * reltuples.get(&t).copied().unwrap_or(0.0)
        } else {
            n
        };
        schema.n_distinct.insert((t, c), distinct);
    }
    // Index usage, and for how long it has been counted.
    for row in client
        .query(
            "SELECT indexrelname::text, idx_scan, pg_relation_size(indexrelid) FROM pg_stat_user_indexes \
             WHERE relname = ANY($1)",
            &[&tables],
        )
        .await
        .map_err(q)?
    {
        let (name, scans, size): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        schema.index_usage.insert(name, (scans, size));
    }
    let days: Option<f64> = client
        .query_one(
            "SELECT extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 / 86400 \
             FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .map_err(q)?
        .get(0);
    schema.stats_days = days;
    Ok(Facts { schema, table_rows })
}
