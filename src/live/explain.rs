//! `qperf explain --db URL --sql …`: EXPLAIN on the live database, in a transaction that
//! is always rolled back. ANALYZE runs the statement, so it is allowed for reads, and for
//! data-changing statements only with `--analyze-writes`.

use anyhow::{Result, anyhow, bail};

use super::{Target, runtime};
use crate::event::Dialect;
use crate::sql::shape::{Kind, Shape};

/// The plan as PostgreSQL's JSON text.
pub fn plan_json(
    target: &Target,
    sql: &str,
    params: &[String],
    analyze: bool,
    analyze_writes: bool,
) -> Result<String> {
    let shape = Shape::parse(sql, Dialect::Postgres)
        .map_err(|e| anyhow!("--sql: not a statement qperf can read ({e})"))?;
    let reads = shape.kind == Some(Kind::Select);
    if analyze && !reads && !analyze_writes {
        bail!(
            "--analyze runs the statement, and this one changes data ({}); add --analyze-writes to run it \
             inside a transaction that qperf rolls back",
            match &shape.kind {
                Some(Kind::Other(w)) => w.to_uppercase(),
                Some(k) => format!("{k:?}").to_uppercase(),
                None => "unknown".into(),
            }
        );
    }
    let options = if analyze {
        "ANALYZE, BUFFERS, FORMAT JSON"
    } else {
        "FORMAT JSON"
    };
    let begin = if analyze && !reads {
        "BEGIN READ WRITE"
    } else {
        "BEGIN READ ONLY"
    };
    let rt = runtime()?;
    rt.block_on(async {
        let client = target.connect().await?;
        client
            .batch_execute(begin)
            .await
            .map_err(|e| target.err("BEGIN failed", e))?;
        let result = async {
            let stmt = if params.is_empty() {
                format!("EXPLAIN ({options}) {sql}")
            } else {
                client
                    .batch_execute(&format!("PREPARE qperf_explain AS {sql}"))
                    .await
                    .map_err(|e| target.err("PREPARE failed", e))?;
                let values = super::sql_values(params);
                format!(
                    "EXPLAIN ({options}) EXECUTE qperf_explain({})",
                    values.join(", ")
                )
            };
            let rows = client
                .query(&stmt, &[])
                .await
                .map_err(|e| target.err("EXPLAIN failed", e))?;
            let v: serde_json::Value = rows
                .first()
                .map(|r| r.get(0))
                .ok_or_else(|| anyhow!("EXPLAIN returned nothing"))?;
            Ok::<_, anyhow::Error>(v.to_string())
        }
        .await;
        // Whatever happened, nothing the statement did stays.
        client
            .batch_execute("ROLLBACK")
            .await
            .map_err(|e| target.err("ROLLBACK failed", e))?;
        result
    })
}
