//! PostgreSQL log semantics shared by the stderr, csvlog and jsonlog readers.
//!
//! Each reader turns its lines into [`PgRecord`]s (one log message with its prefix
//! fields); [`PgState`] pairs them per session into [`QueryEvent`]s: a `duration:` line
//! with its `DETAIL:  parameters:`, `log_statement` lines with their later `duration:`,
//! auto_explain plans with their statement, `ERROR` with the `STATEMENT` after it, and
//! temporary files with the statement that wrote them. `parse` and `bind` steps are not
//! executions and are not counted.

use rustc_hash::FxHashMap;

use std::sync::Arc;

use crate::aggregate::{PlanFacts, Tags};
use crate::event::{EventSink, Hint, Name, NameTable, QueryEvent, SideNote};
use crate::fingerprint::Normalizer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Log,
    Detail,
    Statement,
    Error,
    Fatal,
    Panic,
    Other,
}

impl Severity {
    pub fn from_word(w: &[u8]) -> Option<Severity> {
        Some(match w {
            b"LOG" => Severity::Log,
            b"DETAIL" => Severity::Detail,
            b"STATEMENT" => Severity::Statement,
            b"ERROR" => Severity::Error,
            b"FATAL" => Severity::Fatal,
            b"PANIC" => Severity::Panic,
            b"WARNING" | b"NOTICE" | b"INFO" | b"HINT" | b"CONTEXT" | b"QUERY" | b"LOCATION"
            | b"DEBUG" | b"DEBUG1" | b"DEBUG2" | b"DEBUG3" | b"DEBUG4" | b"DEBUG5" => {
                Severity::Other
            }
            _ => return None,
        })
    }
}

/// One log message with the prefix fields the log carried.
#[derive(Debug, Default, Clone)]
pub struct PgRecord {
    pub line: u64,
    pub at: Option<i64>,
    pub severity: Option<Severity>,
    /// pid, or the session id when the prefix has no pid.
    pub session: String,
    pub user: String,
    pub db: String,
    pub app: String,
    pub client: String,
    pub message: String,
    /// csvlog / jsonlog carry DETAIL and the failing statement in the same record
    /// (empty: none; reused buffers, like the fields above).
    pub detail: String,
    pub statement: String,
    /// See [`QueryEvent::hint`]: the fingerprint of the statement in `message`.
    pub hint: Option<Hint>,
    pub tags: Option<Arc<Tags>>,
}

/// A record borrowed from wherever its text lives: a [`PgRecord`], or a chunk's
/// text buffer when several threads read (no allocation per record there).
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordView<'a> {
    pub line: u64,
    pub at: Option<i64>,
    pub severity: Option<Severity>,
    pub session: &'a str,
    pub user: &'a str,
    pub db: &'a str,
    pub app: &'a str,
    pub client: &'a str,
    pub message: &'a str,
    pub detail: Option<&'a str>,
    pub statement: Option<&'a str>,
    pub hint: Option<Hint>,
    pub tags: Option<&'a Arc<Tags>>,
    /// `duration: N ms` read by a reader thread: N and where the rest of the message
    /// starts (after the spaces).
    pub timed: Option<(f64, usize)>,
    /// For an auto_explain record, read by a reader thread: the plan's facts and the
    /// hint of its `Query Text`.
    pub plan_facts: Option<&'a Arc<PlanFacts>>,
    pub plan_hint: Option<Hint>,
    pub plan_tags: Option<&'a Arc<Tags>>,
}

impl PgRecord {
    pub fn view(&self) -> RecordView<'_> {
        RecordView {
            line: self.line,
            at: self.at,
            severity: self.severity,
            session: &self.session,
            user: &self.user,
            db: &self.db,
            app: &self.app,
            client: &self.client,
            message: &self.message,
            detail: (!self.detail.is_empty()).then_some(self.detail.as_str()),
            statement: (!self.statement.is_empty()).then_some(self.statement.as_str()),
            hint: self.hint,
            tags: self.tags.as_ref(),
            timed: None,
            plan_facts: None,
            plan_hint: None,
            plan_tags: None,
        }
    }

    pub fn clear(&mut self) {
        self.line = 0;
        self.at = None;
        self.severity = None;
        self.session.clear();
        self.user.clear();
        self.db.clear();
        self.app.clear();
        self.client.clear();
        self.message.clear();
        self.detail.clear();
        self.statement.clear();
        self.hint = None;
        self.tags = None;
    }
}

#[derive(Default)]
struct Session {
    /// The execution waiting for its DETAIL / plan / temp-file lines. Boxed: an event
    /// passes from record to session to sink, and moved inline it was copied whole
    /// (300 bytes) at each step; it also kept every session's table slot that large.
    pending: Option<Box<QueryEvent>>,
    /// `pending` came from log_statement and still waits for its duration.
    untimed: bool,
    /// An auto_explain plan that arrived before its statement's duration line.
    orphan_plan: Option<Box<QueryEvent>>,
    awaiting: Option<Awaiting>,
    names: Names,
    /// The number of the session's last record (see [`PgState::sweep`]).
    last: u64,
}

impl Session {
    /// Nothing is left that a later record could complete but DETAIL / plan / temp-file
    /// lines, which the server writes right after the statement's duration.
    fn settled(&self) -> bool {
        !self.untimed && self.awaiting.is_none() && self.orphan_plan.is_none()
    }
}

/// Records between sweeps of idle sessions, and how many records a settled session may
/// go without one of its own before it is closed. The lines that can still join a
/// settled session come right after its statement, and each entry holds its last
/// execution: thousands of idle ones add up.
const SWEEP_EVERY: u64 = 1 << 13;

/// The session's last prefix values, handed to its events without a new allocation
/// while they stay the same.
#[derive(Default)]
struct Names {
    session: Option<Name>,
    user: Option<Name>,
    db: Option<Name>,
    app: Option<Name>,
    client: Option<Name>,
}

fn name(slot: &mut Option<Name>, s: &str, shared: Option<&mut NameTable>) -> Option<Name> {
    if s.is_empty() || s == "[unknown]" {
        return None;
    }
    match slot {
        Some(n) if **n == *s => Some(n.clone()),
        _ => {
            let n: Name = match shared {
                Some(t) => t.get(s),
                None => Name::from(s),
            };
            *slot = Some(n.clone());
            Some(n)
        }
    }
}

enum Awaiting {
    Error(String),
    Temp(u64),
}

/// What [`PgState`] counted beyond the events themselves.
#[derive(Debug, Default, Clone)]
pub struct PgCounters {
    pub errors_unattributed: u64,
    pub temp_unattributed: u64,
}

pub struct PgState {
    sessions: FxHashMap<String, Session>,
    cx: Cx,
    records: u64,
}

/// Everything but the sessions, so a session is worked on in place while the rest is
/// borrowed beside it.
struct Cx {
    norm: Normalizer,
    /// Text buffers of emitted events, for the next ones' statement and parameters.
    spare: Vec<String>,
    /// Emitted events' allocations, for the next ones (boxes, not events: a box is
    /// what a session holds).
    #[allow(clippy::vec_box)]
    spare_events: Vec<Box<QueryEvent>>,
    /// Users, databases and applications, shared across sessions.
    interned: NameTable,
    file: usize,
    counters: PgCounters,
}

impl PgState {
    pub fn new(file: usize) -> Self {
        PgState {
            sessions: FxHashMap::default(),
            cx: Cx {
                norm: Normalizer::new(),
                spare: Vec::new(),
                spare_events: Vec::new(),
                interned: NameTable::default(),
                file,
                counters: PgCounters::default(),
            },
            records: 0,
        }
    }

    pub fn counters(&self) -> &PgCounters {
        &self.cx.counters
    }

    /// Handles one record in its session.
    pub fn record(&mut self, r: &RecordView, sink: &mut dyn EventSink) {
        self.records += 1;
        if self.records.is_multiple_of(SWEEP_EVERY) {
            self.sweep(sink);
        }
        let sev = r.severity.unwrap_or(Severity::Other);
        let key = r.session;
        let s = match self.sessions.get_mut(key) {
            Some(slot) => slot,
            // Messages that cannot start or touch an execution need no session state.
            None if sev == Severity::Other => return,
            None => self.sessions.entry(key.to_string()).or_default(),
        };
        s.last = self.records;
        if self.cx.handle(r, sev, s, sink) {
            self.sessions.remove(key);
        }
    }

    /// Closes settled sessions that had no record for [`SWEEP_EVERY`] records, as
    /// `disconnection:` would: without `log_disconnections` (the default) every
    /// connection of the log stayed, its last execution with it, and memory grew with
    /// the connections a log has seen. Sessions waiting for a duration, a statement or
    /// a plan's statement stay (a query may run for hours). In key order: the fold and
    /// `--jobs 1` emit the same events in the same order.
    fn sweep(&mut self, sink: &mut dyn EventSink) {
        let now = self.records;
        let mut idle: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| now - s.last >= SWEEP_EVERY && s.settled())
            .map(|(k, _)| k.clone())
            .collect();
        idle.sort_unstable();
        for k in idle {
            if let Some(mut s) = self.sessions.remove(&k) {
                self.cx.flush(&mut s, sink);
            }
        }
        // A burst of connections leaves the table at its high-water size otherwise.
        if self.sessions.capacity() > 4 * self.sessions.len() + 1024 {
            self.sessions.shrink_to(2 * self.sessions.len());
        }
    }

    /// Emits everything still open (end of input).
    pub fn finish(&mut self, sink: &mut dyn EventSink) {
        let mut keys: Vec<String> = self.sessions.keys().cloned().collect();
        keys.sort();
        for k in keys {
            if let Some(mut s) = self.sessions.remove(&k) {
                if let Some(aw) = s.awaiting.take() {
                    self.cx
                        .resolve(aw, None, &RecordView::default(), &mut s, sink);
                }
                self.cx.flush(&mut s, sink);
                self.cx.flush_orphan(&mut s, sink);
            }
        }
    }
}

impl Cx {
    fn text(&mut self, s: &str) -> String {
        let mut t = self.spare.pop().unwrap_or_default();
        t.push_str(s);
        t
    }

    fn emit(&mut self, mut ev: Box<QueryEvent>, sink: &mut dyn EventSink) {
        sink.event(&mut ev);
        // A few buffers of ordinary size are enough to keep allocation off the path.
        for mut t in [Some(std::mem::take(&mut ev.sql)), ev.params.take()]
            .into_iter()
            .flatten()
        {
            if self.spare.len() < 16 && t.capacity() > 0 && t.capacity() <= 1 << 16 {
                t.clear();
                self.spare.push(t);
            }
        }
        if self.spare_events.len() < 16 {
            self.spare_events.push(ev);
        }
    }

    fn base_event(&mut self, r: &RecordView, sql: &str, n: &mut Names) -> Box<QueryEvent> {
        let ev = QueryEvent {
            file: self.file,
            line: r.line,
            at: r.at,
            sql: self.text(sql),
            session: name(&mut n.session, r.session, None),
            user: name(&mut n.user, r.user, Some(&mut self.interned)),
            db: name(&mut n.db, r.db, Some(&mut self.interned)),
            app: name(&mut n.app, r.app, Some(&mut self.interned)),
            client: name(&mut n.client, r.client, None),
            ..Default::default()
        };
        match self.spare_events.pop() {
            Some(mut b) => {
                *b = ev;
                b
            }
            None => Box::new(ev),
        }
    }

    /// Returns true when the session ended.
    fn handle(
        &mut self,
        r: &RecordView,
        sev: Severity,
        s: &mut Session,
        sink: &mut dyn EventSink,
    ) -> bool {
        if let Some(aw) = s.awaiting.take() {
            if sev == Severity::Statement {
                self.resolve(aw, Some(r.message), r, s, sink);
                return false;
            }
            self.resolve(aw, None, r, s, sink);
        }
        match sev {
            Severity::Detail => {
                if let (Some(p), Some(params)) =
                    (&mut s.pending, r.message.strip_prefix("parameters: "))
                {
                    p.params = Some(self.text(params));
                }
            }
            Severity::Statement | Severity::Other => {}
            Severity::Error | Severity::Fatal | Severity::Panic => {
                self.flush_unless_untimed(s, sink);
                let aw = Awaiting::Error(r.message.to_string());
                match r.statement {
                    Some(st) => self.resolve(aw, Some(st), r, s, sink),
                    None => s.awaiting = Some(aw),
                }
            }
            Severity::Log => self.log_message(r, s, sink),
        }
        if let Some(d) = r.detail
            && let (Some(p), Some(params)) = (&mut s.pending, d.strip_prefix("parameters: "))
        {
            p.params = Some(self.text(params));
        }
        if r.message.starts_with("disconnection:") {
            self.flush(s, sink);
            self.flush_orphan(s, sink);
            return true;
        }
        false
    }

    fn resolve(
        &mut self,
        aw: Awaiting,
        sql: Option<&str>,
        r: &RecordView,
        s: &mut Session,
        sink: &mut dyn EventSink,
    ) {
        match (aw, sql) {
            (Awaiting::Error(message), Some(sql)) => sink.note(
                &self.base_event(r, sql, &mut s.names),
                SideNote::Error { message },
            ),
            (Awaiting::Error(message), None) => {
                if s.untimed
                    && let Some(p) = &s.pending
                {
                    sink.note(p, SideNote::Error { message });
                    return;
                }
                self.counters.errors_unattributed += 1;
            }
            (Awaiting::Temp(bytes), Some(sql)) => sink.note(
                &self.base_event(r, sql, &mut s.names),
                SideNote::TempFile { bytes },
            ),
            (Awaiting::Temp(bytes), None) => match &mut s.pending {
                Some(p) => {
                    *p.temp_bytes.get_or_insert(0) += bytes;
                    p.temp_files += 1;
                }
                None => self.counters.temp_unattributed += 1,
            },
        }
    }

    fn flush(&mut self, s: &mut Session, sink: &mut dyn EventSink) {
        if let Some(p) = s.pending.take() {
            self.emit(p, sink);
        }
        s.untimed = false;
    }

    fn flush_unless_untimed(&mut self, s: &mut Session, sink: &mut dyn EventSink) {
        if !s.untimed {
            self.flush(s, sink);
        }
    }

    fn flush_orphan(&mut self, s: &mut Session, sink: &mut dyn EventSink) {
        if let Some(p) = s.orphan_plan.take() {
            self.emit(p, sink);
        }
    }

    /// Whether two texts are one statement; a reader thread may have fingerprinted them.
    fn same_statement(&mut self, a: &str, ha: Option<Hint>, b: &str, hb: Option<Hint>) -> bool {
        if a.trim() == b.trim() {
            return true;
        }
        let mut fp =
            |t: &str, h: Option<Hint>| h.map_or_else(|| self.norm.fingerprint(t, false), |h| h.1);
        fp(a, ha) == fp(b, hb)
    }

    /// Starts a new execution, taking an earlier orphan plan of the same statement along.
    fn start(
        &mut self,
        mut ev: Box<QueryEvent>,
        untimed: bool,
        s: &mut Session,
        sink: &mut dyn EventSink,
    ) {
        self.flush(s, sink);
        if let Some(orphan) = s.orphan_plan.take() {
            if !untimed && self.same_statement(&orphan.sql, orphan.hint, &ev.sql, ev.hint) {
                ev.plan = orphan.plan;
                ev.plan_facts = orphan.plan_facts;
            } else {
                self.emit(orphan, sink);
            }
        }
        s.pending = Some(ev);
        s.untimed = untimed;
    }

    fn log_message(&mut self, r: &RecordView, s: &mut Session, sink: &mut dyn EventSink) {
        let msg = r.message;
        // A reader thread may have read the duration already (`timed`).
        let timed = match r.timed.and_then(|(ms, at)| Some((ms, msg.get(at..)?))) {
            Some(t) => Some(Some(t)),
            None => duration_message(msg),
        };
        if let Some(timed) = timed {
            let Some((ms, after)) = timed else {
                self.flush(s, sink);
                return;
            };
            if after.is_empty() {
                // log_duration: the duration of the statement logged earlier by log_statement.
                if s.untimed {
                    if let Some(p) = &mut s.pending {
                        p.duration_ms = Some(ms);
                    }
                    s.untimed = false;
                }
                return;
            }
            if let Some(sql) = statement_text(after) {
                if s.untimed
                    && s.pending
                        .as_ref()
                        .is_some_and(|p| p.sql.trim() == sql.trim())
                {
                    // Both log_statement and log_min_duration_statement logged it.
                    if let Some(p) = &mut s.pending {
                        p.duration_ms = Some(ms);
                    }
                    s.untimed = false;
                    return;
                }
                let mut ev = self.base_event(r, sql, &mut s.names);
                ev.duration_ms = Some(ms);
                // The reader worked out the hint for exactly this text (parallel.rs).
                ev.hint = r.hint;
                ev.tags = r.tags.cloned();
                self.start(ev, false, s, sink);
                return;
            }
            if let Some(plan) = after.strip_prefix("plan:") {
                self.plan(r, ms, plan, s, sink);
                return;
            }
            // parse / bind steps and anything else timed: not an execution.
            self.flush_unless_untimed(s, sink);
            return;
        }
        if let Some(sql) = statement_text(msg) {
            let mut ev = self.base_event(r, sql, &mut s.names);
            ev.hint = r.hint;
            ev.tags = r.tags.cloned();
            self.start(ev, true, s, sink);
            return;
        }
        if let Some(rest) = msg.strip_prefix("temporary file: ") {
            let bytes = rest
                .rsplit_once("size ")
                .and_then(|(_, n)| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            match r.statement {
                Some(st) => sink.note(
                    &self.base_event(r, st, &mut s.names),
                    SideNote::TempFile { bytes },
                ),
                None => s.awaiting = Some(Awaiting::Temp(bytes)),
            }
        }
    }

    fn plan(
        &mut self,
        r: &RecordView,
        ms: f64,
        plan: &str,
        s: &mut Session,
        sink: &mut dyn EventSink,
    ) {
        let plan = plan.trim_start_matches([' ', '\n', '\r']);
        let query = plan_query_text(plan);
        if let (Some(p), Some(q)) = (&s.pending, query.as_deref()) {
            let matches = p.plan.is_none() && self.same_statement(&p.sql, p.hint, q, r.plan_hint);
            if matches {
                if let Some(p) = &mut s.pending {
                    p.plan = Some(plan.to_string());
                    p.plan_facts = r.plan_facts.cloned();
                }
                return;
            }
        } else if query.is_none() {
            if let Some(p) = &mut s.pending
                && p.plan.is_none()
            {
                p.plan = Some(plan.to_string());
                p.plan_facts = r.plan_facts.cloned();
            }
            return;
        }
        // The plan came first (simple protocol) or alone (auto_explain without
        // statement logging): keep it until the next statement decides.
        let mut ev = self.base_event(r, query.as_deref().unwrap_or_default(), &mut s.names);
        ev.duration_ms = Some(ms);
        ev.plan = Some(plan.to_string());
        ev.plan_facts = r.plan_facts.cloned();
        // Worked out for exactly this text, the plan's query (parallel.rs).
        ev.hint = r.plan_hint;
        ev.tags = r.plan_tags.cloned();
        self.flush_unless_untimed(s, sink);
        self.flush_orphan(s, sink);
        s.orphan_plan = Some(ev);
    }
}

/// `12.345 ms` → (12.345, rest after `ms`).
/// A `duration: N ms …` message: None when it is not one, Some(None) when N is
/// unreadable, else N and the rest after the spaces. Read the same way by the reader
/// threads (`timed`) and by [`PgState`].
pub(crate) fn duration_message(msg: &str) -> Option<Option<(f64, &str)>> {
    msg.strip_prefix("duration: ").map(|rest| {
        parse_duration(rest).map(|(ms, after)| (ms, after.trim_start_matches([' ', '\t'])))
    })
}

pub fn parse_duration(s: &str) -> Option<(f64, &str)> {
    // Runs for every logged statement: byte searches, no searcher set up per call.
    let b = s.as_bytes();
    let end = memchr::memchr_iter(b' ', b).find(|&i| b[i + 1..].starts_with(b"ms"))?;
    let v = crate::scan::parse_decimal(s[..end].trim())?;
    Some((v, &s[end + 3..]))
}

/// The SQL of `statement: …`, `execute <name>: …` and `fastpath function call: …`.
pub(crate) fn statement_text(s: &str) -> Option<&str> {
    if let Some(sql) = s.strip_prefix("statement: ") {
        return Some(sql);
    }
    if let Some(rest) = s.strip_prefix("execute ") {
        // Statement names may themselves contain ':' (`py:0x7f…`), never ": ".
        let b = rest.as_bytes();
        let i = memchr::memchr_iter(b':', b).find(|&i| b.get(i + 1) == Some(&b' '))?;
        return Some(&rest[i + 2..]);
    }
    if s.starts_with("fastpath function call: ") {
        return Some(s);
    }
    None
}

/// The `Query Text` of an auto_explain plan, text or JSON.
pub fn plan_query_text(plan: &str) -> Option<String> {
    let t = plan.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(t).ok()?;
        let v = if let Some(a) = v.as_array() {
            a.first()?.clone()
        } else {
            v
        };
        return v.get("Query Text")?.as_str().map(str::to_string);
    }
    let rest = t.strip_prefix("Query Text: ")?;
    // The query may span lines; the plan starts at the first line that is a plan node.
    let mut out = String::new();
    for (i, line) in rest.split('\n').enumerate() {
        if i > 0 && looks_like_plan_node(line) {
            break;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
    }
    Some(out)
}

fn looks_like_plan_node(line: &str) -> bool {
    let b = line.as_bytes();
    memchr::memchr_iter(b'(', b).any(|i| {
        (i > 0 && b[i - 1] == b' ' && b[i + 1..].starts_with(b"cost="))
            || b[i + 1..].starts_with(b"actual ")
    }) || line.trim_start().starts_with("->")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::parse_decimal;

    #[test]
    fn durations_read_as_the_general_parser_reads_them() {
        for t in [
            "0.740",
            "12.345",
            "0",
            "1.",
            ".5",
            "123456.789",
            "99999999999.9999",
            "1234567890.123456789",
            "1e3",
            "-1.5",
            "0.0001",
            "7.000",
        ] {
            assert_eq!(
                parse_decimal(t).map(f64::to_bits),
                t.parse::<f64>().ok().map(f64::to_bits),
                "{t}"
            );
        }
        // Every digit count and dot position up to the fast path's limit and past it.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let digits = (x >> 60) as usize + 1;
            let n = (x >> 8) % 10u64.pow(digits.min(19) as u32);
            let mut t = format!("{n:0digits$}");
            let dot = (x >> 40) as usize % (digits + 1);
            t.insert(dot, '.');
            assert_eq!(
                parse_decimal(&t).map(f64::to_bits),
                t.parse::<f64>().ok().map(f64::to_bits),
                "{t}"
            );
        }
        assert_eq!(parse_decimal("x"), None);
        assert_eq!(
            parse_duration("12.5 ms  statement: SELECT 1"),
            Some((12.5, "  statement: SELECT 1"))
        );
        assert_eq!(parse_duration("12.5 s"), None);
    }

    #[derive(Default)]
    struct Events(Vec<(String, Option<f64>)>);

    impl EventSink for Events {
        fn event(&mut self, ev: &mut QueryEvent) {
            self.0.push((ev.sql.clone(), ev.duration_ms));
        }
        fn note(&mut self, _: &QueryEvent, _: SideNote) {}
    }

    /// Without `log_disconnections` no record ends a session: settled ones are closed
    /// once idle, so the sessions held stay bounded, while a statement still waiting for
    /// its duration keeps its session however long the query runs.
    #[test]
    fn idle_sessions_are_closed_without_disconnection_lines() {
        let mut st = PgState::new(0);
        let mut sink = Events::default();
        fn rec<'a>(session: &'a str, message: &'a str) -> RecordView<'a> {
            RecordView {
                severity: Some(Severity::Log),
                session,
                message,
                ..Default::default()
            }
        }
        st.record(&rec("long", "statement: SELECT pg_sleep(3600)"), &mut sink);
        let n = 3 * SWEEP_EVERY;
        let mut most = 0;
        for i in 0..n {
            let pid = format!("{}", 1000 + i);
            st.record(
                &rec(&pid, "duration: 1.000 ms  statement: SELECT 1"),
                &mut sink,
            );
            most = most.max(st.sessions.len() as u64);
        }
        assert!(most <= 2 * SWEEP_EVERY + 1, "{most} sessions held");
        st.record(&rec("long", "duration: 3600000.000 ms"), &mut sink);
        st.finish(&mut sink);
        assert_eq!(sink.0.len() as u64, n + 1);
        assert!(
            sink.0
                .iter()
                .any(|(sql, d)| sql == "SELECT pg_sleep(3600)" && *d == Some(3_600_000.0)),
            "the long statement lost its duration"
        );
    }

    #[test]
    fn statement_names_may_contain_colons() {
        assert_eq!(
            statement_text("execute py:0x7f: SELECT 1"),
            Some("SELECT 1")
        );
        assert_eq!(
            statement_text("execute <unnamed>: SELECT $1"),
            Some("SELECT $1")
        );
        assert_eq!(statement_text("execute S_1"), None);
    }
}
