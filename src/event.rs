//! The one record every log format is reduced to, and the sink that receives them.
//!
//! Parsers hand events on as they read (never a collected Vec), so memory follows the
//! number of open sessions and distinct statements, not the size of the log.

use serde::Serialize;

use crate::fingerprint::Fingerprint;

/// Which SQL dialect an event's text is in; decides lexing and placeholder style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Mysql,
}

/// A session id, user, database, application or client: few distinct values shared by
/// many events, so readers hand out clones of one allocation.
pub type Name = std::sync::Arc<str>;

/// The [`Name`]s a reader has handed out, so equal strings share one allocation (and
/// the aggregator's per-statement sets recognize them by pointer).
#[derive(Debug, Default)]
pub struct NameTable(rustc_hash::FxHashMap<Box<str>, Name>);

impl NameTable {
    pub fn get(&mut self, s: &str) -> Name {
        if let Some(n) = self.0.get(s) {
            return n.clone();
        }
        if self.0.len() >= 4096 {
            // Thread ids of a long log: start over rather than grow with it.
            self.0.clear();
        }
        let n: Name = s.into();
        self.0.insert(s.into(), n.clone());
        n
    }
}

/// One executed statement as the log recorded it.
#[derive(Clone, Debug, Default)]
pub struct QueryEvent {
    /// Index of the input file in the run, and 1-based line where the entry starts.
    pub file: usize,
    pub line: u64,
    /// Milliseconds since the Unix epoch, in the log's own time zone.
    pub at: Option<i64>,
    pub duration_ms: Option<f64>,
    pub sql: String,
    /// The `DETAIL:  parameters:` text (PostgreSQL extended protocol).
    pub params: Option<String>,
    pub session: Option<Name>,
    pub user: Option<Name>,
    pub db: Option<Name>,
    pub app: Option<Name>,
    pub client: Option<Name>,
    /// Rows returned (MySQL Rows_sent).
    pub rows: Option<u64>,
    /// Rows read (MySQL Rows_examined).
    pub rows_examined: Option<u64>,
    pub lock_ms: Option<f64>,
    /// Bytes of temporary files written while it ran.
    pub temp_bytes: Option<u64>,
    pub temp_files: u32,
    /// An auto_explain plan logged for this execution (text or JSON as logged).
    pub plan: Option<String>,
    /// The fingerprint of `sql` worked out by a reader thread, with the hash of the text
    /// it was computed for: the aggregator uses it only when that hash is `sql`'s.
    pub hint: Option<Hint>,
    /// The text's tags, read by the reader thread that found the text new.
    pub tags: Option<std::sync::Arc<crate::aggregate::Tags>>,
    /// What the aggregate keeps of `plan`, when a reader thread read it already.
    pub plan_facts: Option<std::sync::Arc<crate::aggregate::PlanFacts>>,
}

impl QueryEvent {
    /// Empties the event for reuse, keeping the capacity of its statement text.
    pub fn reset(&mut self) {
        let mut sql = std::mem::take(&mut self.sql);
        sql.clear();
        *self = QueryEvent {
            sql,
            ..Default::default()
        };
    }
}

/// A statement text's hash and fingerprint, worked out by a reader thread.
pub type Hint = (u64, Fingerprint);

/// Something the log says about a statement besides its execution.
#[derive(Clone, Debug)]
pub enum SideNote {
    /// The statement failed (`ERROR` + `STATEMENT`), e.g. a statement timeout.
    Error { message: String },
    /// A temporary file of this size was written while the statement ran.
    TempFile { bytes: u64 },
}

/// Receives what parsers find, in log order.
pub trait EventSink {
    /// The sink takes (`std::mem::take`) what it keeps; the caller may reuse the rest,
    /// the text buffers above all: an event costs no allocation of its own.
    fn event(&mut self, ev: &mut QueryEvent);
    /// `sql` is the statement the note belongs to.
    fn note(&mut self, ev: &QueryEvent, note: SideNote);
}
