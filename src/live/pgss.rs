//! pg_stat_statements as a workload source: each row becomes a statement with its calls,
//! total time, extremes and rows (no percentiles, no session order).

use anyhow::{Result, bail};
use tokio_postgres::Client;

use super::Target;
use crate::aggregate::{Aggregator, Summary};

pub async fn read(client: &Client, target: &Target, agg: &mut Aggregator) -> Result<u64> {
    let installed = client
        .query_opt(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map_err(|e| target.err("catalog query failed", e))?
        .is_some();
    if !installed {
        bail!(
            "pg_stat_statements is not installed in {}: add it to shared_preload_libraries (restart), \
             then CREATE EXTENSION pg_stat_statements in this database",
            target.display
        );
    }
    // PostgreSQL 13 renamed total_time to total_exec_time (and min/max likewise).
    let sql = |suffix: &str| {
        format!(
            "SELECT s.query, s.calls, s.total{suffix}::float8, s.min{suffix}::float8, s.max{suffix}::float8, \
                    s.rows, d.datname::text, r.rolname::text \
             FROM pg_stat_statements s \
             LEFT JOIN pg_database d ON d.oid = s.dbid LEFT JOIN pg_roles r ON r.oid = s.userid \
             WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.calls > 0"
        )
    };
    let rows = match client.query(&sql("_exec_time"), &[]).await {
        Ok(r) => r,
        // Before 13 the columns have the old names; any other error is the one to report
        // (e.g. the library is not in shared_preload_libraries).
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) => client
            .query(&sql("_time"), &[])
            .await
            .map_err(|e| target.err("reading pg_stat_statements failed", e))?,
        Err(e) => return Err(target.err("reading pg_stat_statements failed", e)),
    };
    let mut n = 0;
    for r in rows {
        let query: Option<String> = r.get(0);
        let Some(query) = query else { continue };
        let calls: i64 = r.get(1);
        agg.summary(Summary {
            sql: &query,
            calls: calls.max(0) as u64,
            total_ms: r.get(2),
            min_ms: r.get(3),
            max_ms: r.get(4),
            rows: r.get::<_, i64>(5).max(0) as u64,
            db: r.get(6),
            user: r.get(7),
        });
        n += 1;
    }
    Ok(n)
}
