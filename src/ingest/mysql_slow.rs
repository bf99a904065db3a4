//! MySQL / MariaDB / Percona Server slow query logs (5.1 to 8.x).
//!
//! An event is a run of `# Key: value` header lines followed by its SQL lines; the next
//! header line ends it. `use db;` and `SET timestamp=N;` before the SQL are attributes,
//! not part of the statement, as in pt-query-digest. `# administrator command: X;` is an
//! event of its own.

use crate::event::{EventSink, Name, NameTable, QueryEvent};
use crate::scan;
use crate::timeparse;

#[derive(Default)]
pub struct MysqlSlow {
    file: usize,
    ev: QueryEvent,
    has_header: bool,
    /// The current event has its own `# Query_time:` or `# User@Host:` line, not only
    /// the tail of an event cut off by log rotation.
    has_header_fields: bool,
    line_no: u64,
    in_text: bool,
    /// The last `use db;` line: the statement itself when nothing else follows it.
    use_line: Option<String>,
    /// The Query_time header could not be read: the event is dropped and reported.
    bad_time: Option<u64>,
    pub invalid: Vec<(u64, String)>,
    /// Old servers write `# Time:` only when the second changes; it holds until the next.
    last_time: Option<i64>,
    pub events: u64,
    /// Users, hosts, thread ids and schemas seen, so events share one allocation each.
    names: NameTable,
    /// `User@Host:` texts read lately, with what they gave (see [`UserHost`]).
    user_hosts: Vec<UserHost>,
}

/// A `User@Host:` text and its user, client and thread id. A connection repeats its
/// line with every statement, and reading it (three name lookups) was a tenth of
/// reading an event; the names are a function of the text, so remembering them by it
/// gives the same event.
#[derive(Default, Clone)]
struct UserHost {
    text: String,
    user: Option<Name>,
    client: Option<Name>,
    session: Option<Name>,
}

const USER_HOSTS: usize = 256;

/// What a line was.
pub enum Kind {
    Header,
    Text,
    Banner,
    Blank,
}

impl MysqlSlow {
    pub fn new(file: usize) -> Self {
        MysqlSlow {
            file,
            ..Default::default()
        }
    }

    fn name(&mut self, s: &str) -> Name {
        self.names.get(s)
    }

    fn emit(&mut self, sink: &mut dyn EventSink) {
        if !self.in_text && self.has_header {
            // An event of only `use db;` is that statement (as pt-query-digest counts it).
            if let Some(u) = self.use_line.take() {
                self.ev.sql = u;
                self.in_text = true;
            }
        }
        if let Some(line) = self.bad_time.take() {
            if self.in_text {
                self.invalid
                    .push((line, "invalid Query_time value; event skipped".into()));
            }
            self.in_text = false;
        }
        if self.in_text {
            let ev = &mut self.ev;
            while ev.sql.ends_with(['\n', ' ', '\t', '\r']) {
                ev.sql.pop();
            }
            if ev.at.is_none() {
                ev.at = self.last_time;
            }
            ev.file = self.file;
            if !ev.sql.trim().is_empty() {
                self.events += 1;
                sink.event(ev);
            }
        }
        self.ev.reset();
        self.has_header = false;
        self.has_header_fields = false;
        self.in_text = false;
        self.use_line = None;
    }

    pub fn line(&mut self, line: &str, line_no: u64, sink: &mut dyn EventSink) -> Kind {
        if line.starts_with('#') && self.in_text && !self.has_header && is_event_header(line) {
            // SQL before any header (a log that starts mid-event) is not an event.
            self.in_text = false;
            self.ev.reset();
        }
        if line.starts_with('#') && (!self.in_text || is_event_header(line)) {
            if self.in_text || self.use_line.is_some() {
                self.emit(sink);
            }
            if !self.has_header {
                self.ev.line = line_no;
            }
            self.has_header = true;
            self.line_no = line_no;
            self.header(line, sink);
            return Kind::Header;
        }
        if is_banner(line) {
            self.emit(sink);
            return Kind::Banner;
        }
        if !self.in_text {
            // ASCII trims throughout: the Unicode ones decode every character and ran
            // about ten times per event (the server pads with ASCII spaces only).
            let t = line.trim_ascii();
            if t.is_empty() {
                return Kind::Blank;
            }
            if let Some(db) = strip_prefix_ci(t, "use ") {
                let db = db.trim_end_matches(';').trim_ascii().trim_matches('`');
                self.ev.db = Some(self.name(db));
                self.use_line = Some(t.to_string());
                return Kind::Header;
            }
            if let Some(at) = session_set_line(t) {
                if at.is_some() {
                    self.ev.at = at;
                }
                return Kind::Header;
            }
            if !self.has_header {
                self.ev.line = line_no;
            }
            self.in_text = true;
            // Room for a typical statement: lines are appended one by one.
            self.ev.sql.reserve(256);
        } else {
            self.ev.sql.push('\n');
        }
        self.ev.sql.push_str(line);
        Kind::Text
    }

    fn header(&mut self, line: &str, sink: &mut dyn EventSink) {
        let body = line.trim_start_matches('#').trim_ascii();
        if body.starts_with("Query_time:") || body.starts_with("User@Host:") {
            self.has_header_fields = true;
        }
        if let Some(t) = body.strip_prefix("Time:") {
            let t = t.trim_ascii();
            self.last_time = timeparse::parse_iso(t.as_bytes())
                .map(|x| x.0)
                .or_else(|| timeparse::parse_mysql_short(t.as_bytes()));
            // Some versions put `# User@Host:` on the same line.
            if let Some(i) = scan::find(t, "# User@Host:") {
                self.user_host(&t[i + 12..]);
            }
            return;
        }
        if let Some(rest) = body.strip_prefix("User@Host:") {
            self.user_host(rest);
            return;
        }
        if let Some(cmd) = body.strip_prefix("administrator command:") {
            if !self.has_header_fields {
                // A command with no header of its own (start of a rotated log) is not counted.
                return;
            }
            let cmd = cmd.trim_ascii().trim_end_matches(';');
            self.ev.sql = format!("administrator command: {cmd}");
            self.in_text = true;
            self.emit(sink);
            return;
        }
        // `Key: value  Key: value` pairs.
        let mut it = body.split_ascii_whitespace().peekable();
        while let Some(tok) = it.next() {
            let Some(key) = tok.strip_suffix(':') else {
                continue;
            };
            let Some(val) = it.peek().copied() else { break };
            if val.ends_with(':') {
                continue;
            }
            it.next();
            match key {
                "Query_time" => match scan::parse_decimal(val) {
                    Some(v) if v.is_finite() && v >= 0.0 => self.ev.duration_ms = Some(v * 1000.0),
                    _ => self.bad_time = Some(self.line_no),
                },
                "Lock_time" => self.ev.lock_ms = scan::parse_decimal(val).map(|s| s * 1000.0),
                "Rows_sent" => self.ev.rows = val.parse().ok(),
                "Rows_examined" => self.ev.rows_examined = val.parse().ok(),
                "Thread_id" | "Id" => self.ev.session = Some(self.name(val)),
                "Schema" => self.ev.db = Some(self.name(val)),
                _ => {}
            }
        }
    }

    /// Sets the event's user, client and thread id from a `User@Host:` text, read once
    /// per text while it stays in its slot.
    fn user_host(&mut self, s: &str) {
        if self.user_hosts.is_empty() {
            self.user_hosts = vec![UserHost::default(); USER_HOSTS];
        }
        let slot = xxhash_rust::xxh3::xxh3_64(s.as_bytes()) as usize % USER_HOSTS;
        // An empty slot is the empty text's answer: it names nothing.
        if self.user_hosts[slot].text != s {
            let [user, client, session] = self.read_user_host(s);
            let known = &mut self.user_hosts[slot];
            known.text.clear();
            known.text.push_str(s);
            (known.user, known.client, known.session) = (user, client, session);
        }
        let known = &self.user_hosts[slot];
        // What the line does not name keeps what the event had.
        for (field, name) in [
            (&mut self.ev.user, &known.user),
            (&mut self.ev.client, &known.client),
            (&mut self.ev.session, &known.session),
        ] {
            if name.is_some() {
                field.clone_from(name);
            }
        }
    }

    /// The user, client and thread id that `user[user] @ host [ip]  Id: 12` names.
    fn read_user_host(&mut self, s: &str) -> [Option<Name>; 3] {
        // Byte searches throughout: this runs for every connection's line.
        let upto = |t: &str, c: u8| memchr::memchr(c, t.as_bytes()).unwrap_or(t.len());
        let s = s.trim_ascii();
        let (who, rest) = match scan::find(s, " @ ") {
            Some(i) => (&s[..i], &s[i + 3..]),
            None => (s, ""),
        };
        let user = who[..upto(who, b'[')].trim_ascii();
        let user = if user.is_empty() {
            who.trim_matches(|c| c == '[' || c == ']' || c == ' ')
        } else {
            user
        };
        let user = (!user.is_empty()).then(|| self.name(user));
        let (host_part, id_part) = match scan::find(rest, "Id:") {
            Some(i) => (&rest[..i], Some(&rest[i + 3..])),
            None => (rest, None),
        };
        let open = upto(host_part, b'[');
        let host = host_part[..open].trim_ascii();
        let ip = host_part.get(open + 1..).map_or("", |x| {
            x[..upto(x, b'[')].trim_ascii_end().trim_end_matches(']')
        });
        let client = if !host.is_empty() { host } else { ip };
        let client = (!client.is_empty()).then(|| self.name(client));
        let session = id_part
            .and_then(|x| x.split_ascii_whitespace().next())
            .map(|id| self.name(id));
        [user, client, session]
    }

    pub fn finish(&mut self, sink: &mut dyn EventSink) {
        self.emit(sink);
    }

    /// The time of the last `# Time:` line read.
    pub fn last_time(&self) -> Option<i64> {
        self.last_time
    }
}

/// `SET timestamp=N;` and `SET insert_id=N,timestamp=N;` (and `last_insert_id`): the
/// server writes these before the statement to replay it; they are not the statement.
/// Returns Some(timestamp) for such a line.
fn session_set_line(t: &str) -> Option<Option<i64>> {
    let body = strip_prefix_ci(t, "SET ")?.strip_suffix(';')?;
    let mut at = None;
    // One per event, a few bytes each: split as bytes (a `str` split by a char pattern
    // sets up a searcher per part) and compared in place rather than lowercased.
    for part in body.as_bytes().split(|&c| c == b',') {
        let eq = part.iter().position(|&c| c == b'=')?;
        let (k, v) = (part[..eq].trim_ascii(), &part[eq + 1..]);
        if k.eq_ignore_ascii_case(b"timestamp") {
            at = timeparse::parse_epoch(v.trim_ascii());
        } else if !(k.eq_ignore_ascii_case(b"insert_id")
            || k.eq_ignore_ascii_case(b"last_insert_id"))
        {
            return None;
        }
    }
    Some(at)
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    if s.len() >= p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p) {
        Some(&s[p.len()..])
    } else {
        None
    }
}

/// Header lines that end the SQL of the event before them. Other `#` lines inside SQL
/// text are comments of the statement.
pub(crate) fn is_event_header(line: &str) -> bool {
    let b = line.trim_start_matches('#').trim_ascii_start();
    [
        "Time:",
        "User@Host:",
        "Thread_id:",
        "Query_time:",
        "administrator command:",
        "Schema:",
    ]
    .iter()
    .any(|p| b.starts_with(p))
}

/// The lines a server writes when it (re)opens its slow log.
pub fn is_banner(line: &str) -> bool {
    // Runs for every statement line: the server ends the first banner line with
    // `started with:` (mysqld.cc, every version in the corpus), so a look at the line's
    // end rejects nearly all lines before any search.
    (line.trim_ascii_end().ends_with("started with:") && scan::find(line, ", Version: ").is_some())
        || line.starts_with("Tcp port: ")
        || line.starts_with("TCP Port: ")
        || line.starts_with("Time                 Id Command")
        || (line.starts_with("Time") && line.contains("Id Command") && line.contains("Argument"))
}

/// Does this look like the start of a slow log?
pub fn sniff(line: &str) -> bool {
    line.starts_with("# Time:")
        || line.starts_with("# User@Host:")
        || line.starts_with("# Query_time:")
        || line.starts_with("# Thread_id:")
        || is_banner(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_user_host_lines_read_as_without_memory() {
        let shapes = [
            "app{n}[app{n}] @  [10.0.0.{n}]  Id:   {n}",
            "root[root] @ localhost []  Id: {n}",
            "[svc{n}] @ db{n}.internal [10.1.0.{n}]",
            "u{n}[u{n}] @  []",
            " @ host{n} [] ",
            "",
        ];
        let mut with = MysqlSlow::new(0);
        for i in 0..3000usize {
            let n = (i * 7919) % 700;
            let line = shapes[n % shapes.len()].replace("{n}", &n.to_string());
            // Whatever the event had before the line: kept where the line names nothing.
            let before = (i % 3 == 0).then(|| Name::from("earlier"));
            let mut without = MysqlSlow::new(0);
            for m in [&mut with, &mut without] {
                m.ev.user.clone_from(&before);
                m.ev.client.clone_from(&before);
                m.ev.session.clone_from(&before);
            }
            with.user_host(&line);
            // Reading afresh: a field the line names replaces the event's.
            let named = without.read_user_host(&line);
            for (field, name) in [
                &mut without.ev.user,
                &mut without.ev.client,
                &mut without.ev.session,
            ]
            .into_iter()
            .zip(named)
            {
                if name.is_some() {
                    *field = name;
                }
            }
            let names = |m: &MysqlSlow| {
                [&m.ev.user, &m.ev.client, &m.ev.session].map(|x| x.as_deref().map(str::to_string))
            };
            assert_eq!(names(&with), names(&without), "{line:?}");
        }
    }

    #[test]
    fn replay_set_lines_are_attributes() {
        assert_eq!(session_set_line("SET timestamp=5;"), Some(Some(5000)));
        assert_eq!(
            session_set_line("SET insert_id=1,timestamp=7;"),
            Some(Some(7000))
        );
        assert_eq!(
            session_set_line("set last_insert_id=2, TIMESTAMP = 9;"),
            Some(Some(9000))
        );
        assert_eq!(session_set_line("SET insert_id=3;"), Some(None));
        // Anything else is a statement of its own.
        for sql in [
            "SET x=1;",
            "SET timestamp=1",
            "SET timestamp=1,x=2;",
            "SET timestamp;",
            "SELECT 1;",
        ] {
            assert_eq!(session_set_line(sql), None, "{sql}");
        }
    }
}
