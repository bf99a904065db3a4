//! PostgreSQL jsonlog (PG 15+) and the JSON wrappers cloud platforms put around it:
//! CloudNativePG (`{"record": {…csvlog names…}}`) and Google Cloud SQL
//! (`{"textPayload": "<stderr line>"}`).

use serde_json::Value;

use super::pg::{PgRecord, Severity};
use super::pg_stderr::{self, Line};
use crate::timeparse;

fn s(v: &Value, keys: &[&str]) -> Option<String> {
    for k in keys {
        match v.get(*k) {
            Some(Value::String(x)) => return Some(x.clone()),
            Some(Value::Number(n)) => return Some(n.to_string()),
            _ => {}
        }
    }
    None
}

/// What one JSON line was.
pub enum JsonLine {
    /// A record, now in `rec`.
    Record,
    /// The next line of the previous record's message (Cloud SQL splits them).
    Continuation(String),
    /// Not a PostgreSQL log record in a known JSON shape.
    No,
}

/// Fills `rec` from one JSON line. Returns false when the line is not a PostgreSQL
/// log record in a known JSON shape.
pub fn to_record(line: &str, line_no: u64, rec: &mut PgRecord, year: i64) -> bool {
    matches!(parse(line, line_no, rec, year), JsonLine::Record)
}

pub fn parse(line: &str, line_no: u64, rec: &mut PgRecord, year: i64) -> JsonLine {
    let Ok(top) = serde_json::from_str::<Value>(line) else {
        return JsonLine::No;
    };
    if let Some(Value::String(text)) = top.get("textPayload") {
        // Cloud SQL: a stderr line without its timestamp; the wrapper has it.
        let text = text.trim_end_matches('\n');
        match pg_stderr::parse_line(text, rec, None, year) {
            Line::Header => {}
            Line::Continuation(at) => return JsonLine::Continuation(text[at..].to_string()),
            _ => return JsonLine::No,
        }
        rec.line = line_no;
        if let Some(Value::String(ts)) = top.get("timestamp") {
            rec.at = timeparse::parse_iso(ts.as_bytes()).map(|x| x.0).or(rec.at);
        }
        return JsonLine::Record;
    }
    let v = top.get("record").unwrap_or(&top);
    let Some(sev) = s(v, &["error_severity"]).and_then(|x| Severity::from_word(x.as_bytes()))
    else {
        return JsonLine::No;
    };
    rec.clear();
    rec.line = line_no;
    rec.severity = Some(sev);
    rec.at = s(v, &["timestamp", "log_time"])
        .and_then(|t| timeparse::parse_iso(t.as_bytes()).map(|x| x.0));
    rec.session = s(v, &["pid", "process_id"])
        .or_else(|| s(v, &["session_id"]))
        .unwrap_or_default();
    rec.user = s(v, &["user", "user_name"]).unwrap_or_default();
    rec.db = s(v, &["dbname", "database_name"]).unwrap_or_default();
    rec.app = s(v, &["application_name"]).unwrap_or_default();
    rec.client = s(v, &["remote_host", "connection_from"]).unwrap_or_default();
    rec.message = s(v, &["message"]).unwrap_or_default();
    rec.detail = s(v, &["detail"]).unwrap_or_default();
    rec.statement = s(v, &["statement", "query"]).unwrap_or_default();
    JsonLine::Record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonlog_and_wrappers() {
        let mut r = PgRecord::default();
        assert!(to_record(
            r#"{"timestamp":"2024-06-27 00:00:07.369 CEST","user":"app","dbname":"shop","pid":58151,"error_severity":"LOG","message":"duration: 1.5 ms  statement: SELECT 1"}"#,
            1,
            &mut r,
            2020
        ));
        assert_eq!(
            (r.session.as_str(), r.user.as_str(), r.db.as_str()),
            ("58151", "app", "shop")
        );
        assert!(to_record(
            r#"{"record":{"log_time":"2022-11-27 18:58:02.004 UTC","user_name":"postgres","database_name":"postgres","process_id":"599","error_severity":"LOG","message":"duration: 0.097 ms  statement: ;"}}"#,
            1,
            &mut r,
            2020
        ));
        assert_eq!(r.session, "599");
        assert!(to_record(
            r#"{"textPayload":"[24667]: [2-1] db=d,user=u LOG:  connection authorized: user=u","timestamp":"2020-05-02T13:00:12.345Z"}"#,
            1,
            &mut r,
            2020
        ));
        assert_eq!((r.session.as_str(), r.user.as_str()), ("24667", "u"));
        assert!(r.at.is_some());
        assert!(!to_record(r#"{"level":"info"}"#, 1, &mut r, 2020));
    }
}
