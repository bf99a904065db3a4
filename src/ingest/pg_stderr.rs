//! PostgreSQL stderr (and syslog) logs: line prefix, multi-line messages.
//!
//! Without `--log-line-prefix` the prefix is read by shape: the severity word
//! (`LOG:`, `DETAIL:` …) ends it; before it, a timestamp (`%t`, `%m`, `%n`, or a syslog
//! header), a pid (`[%p]`, `postgres[%p]`), a session id (`%c`), `user@db` and
//! `key=value` pairs (`user=`, `db=`, `app=`, `client=`/`host=`). That reads every
//! prefix we have met, including RDS, Cloud SQL, Heroku and Debian's default, without a
//! setting. With `--log-line-prefix` the prefix is compiled to a regex instead.

use regex::Regex;

use super::pg::{PgRecord, Severity};
use crate::{scan, timeparse};

/// How one line was understood.
pub enum Line {
    /// A new message (its fields are in the record passed in).
    Header,
    /// The continuation of the previous message; the text to append.
    Continuation(usize),
    /// Blank.
    Blank,
    /// Not a PostgreSQL log line.
    Unrecognized,
}

/// A compiled `log_line_prefix`.
pub struct Prefix {
    re: Regex,
}

impl Prefix {
    /// Compiles a postgresql.conf `log_line_prefix` value.
    pub fn compile(prefix: &str) -> anyhow::Result<Prefix> {
        let mut pat = String::from(
            r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \S+\[\d+\]: (?:\[\d+-\d+\] )?)?",
        );
        let mut chars = prefix.chars().peekable();
        let mut optional_open = false;
        while let Some(c) = chars.next() {
            if c != '%' {
                pat.push_str(&regex::escape(&c.to_string()));
                continue;
            }
            // Padding like `%-10u` is allowed by PostgreSQL.
            let mut pad = String::new();
            while let Some(&d) = chars.peek() {
                if d == '-' || d.is_ascii_digit() {
                    pad.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            let Some(e) = chars.next() else { break };
            let ts = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z0-9+\-:/_]+)?";
            let piece: String = match e {
                't' | 'm' => format!("(?P<ts>{ts})"),
                'n' => r"(?P<epoch>\d+(?:\.\d+)?)".into(),
                's' => format!("(?:{ts})"),
                'p' => r"(?P<pid>\d+)".into(),
                'P' => r"(?:\d*)".into(),
                'c' => r"(?P<sid>[0-9a-f]+\.[0-9a-f]+)".into(),
                'l' | 'x' => r"(?:\d+)".into(),
                'u' => r"(?P<user>.*?)".into(),
                'd' => r"(?P<db>.*?)".into(),
                'a' => r"(?P<app>.*?)".into(),
                'h' => r"(?P<client>.*?)".into(),
                'r' => r"(?P<client>.*?)".into(),
                'b' | 'i' | 'v' => r"(?:.*?)".into(),
                'e' => r"(?:[0-9A-Z]{5})".into(),
                'Q' => r"(?:-?\d+)".into(),
                '%' => "%".into(),
                'q' => {
                    // Everything after %q is absent for non-session processes.
                    optional_open = true;
                    "(?:".into()
                }
                _ => r"(?:.*?)".into(),
            };
            let _ = pad;
            pat.push_str(&piece);
        }
        if optional_open {
            pat.push_str(")?");
        }
        pat.push_str(r"\s*(?P<sev>[A-Z]+[0-9]?):\s+");
        let re = Regex::new(&pat).map_err(|e| anyhow::anyhow!("invalid --log-line-prefix: {e}"))?;
        Ok(Prefix { re })
    }

    fn parse(&self, line: &str, rec: &mut PgRecord) -> Option<usize> {
        let caps = self.re.captures(line)?;
        let sev = Severity::from_word(caps.name("sev")?.as_str().as_bytes())?;
        rec.severity = Some(sev);
        if let Some(m) = caps.name("ts") {
            rec.at = timeparse::parse_iso(m.as_str().as_bytes()).map(|x| x.0);
        } else if let Some(m) = caps.name("epoch") {
            rec.at = timeparse::parse_epoch(m.as_str().as_bytes());
        }
        let pid = caps.name("pid").or(caps.name("sid"));
        if let Some(m) = pid {
            rec.session.push_str(m.as_str());
        }
        for (name, field) in [
            ("user", &mut rec.user),
            ("db", &mut rec.db),
            ("app", &mut rec.app),
            ("client", &mut rec.client),
        ] {
            if let Some(m) = caps.name(name) {
                field.push_str(m.as_str());
            }
        }
        Some(caps.get(0)?.end())
    }
}

/// Finds the severity marker: returns (severity, end of prefix, start of message).
fn find_severity(b: &[u8]) -> Option<(Severity, usize, usize)> {
    let limit = b.len().min(400);
    for p in scan::positions(&b[..limit], b':') {
        // The word before ':' must be upper-case letters (+ digit for DEBUGn).
        let mut s = p;
        while s > 0 && (b[s - 1].is_ascii_uppercase() || (s < p && b[s - 1].is_ascii_digit())) {
            s -= 1;
        }
        if p - s < 3 || !(s == 0 || matches!(b[s - 1], b' ' | b':' | b']' | b'\t')) {
            continue;
        }
        let after = b.get(p + 1).copied();
        if !matches!(after, None | Some(b' ') | Some(b'\t')) {
            continue;
        }
        let Some(sev) = Severity::from_word(&b[s..p]) else {
            continue;
        };
        let mut m = p + 1;
        while m < b.len() && (b[m] == b' ' || b[m] == b'\t') {
            m += 1;
        }
        return Some((sev, s, m));
    }
    None
}

/// Reads the prefix fields by shape (see the module doc); `rec`'s fields are empty.
fn parse_prefix_auto(
    p: &str,
    rec: &mut PgRecord,
    year: i64,
    memo: Option<&mut PrefixMemo>,
) -> bool {
    let b = p.as_bytes();
    let mut i = 0;
    let mut has_time = false;
    if let Some((t, used)) = timeparse::parse_iso(b) {
        rec.at = Some(t);
        has_time = true;
        i = used;
    } else if let Some((t, used)) = timeparse::parse_syslog(b, year) {
        rec.at = Some(t);
        has_time = true;
        i = used;
    } else if b.first().is_some_and(u8::is_ascii_digit) {
        let end = b
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b'.'))
            .unwrap_or(b.len());
        if end >= 10 {
            rec.at = timeparse::parse_epoch(&b[..end]);
            has_time = rec.at.is_some();
            i = end;
        }
    }
    let rest = &p[i..];
    let pid_found = match memo {
        Some(m) => m.fields(rest, rec),
        None => rest_fields(rest, rec),
    };
    has_time || pid_found
}

/// The fields of a prefix after its timestamp, into `rec`'s empty fields; whether a
/// pid or session id was found.
fn rest_fields(rest: &str, rec: &mut PgRecord) -> bool {
    // pid: the first `[digits]`, `name[digits]` or `[name.digits]` (Heroku).
    let rb = rest.as_bytes();
    let mut pid_found = false;
    for open in scan::positions(rb, b'[') {
        let Some(close) = scan::byte(&rb[open..], b']') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let ib = inner.as_bytes();
        let digits = ib
            .iter()
            .rposition(|&c| c == b'.')
            .map_or(inner, |d| &inner[d + 1..]);
        if !digits.is_empty()
            && digits.bytes().all(|c| c.is_ascii_digit())
            && scan::byte(ib, b'-').is_none()
        {
            // `[0]` after the pid is %x, and `[12-1]` is %l: the first wins.
            rec.session.clear();
            rec.session.push_str(digits);
            pid_found = true;
            break;
        }
    }
    // Tokens split at ' ', ',', ':' and tab: ASCII, so byte positions are char boundaries.
    let mut at = 0;
    while at < rb.len() {
        let end = rb[at..]
            .iter()
            .position(|c| matches!(c, b' ' | b',' | b':' | b'\t'))
            .map_or(rb.len(), |i| at + i);
        let tok = &rest[at..end];
        at = end + 1;
        if tok.is_empty() {
            continue;
        }
        if let Some(eq) = scan::byte(tok.as_bytes(), b'=') {
            let (k, v) = (&tok[..eq], &tok[eq + 1..]);
            let field = match k {
                "user" | "usr" | "u" => &mut rec.user,
                "db" | "database" | "d" => &mut rec.db,
                "app" | "appli" | "application" | "application_name" => &mut rec.app,
                "client" | "host" | "remote" | "h" => &mut rec.client,
                _ => continue,
            };
            field.clear();
            field.push_str(v);
        } else if let Some(a) = scan::byte(tok.as_bytes(), b'@') {
            let (u, d) = (&tok[..a], &tok[a + 1..]);
            if rec.user.is_empty() && rec.db.is_empty() && scan::byte(u.as_bytes(), b'[').is_none()
                || u == "[unknown]"
            {
                rec.user.clear();
                rec.user.push_str(u);
                rec.db.clear();
                rec.db.push_str(d.trim_end_matches(':'));
            }
        } else if !pid_found && is_session_id(tok) {
            rec.session.clear();
            rec.session.push_str(tok);
            pid_found = true;
        }
    }
    pid_found
}

fn is_session_id(t: &str) -> bool {
    let Some((a, b)) = t.split_once('.') else {
        return false;
    };
    a.len() >= 6
        && !b.is_empty()
        && a.bytes()
            .chain(b.bytes())
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Syslog / Heroku continuation: `... postgres[pid]: [N-2] #011text` or
/// `... app[postgres.N]: [GREEN] [19-3] \ttext`: a `[N-M]` tag with M > 1.
fn syslog_continuation(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let limit = b.len().min(200);
    for open in memchr::memchr_iter(b'[', &b[..limit]) {
        let Some(len) = b[open..limit].iter().position(|c| *c == b']') else {
            break;
        };
        let inner = &line[open + 1..open + len];
        let Some((n, m)) = inner.split_once('-') else {
            continue;
        };
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        if digits(n) && digits(m) && m != "1" {
            let mut at = open + len + 1;
            if b.get(at) == Some(&b' ') {
                at += 1;
            }
            return Some(at);
        }
    }
    None
}

/// Parses one stderr line into `rec` (already cleared by the caller for headers).
pub fn parse_line(line: &str, rec: &mut PgRecord, prefix: Option<&Prefix>, year: i64) -> Line {
    parse_line_with(line, rec, prefix, year, None)
}

/// What the part of a prefix after its timestamp says (pid or session id, user, db,
/// application, client), remembered by that part's text. A log repeats it for every
/// line of a session (about 80 distinct in 5,000 lines of a busy server), and reading
/// it again by shape was a third of reading a line. The same answer as reading it:
/// the fields are a function of that text alone.
pub struct PrefixMemo {
    slots: Vec<MemoSlot>,
}

/// `text` holds the prefix part, then session, user, db, app and client; `lens` their
/// byte lengths.
#[derive(Default, Clone)]
struct MemoSlot {
    text: String,
    lens: [usize; 6],
    pid_found: bool,
}

const MEMO_SLOTS: usize = 512;

impl Default for PrefixMemo {
    fn default() -> Self {
        PrefixMemo {
            slots: vec![MemoSlot::default(); MEMO_SLOTS],
        }
    }
}

impl PrefixMemo {
    /// Fills `rec`'s session and name fields from `rest`; returns whether a pid or
    /// session id was found.
    fn fields(&mut self, rest: &str, rec: &mut PgRecord) -> bool {
        let h = xxhash_rust::xxh3::xxh3_64(rest.as_bytes()) as usize;
        let slot = &mut self.slots[h % MEMO_SLOTS];
        if slot.lens[0] == rest.len() && slot.text.get(..rest.len()) == Some(rest) {
            let mut at = rest.len();
            for (field, len) in [
                &mut rec.session,
                &mut rec.user,
                &mut rec.db,
                &mut rec.app,
                &mut rec.client,
            ]
            .into_iter()
            .zip(&slot.lens[1..])
            {
                field.push_str(&slot.text[at..at + len]);
                at += len;
            }
            return slot.pid_found;
        }
        let pid_found = rest_fields(rest, rec);
        slot.text.clear();
        slot.text.push_str(rest);
        slot.lens[0] = rest.len();
        for (i, f) in [&rec.session, &rec.user, &rec.db, &rec.app, &rec.client]
            .into_iter()
            .enumerate()
        {
            slot.text.push_str(f);
            slot.lens[i + 1] = f.len();
        }
        slot.pid_found = pid_found;
        pid_found
    }
}

/// [`parse_line`], remembering prefixes in `memo`.
pub fn parse_line_with(
    line: &str,
    rec: &mut PgRecord,
    prefix: Option<&Prefix>,
    year: i64,
    memo: Option<&mut PrefixMemo>,
) -> Line {
    if line.trim().is_empty() {
        return Line::Blank;
    }
    if line.starts_with('\t') {
        return Line::Continuation(1);
    }
    if line.starts_with(' ') {
        // Continuation lines whose tab became spaces on the way (copied logs).
        return Line::Continuation(0);
    }
    if let Some(p) = prefix {
        rec.clear();
        return match p.parse(line, rec) {
            Some(m) => {
                rec.message.push_str(&line[m..]);
                Line::Header
            }
            None => Line::Unrecognized,
        };
    }
    let b = line.as_bytes();
    match find_severity(b) {
        Some((sev, pend, mstart)) => {
            rec.clear();
            if !parse_prefix_auto(&line[..pend], rec, year, memo) {
                return Line::Unrecognized;
            }
            rec.severity = Some(sev);
            rec.message.push_str(&line[mstart..]);
            Line::Header
        }
        None => match syslog_continuation(line) {
            Some(at) => Line::Continuation(at),
            None => Line::Unrecognized,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> PgRecord {
        let mut r = PgRecord::default();
        assert!(
            matches!(parse_line(line, &mut r, None, 2020), Line::Header),
            "{line}"
        );
        r
    }

    #[test]
    fn reads_common_prefixes_by_shape() {
        let r = parse(
            "2026-11-26 07:24:39.552 UTC [28433] shop_app@seed_shop LOG:  duration: 0.740 ms  statement: SELECT 1",
        );
        assert_eq!(
            (r.session.as_str(), r.user.as_str(), r.db.as_str()),
            ("28433", "shop_app", "seed_shop")
        );
        assert_eq!(r.message, "duration: 0.740 ms  statement: SELECT 1");
        let r = parse(
            "2017-09-06 08:41:41 UTC [36]: [121-1] user=postgres,db=pgdb,app=pgbench,client=172.23.0.1 LOG:  duration: 2.280 ms  statement: END;",
        );
        assert_eq!(
            (
                r.session.as_str(),
                r.user.as_str(),
                r.db.as_str(),
                r.app.as_str()
            ),
            ("36", "postgres", "pgdb", "pgbench")
        );
        let r = parse(
            "2020-03-11 20:40:43 CET:10.0.0.1(5432):bob@shop:[12760]:LOG:  statement: SELECT 1",
        );
        assert_eq!(
            (r.session.as_str(), r.user.as_str(), r.db.as_str()),
            ("12760", "bob", "shop")
        );
        let r = parse(
            "Feb 11 13:15:39 test-pc postgres[10808]: [1-1] db=d,user=u,app=,client= LOG:  listening",
        );
        assert_eq!(
            (r.session.as_str(), r.user.as_str(), r.db.as_str()),
            ("10808", "u", "d")
        );
        let r = parse(
            "2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [20-1]  sql_error_code = 00000 LOG:  duration: 1 ms  statement: x",
        );
        assert_eq!(r.session, "4821");
    }

    #[test]
    fn remembered_prefixes_read_as_without_memory() {
        let shapes = [
            "2026-11-26 07:24:39.552 UTC [{p}] u{u}@db{d} LOG:  duration: 0.740 ms  statement: SELECT {p}",
            "2017-09-06 08:41:41 UTC [{p}]: [121-1] user=u{u},db=db{d},app=pgbench,client=10.0.0.{d} LOG:  x",
            "2020-03-11 20:40:43 CET:10.0.0.{d}(5432):u{u}@db{d}:[{p}]:LOG:  statement: SELECT 1",
            "Feb 11 13:15:39 test-pc postgres[{p}]: [1-1] db=db{d},user=u{u},app=,client= LOG:  listening",
            "2019-03-14T00:23:00+00:00 app[postgres.{p}]: [GREEN] [20-1]  sql_error_code = 00000 LOG:  x",
            "2026-11-26 07:24:39.552 UTC 5f{p}.{d}a [unknown]@[unknown] LOG:  connection received",
            "2026-11-26 07:24:39.552 UTC [{p}] [unknown]@db{d} FATAL:  no",
            "1700000000.{d} [{p}] LOG:  checkpoint",
            // Neither time nor pid: not a log line, remembered or not.
            "u{u}@db{d}x{p} LOG:  x",
        ];
        let mut memo = PrefixMemo::default();
        let (mut a, mut b) = (PgRecord::default(), PgRecord::default());
        // Over 512 distinct prefixes, revisited: slots are filled, reused and replaced.
        for i in 0..6000u64 {
            let n = (i * 7919) % 1500;
            let line = shapes[(n % 9) as usize]
                .replace("{p}", &(1000 + n).to_string())
                .replace("{u}", &(n % 5).to_string())
                .replace("{d}", &(n % 3).to_string());
            let x = parse_line(&line, &mut a, None, 2020);
            let y = parse_line_with(&line, &mut b, None, 2020, Some(&mut memo));
            assert_eq!(
                std::mem::discriminant(&x),
                std::mem::discriminant(&y),
                "{line}"
            );
            let fields = |r: &PgRecord| {
                (
                    r.at,
                    r.severity,
                    r.session.clone(),
                    r.user.clone(),
                    r.db.clone(),
                )
            };
            assert_eq!(fields(&a), fields(&b), "{line}");
            assert_eq!(
                (&a.app, &a.client, &a.message),
                (&b.app, &b.client, &b.message)
            );
        }
        let hits = memo.slots.iter().filter(|s| !s.text.is_empty()).count();
        assert!(hits > 400, "{hits} slots used");
    }

    #[test]
    fn explicit_prefix() {
        let p = Prefix::compile("%m [%p] %q%u@%d ").unwrap();
        let mut r = PgRecord::default();
        let line = "2026-11-26 07:24:39.552 UTC [28433] shop_app@seed_shop LOG:  duration: 0.740 ms  statement: SELECT 1";
        assert!(matches!(
            parse_line(line, &mut r, Some(&p), 2020),
            Line::Header
        ));
        assert_eq!(
            (r.session.as_str(), r.user.as_str(), r.db.as_str()),
            ("28433", "shop_app", "seed_shop")
        );
        let line = "2026-11-26 07:24:39.552 UTC [28433] LOG:  checkpoint starting: time";
        assert!(matches!(
            parse_line(line, &mut r, Some(&p), 2020),
            Line::Header
        ));
    }

    #[test]
    fn not_postgres() {
        let mut r = PgRecord::default();
        for l in [
            "pg_ctl: could not start server",
            "2018-09-12 16:08:54.776 3394 LOG listening on 127.0.0.1:6432",
        ] {
            assert!(
                matches!(parse_line(l, &mut r, None, 2020), Line::Unrecognized),
                "{l}"
            );
        }
    }
}
