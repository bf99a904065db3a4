//! PostgreSQL jsonlog (PG 15+) and the JSON wrappers cloud platforms put around it:
//! CloudNativePG (`{"record": {…csvlog names…}}`) and Google Cloud SQL
//! (`{"textPayload": "<stderr line>"}`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::pg::{PgRecord, Severity};
use super::pg_stderr::{self, Line};
use crate::timeparse;

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
    // The keys qperf reads, straight into borrowed strings: a JSON tree per line
    // allocates every key and value of a record (two dozen), most of them unused. A
    // line the typed read refuses (a duplicate key, a value of an odd type where a
    // wrapper object is expected) still gets the tree.
    // Objects only: a derived struct would also take an array, field by position.
    let typed = match line.trim_start().starts_with('{') {
        true => serde_json::from_str::<Keys>(line).ok(),
        false => None,
    };
    match typed {
        Some(k) => {
            if let Some(text) = &k.text_payload {
                let ts = match &k.timestamp {
                    Text::Str(t) => Some(t.as_ref()),
                    _ => None,
                };
                return cloud_sql(text, ts, line_no, rec, year);
            }
            let v = match &k.record {
                Some(Some(r)) => r.as_ref(),
                // `"record": null` holds no record, as in the tree.
                Some(None) => &Keys::default(),
                None => &k,
            };
            fill(line_no, rec, |keys| {
                keys.iter().find_map(|key| v.get(key).map(Cow::Borrowed))
            })
        }
        None => parse_tree(line, line_no, rec, year),
    }
}

fn parse_tree(line: &str, line_no: u64, rec: &mut PgRecord, year: i64) -> JsonLine {
    let Ok(top) = serde_json::from_str::<Value>(line) else {
        return JsonLine::No;
    };
    if let Some(Value::String(text)) = top.get("textPayload") {
        let ts = match top.get("timestamp") {
            Some(Value::String(t)) => Some(t.as_str()),
            _ => None,
        };
        return cloud_sql(text, ts, line_no, rec, year);
    }
    let v = top.get("record").unwrap_or(&top);
    // The first of the keys holding a string or a number.
    fill(line_no, rec, |keys| {
        keys.iter().find_map(|k| match v.get(*k) {
            Some(Value::String(x)) => Some(Cow::Borrowed(x.as_str())),
            Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
            _ => None,
        })
    })
}

/// Cloud SQL: a stderr line without its timestamp; the wrapper has it.
fn cloud_sql(
    text: &str,
    ts: Option<&str>,
    line_no: u64,
    rec: &mut PgRecord,
    year: i64,
) -> JsonLine {
    let text = text.trim_end_matches('\n');
    match pg_stderr::parse_line(text, rec, None, year) {
        Line::Header => {}
        Line::Continuation(at) => return JsonLine::Continuation(text[at..].to_string()),
        _ => return JsonLine::No,
    }
    rec.line = line_no;
    if let Some(ts) = ts {
        rec.at = timeparse::parse_iso(ts.as_bytes()).map(|x| x.0).or(rec.at);
    }
    JsonLine::Record
}

/// A jsonlog record (or CloudNativePG's csvlog names) into `rec`; `get` gives the first
/// of the keys that holds a string or a number.
fn fill<'v>(
    line_no: u64,
    rec: &mut PgRecord,
    get: impl Fn(&[&str]) -> Option<Cow<'v, str>>,
) -> JsonLine {
    let Some(sev) = get(&["error_severity"]).and_then(|x| Severity::from_word(x.as_bytes())) else {
        return JsonLine::No;
    };
    rec.clear();
    rec.line = line_no;
    rec.severity = Some(sev);
    rec.at = get(&["timestamp", "log_time"])
        .and_then(|t| timeparse::parse_iso(t.as_bytes()).map(|x| x.0));
    let session = get(&["pid", "process_id"]).or_else(|| get(&["session_id"]));
    for (field, value) in [
        (&mut rec.session, session),
        (&mut rec.user, get(&["user", "user_name"])),
        (&mut rec.db, get(&["dbname", "database_name"])),
        (&mut rec.app, get(&["application_name"])),
        (&mut rec.client, get(&["remote_host", "connection_from"])),
        (&mut rec.message, get(&["message"])),
        (&mut rec.detail, get(&["detail"])),
        (&mut rec.statement, get(&["statement", "query"])),
    ] {
        field.push_str(value.as_deref().unwrap_or(""));
    }
    JsonLine::Record
}

/// A value as [`fill`] reads it: a string as it is, a number as serde_json prints it,
/// anything else as absent.
#[derive(Default)]
enum Text<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Num(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text::Str(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<'a>, E> {
                Ok(Text::Num(serde_json::Number::from(v).to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<'a>, E> {
                Ok(Text::Num(serde_json::Number::from(v).to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text<'a>, E> {
                Ok(serde_json::Number::from_f64(v)
                    .map_or(Text::Absent, |n| Text::Num(n.to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'a>, E> {
                Ok(Text::Absent)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text::Absent)
            }
            fn visit_none<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text::Absent)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Text<'a>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::Absent)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Text<'a>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::Absent)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The keys of a jsonlog record, of CloudNativePG's wrapper (`record`, csvlog names) and
/// of Cloud SQL's (`textPayload`) that [`fill`] reads; the others are skipped unread.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Keys<'a> {
    #[serde(borrow)]
    timestamp: Text<'a>,
    #[serde(borrow)]
    log_time: Text<'a>,
    #[serde(borrow)]
    pid: Text<'a>,
    #[serde(borrow)]
    process_id: Text<'a>,
    #[serde(borrow)]
    session_id: Text<'a>,
    #[serde(borrow)]
    user: Text<'a>,
    #[serde(borrow)]
    user_name: Text<'a>,
    #[serde(borrow)]
    dbname: Text<'a>,
    #[serde(borrow)]
    database_name: Text<'a>,
    #[serde(borrow)]
    application_name: Text<'a>,
    #[serde(borrow)]
    remote_host: Text<'a>,
    #[serde(borrow)]
    connection_from: Text<'a>,
    #[serde(borrow)]
    error_severity: Text<'a>,
    #[serde(borrow)]
    message: Text<'a>,
    #[serde(borrow)]
    detail: Text<'a>,
    #[serde(borrow)]
    statement: Text<'a>,
    #[serde(borrow)]
    query: Text<'a>,
    #[serde(rename = "textPayload", borrow)]
    text_payload: Option<Cow<'a, str>>,
    /// Missing: None; `null`: Some(None).
    #[serde(borrow, deserialize_with = "present")]
    record: Option<Option<Box<Keys<'a>>>>,
}

fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl<'a> Keys<'a> {
    fn get(&self, key: &str) -> Option<&str> {
        let t = match key {
            "timestamp" => &self.timestamp,
            "log_time" => &self.log_time,
            "pid" => &self.pid,
            "process_id" => &self.process_id,
            "session_id" => &self.session_id,
            "user" => &self.user,
            "user_name" => &self.user_name,
            "dbname" => &self.dbname,
            "database_name" => &self.database_name,
            "application_name" => &self.application_name,
            "remote_host" => &self.remote_host,
            "connection_from" => &self.connection_from,
            "error_severity" => &self.error_severity,
            "message" => &self.message,
            "detail" => &self.detail,
            "statement" => &self.statement,
            "query" => &self.query,
            _ => &Text::Absent,
        };
        match t {
            Text::Absent => None,
            Text::Str(s) => Some(s),
            Text::Num(n) => Some(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed read gives what the JSON tree gives, on the shapes and the odd values.
    #[test]
    fn typed_keys_read_like_the_tree() {
        let lines = [
            r#"{"timestamp":"2024-06-27 00:00:07.369 CEST","user":"app","dbname":"shop","pid":58151,"error_severity":"LOG","message":"duration: 1.5 ms  statement: SELECT 1","detail":"parameters: $1 = 'a\"b'","query":"q"}"#,
            r#"{"log_time":"2024-06-27 00:00:07","pid":-3,"process_id":"9","error_severity":"ERROR","message":"x\ny \u00e9","statement":"SELECT 2","query":"SELECT 3"}"#,
            r#"{"timestamp":17e2,"pid":1.5,"session_id":"ab.cd","user":null,"user_name":"u2","dbname":true,"database_name":"d2","error_severity":"LOG","message":"m"}"#,
            r#"{"pid":{"nested":[1,2,{"a":null}]},"process_id":[3],"session_id":"s","error_severity":"WARNING","message":"m","extra":{"deep":[true,false]}}"#,
            r#"{"level":"info","record":{"log_time":"2022-11-27 18:58:02.004 UTC","user_name":"postgres","process_id":"599","error_severity":"LOG","message":"duration: 0.097 ms  statement: ;"}}"#,
            r#"{"record":null,"error_severity":"LOG","message":"top-level fields under a null record"}"#,
            r#"{"record":"not an object","error_severity":"LOG","message":"m"}"#,
            r#"{"error_severity":"LOG","message":"first","message":"duplicate key"}"#,
            r#"{"textPayload":"[24667]: [2-1] db=d,user=u LOG:  connection authorized: user=u","timestamp":"2020-05-02T13:00:12.345Z"}"#,
            r#"{"textPayload":"[24667]: [2-2] \tcontinued","timestamp":5}"#,
            r#"{"textPayload":7,"error_severity":"LOG","message":"m"}"#,
            r#"{"error_severity":"NOTASEVERITY","message":"m"}"#,
            r#"{"error_severity":"LOG","message":"m","pid":18446744073709551615,"remote_host":12345678901234567890123}"#,
            r#"not json"#,
            r#"[1,2]"#,
            r#"["2024-06-27 00:00:07","t","1","s","u","u","d","d","a","h","c","c","LOG","m"]"#,
        ];
        let show = |j: JsonLine, r: &PgRecord| match j {
            JsonLine::Record => format!(
                "record {} {:?} {:?} {} {} {} {} {} {} {} {}",
                r.line,
                r.at,
                r.severity,
                r.session,
                r.user,
                r.db,
                r.app,
                r.client,
                r.message,
                r.detail,
                r.statement
            ),
            JsonLine::Continuation(t) => format!("continuation {t}"),
            JsonLine::No => "no".to_string(),
        };
        // The typed read takes all but the lines it must refuse (wrong wrapper types,
        // a duplicate key, not JSON objects): those go to the tree.
        let typed_ok: Vec<bool> = lines
            .iter()
            .map(|l| l.starts_with('{') && serde_json::from_str::<Keys>(l).is_ok())
            .collect();
        assert_eq!(
            typed_ok,
            [
                true, true, true, true, true, true, false, false, true, true, false, true, true,
                false, false, false
            ]
        );
        for line in lines {
            let (mut a, mut b) = (PgRecord::default(), PgRecord::default());
            let typed = show(parse(line, 3, &mut a, 2020), &a);
            let tree = show(parse_tree(line, 3, &mut b, 2020), &b);
            assert_eq!(typed, tree, "{line}");
        }
    }

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
