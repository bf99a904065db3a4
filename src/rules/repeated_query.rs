//! `repeated-query`: identical reads (same statement, same parameter values) repeated
//! within a short window: cache candidates, with the writes that must invalidate them.

use serde_json::json;

use super::context::Context;
use super::{Finding, RuleConfig, RuleId, Severity, r3};
use crate::sequence::Role;
use crate::sql::shape::Kind;

pub const PARAMS: &[&str] = &["window_s", "min_repeats", "min_repeat_rate", "warning_ms"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let minutes = ctx.span_ms.map(|s| (s as f64 / 60_000.0).max(1.0 / 60.0));
    for a in &ctx.groups {
        let g = a.g;
        if g.role != Role::Read {
            continue;
        }
        let Some(shape) = &a.shape else { continue };
        if a.system_only() {
            continue;
        }
        if shape.kind != Some(Kind::Select) || shape.tables.is_empty() {
            continue;
        }
        let Some(r) = ctx.repeats.get(&g.fingerprint) else {
            continue;
        };
        let rate = r.repeats as f64 / r.executions.max(1) as f64;
        if (r.repeats as f64) < cfg.get("min_repeats") || rate < cfg.get("min_repeat_rate") {
            continue;
        }
        let read: Vec<&str> = shape.tables.iter().map(|t| t.name.as_str()).collect();
        let mut writes = Vec::new();
        let mut related = Vec::new();
        let mut write_calls = 0u64;
        for w in &ctx.groups {
            let Some(ws) = &w.shape else { continue };
            if !ws.kind.as_ref().is_some_and(Kind::is_write) {
                continue;
            }
            let Some(t) = ws.target.as_deref() else {
                continue;
            };
            if !read.contains(&t) {
                continue;
            }
            write_calls += w.g.calls;
            related.push(w.g.fingerprint);
            writes.push(json!({
                "fingerprint": w.g.fingerprint.to_string(),
                "table": t,
                "query": w.g.query,
                "calls": w.g.calls,
                "per_minute": minutes.map(|m| r3(w.g.calls as f64 / m)),
            }));
        }
        let severity = if r.repeat_ms >= cfg.get("warning_ms") {
            Severity::Warning.max(cfg.severity)
        } else {
            cfg.severity
        };
        let invalidate = if writes.is_empty() {
            format!(
                "no write to {} appears in the log: a time-to-live cache is enough",
                read.join(", ")
            )
        } else {
            let names: Vec<String> = writes
                .iter()
                .take(3)
                .map(|w| format!("`{}` ({}×)", w["query"].as_str().unwrap_or(""), w["calls"]))
                .collect();
            let volatile = minutes.is_some_and(|m| write_calls as f64 / m >= 1.0);
            format!(
                "invalidate it on {}{}",
                names.join(", "),
                if volatile {
                    " (written every minute or more often: invalidate on write rather than by TTL)"
                } else {
                    ""
                }
            )
        };
        let mut f = Finding::new(
            RuleId::RepeatedQuery,
            severity,
            format!(
                "{} of {} executions repeat an identical one from the last {} s ({} distinct parameter sets; {} back to back in one session)",
                r.repeats,
                r.executions,
                cfg.get("window_s"),
                r.distinct_values(),
                r.back_to_back
            ),
            format!("Cache the result per parameter values in the application; {invalidate}"),
        )
        .evidence("executions", r.executions)
        .evidence("repeats", r.repeats)
        .evidence("repeat_rate", r3(rate))
        .evidence("distinct_values", r.distinct_values())
        .evidence("top_value_executions", r.top_value_count())
        .evidence("back_to_back", r.back_to_back)
        .evidence("repeat_ms", r3(r.repeat_ms))
        .evidence("tables", read.clone())
        .evidence("writes", writes);
        f.fingerprint = Some(g.fingerprint);
        f.query = Some(g.query.clone());
        f.time_ms = r.repeat_ms;
        f.related = related;
        f.endpoints = g.endpoints.values.clone();
        out.push(f);
    }
    out
}
