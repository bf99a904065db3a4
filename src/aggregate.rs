//! Per-fingerprint statistics, built as events stream in.
//!
//! Memory is bounded per fingerprint (a quantile sketch, a few samples, small sets of
//! databases and users), so it grows with distinct statements, never with log lines.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::event::{Dialect, EventSink, QueryEvent, SideNote};
use crate::fingerprint::{self, Fingerprint, Normalizer, Style, TextCache};
use crate::sequence::{Exec, Role, SeqConfig, Sequences};
use crate::sketch::Sketch;
use crate::sql::tags;

/// Slowest executions kept per fingerprint.
const SAMPLES: usize = 3;
/// Distinct databases / users / applications kept per fingerprint.
const SET_CAP: usize = 8;
/// The sketch's buckets start above zero; a 0 ms call lands in the lowest one.
const MIN_SKETCHED: f64 = 1e-6;
/// Longest statement text kept for a sample.
const MAX_SAMPLE_SQL: usize = 16 * 1024;

/// Which events to keep.
#[derive(Default, Clone, Debug)]
pub struct Filters {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub include_db: Vec<String>,
    pub exclude_db: Vec<String>,
    pub include_user: Vec<String>,
    pub exclude_user: Vec<String>,
    pub include_app: Vec<String>,
    pub exclude_app: Vec<String>,
}

impl Filters {
    fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.include_db.is_empty()
            && self.exclude_db.is_empty()
            && self.include_user.is_empty()
            && self.exclude_user.is_empty()
            && self.include_app.is_empty()
            && self.exclude_app.is_empty()
    }

    fn keep(&self, ev: &QueryEvent) -> bool {
        if let Some(at) = ev.at
            && (self.since.is_some_and(|s| at < s) || self.until.is_some_and(|u| at >= u))
        {
            return false;
        }
        fn pass(v: &Option<crate::event::Name>, inc: &[String], exc: &[String]) -> bool {
            let v = v.as_deref();
            (inc.is_empty() || v.is_some_and(|v| inc.iter().any(|i| i == v)))
                && !v.is_some_and(|v| exc.iter().any(|e| e == v))
        }
        pass(&ev.db, &self.include_db, &self.exclude_db)
            && pass(&ev.user, &self.include_user, &self.exclude_user)
            && pass(&ev.app, &self.include_app, &self.exclude_app)
    }
}

/// A small set that stops growing at [`SET_CAP`] and remembers that it did.
#[derive(Debug, Default, Clone)]
pub struct SmallSet {
    pub values: Vec<String>,
    pub overflow: bool,
    /// The shared names added so far: readers hand out one allocation per name, so
    /// comparing pointers skips comparing strings for almost every event.
    seen: Vec<crate::event::Name>,
}

impl SmallSet {
    /// Adds `v`, `last` being the name the previous event had (kept by the caller
    /// beside the other fields every event reads: most events repeat it, and the check
    /// then reads no other memory; `seen` is a cache miss away).
    fn add_name(&mut self, last: &mut Option<crate::event::Name>, v: &Option<crate::event::Name>) {
        let Some(v) = v else { return };
        if last.as_ref().is_some_and(|l| Arc::ptr_eq(l, v)) {
            return;
        }
        *last = Some(v.clone());
        if self.seen.iter().any(|l| Arc::ptr_eq(l, v)) {
            return;
        }
        self.add(Some(v));
        if self.seen.len() < SET_CAP {
            self.seen.push(v.clone());
        }
    }

    fn add(&mut self, v: Option<&str>) {
        let Some(v) = v else { return };
        if self.values.iter().any(|x| x == v) {
            return;
        }
        if self.values.len() < SET_CAP {
            self.values.push(v.to_string());
        } else {
            self.overflow = true;
        }
    }
}

/// One logged execution kept as an example.
#[derive(Debug, Clone)]
pub struct Sample {
    pub duration_ms: f64,
    pub at: Option<i64>,
    pub file: usize,
    pub line: u64,
    pub session: Option<String>,
    pub sql: String,
    pub params: Option<String>,
}

/// What a statement's comments say: its application endpoint (sqlcommenter /
/// marginalia) and the rules silenced by `qperf:ignore`. Read once per distinct text,
/// by a reader thread when there are several.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags {
    endpoint: Option<String>,
    ignores: Vec<String>,
}

/// Whether the text mentions `qperf:ignore` (the only input of [`Tags::ignores`]).
pub(crate) fn has_inline_ignore(b: &[u8]) -> bool {
    // Built once: building a searcher costs more than searching a short text.
    static IGNORE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"qperf:ignore"));
    IGNORE.find(b).is_some()
}

impl Tags {
    /// None when the text has neither.
    pub fn of(sql: &str) -> Option<Tags> {
        let b = sql.as_bytes();
        let mut t = Tags::default();
        if memchr::memchr_iter(b'/', b).any(|i| b.get(i + 1) == Some(&b'*')) {
            t.endpoint = tags::endpoint(sql);
        }
        if has_inline_ignore(b) {
            t.ignores = tags::inline_ignores(sql);
        }
        (t.endpoint.is_some() || !t.ignores.is_empty()).then_some(t)
    }
}

/// Tags of statement texts, handed out shared: texts that differ by a value or a trace
/// id carry the same tags, and a thread that folds events never frees what a reader
/// thread allocated. Texts with inlined values are all new, but their sqlcommenter /
/// marginalia comments repeat, and reading those allocates a string per field: tags are
/// also kept by a hash of the text's block comments (for texts without `qperf:ignore`).
#[derive(Default)]
pub struct TagCache {
    tags: FxHashMap<Tags, Arc<Tags>>,
    by_comments: FxHashMap<u64, Option<Arc<Tags>>>,
}

impl TagCache {
    /// The one shared copy of tags equal to `t` here.
    pub fn share(&mut self, t: &Tags) -> Arc<Tags> {
        if let Some(a) = self.tags.get(t) {
            return a.clone();
        }
        if self.tags.len() >= 4096 {
            self.tags.clear();
        }
        let a = Arc::new(t.clone());
        self.tags.insert(t.clone(), a.clone());
        a
    }

    /// `Tags::of(sql)`, shared. The endpoint depends only on the `/* … */` bodies (as
    /// `tags::endpoint` finds them), so without `qperf:ignore` their hash is the key.
    pub fn of(&mut self, sql: &str) -> Option<Arc<Tags>> {
        let b = sql.as_bytes();
        let key = if has_inline_ignore(b) {
            None
        } else {
            // Built once: building a searcher per call cost more than the search.
            static OPEN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
                std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"/*"));
            static CLOSE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
                std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"*/"));
            let mut key = None::<u64>;
            let mut rest = b;
            while let Some(start) = OPEN.find(rest) {
                let body = &rest[start + 2..];
                let Some(end) = CLOSE.find(body) else {
                    break;
                };
                key = Some(xxhash_rust::xxh3::xxh3_64_with_seed(
                    &body[..end],
                    key.unwrap_or(0) ^ 0x5bd1_e995,
                ));
                rest = &body[end + 2..];
            }
            // No complete comment: no endpoint, and no ignores either.
            Some(key?)
        };
        if let Some(t) = key.and_then(|k| self.by_comments.get(&k)) {
            return t.clone();
        }
        let tags = Tags::of(sql).map(|t| self.share(&t));
        if let Some(k) = key {
            if self.by_comments.len() >= 4096 {
                self.by_comments.clear();
            }
            self.by_comments.insert(k, tags.clone());
        }
        tags
    }
}

/// Fingerprints of statement texts and their tags, remembered by exact text (prepared
/// statements repeat it) and by shape (`fingerprint::shape_hash`: texts with inlined
/// values repeat that instead, and a shape costs a fraction of tokenizing).
pub struct Prints {
    norm: Normalizer,
    texts: TextCache<(Fingerprint, Option<Arc<Tags>>)>,
    shapes: TextCache<(Fingerprint, Option<Arc<Tags>>)>,
    tags: TagCache,
    scratch: Vec<u8>,
}

impl Default for Prints {
    fn default() -> Self {
        // Per generation: thousands of distinct statements stay, memory stays bounded.
        const CAP: usize = 1 << 13;
        Prints {
            norm: Normalizer::new(),
            texts: TextCache::new(CAP),
            shapes: TextCache::new(CAP / 2),
            tags: TagCache::default(),
            scratch: Vec::new(),
        }
    }
}

impl Prints {
    /// The fingerprint of `sql`, whose hash is `key`, its tags, and whether the text is
    /// new here (an identical text carries identical tags).
    pub fn get(
        &mut self,
        sql: &str,
        key: u64,
        mysql: bool,
    ) -> (Fingerprint, Option<Arc<Tags>>, bool) {
        if let Some((fp, tags)) = self.texts.get(key) {
            return (fp, tags, false);
        }
        // Texts of one shape have one fingerprint and the same `/* … */` comments, but
        // `qperf:ignore` is found anywhere in the text, literals included.
        let shape = if has_inline_ignore(sql.as_bytes()) {
            None
        } else {
            fingerprint::shape_hash(sql, mysql, &mut self.scratch)
        };
        let (fp, tags) = match shape.and_then(|s| self.shapes.get(s.hash)) {
            Some(known) => known,
            None => {
                let fp = self.norm.fingerprint(sql, mysql);
                let tags = self.tags.of(sql);
                if let Some(s) = shape {
                    self.shapes.insert(s.hash, (fp, tags.clone()));
                }
                (fp, tags)
            }
        };
        // A text with literals is found again by its shape; remembering it as well
        // filled the table with texts that never came back (inlined values), and each
        // lookup then missed the processor's caches.
        if !shape.is_some_and(|s| s.literals) {
            self.texts.insert(key, (fp, tags.clone()));
        }
        (fp, tags, true)
    }
}

/// Plan facts summed over every logged plan of a statement (not just the slowest):
/// "sequential scan in 74 of 74 plans", "spilled in 8 of 8, up to 11 MB".
#[derive(Clone, Debug, Default)]
pub struct PlanStats {
    /// Plans that parsed.
    pub samples: u64,
    /// Relation → plans with a filtered sequential scan of it (at most 8 relations).
    pub seq_scans: Vec<(String, u64)>,
    /// Index → plans using it (at most 8).
    pub indexes: Vec<(String, u64)>,
    pub spill_samples: u64,
    pub max_spill_kb: f64,
}

fn bump(v: &mut Vec<(String, u64)>, key: &str) {
    if let Some((_, n)) = v.iter_mut().find(|(k, _)| k == key) {
        *n += 1;
    } else if v.len() < SET_CAP {
        v.push((key.to_string(), 1));
    }
}

/// What the aggregate keeps of one logged plan. Reader threads work it out beside the
/// text, so the thread that aggregates does not parse plans.
#[derive(Clone, Debug, Default)]
pub struct PlanFacts {
    pub parsed: bool,
    /// Relations read by a filtered sequential scan, and indexes used (each once).
    seq_scans: Vec<String>,
    indexes: Vec<String>,
    spill_kb: f64,
}

impl PlanFacts {
    pub fn of(plan: &str) -> PlanFacts {
        let Some(p) = crate::plan::parse(plan) else {
            return PlanFacts::default();
        };
        let mut f = PlanFacts {
            parsed: true,
            ..Default::default()
        };
        p.root.walk(&mut |n, _| {
            if n.is_seq_scan()
                && n.filter.is_some()
                && let Some(r) = n.relation.as_deref()
                && !f.seq_scans.iter().any(|x| x == r)
            {
                f.seq_scans.push(r.to_string());
            }
            if let Some(i) = n.index.as_deref()
                && !f.indexes.iter().any(|x| x == i)
            {
                f.indexes.push(i.to_string());
            }
            f.spill_kb = f.spill_kb.max(crate::plan::spill_kb(n));
        });
        f
    }
}

impl PlanStats {
    fn add(&mut self, f: &PlanFacts) {
        if !f.parsed {
            return;
        }
        self.samples += 1;
        for r in &f.seq_scans {
            bump(&mut self.seq_scans, r);
        }
        for i in &f.indexes {
            bump(&mut self.indexes, i);
        }
        if f.spill_kb > 0.0 {
            self.spill_samples += 1;
            self.max_spill_kb = self.max_spill_kb.max(f.spill_kb);
        }
    }

    pub fn seq_scan_samples(&self, relation: &str) -> u64 {
        self.seq_scans
            .iter()
            .find(|(r, _)| r == relation)
            .map_or(0, |(_, n)| *n)
    }
}

/// In declaration order (`repr(C)`): the fields every event reads or writes come
/// first, so an event touches a few adjacent cache lines of its 800 bytes rather than
/// lines wherever the compiler put them (thousands of groups: each line is a likely
/// cache miss).
#[derive(Clone)]
#[repr(C)]
pub struct Group {
    pub calls: u64,
    /// Calls whose duration the log gave.
    pub timed_calls: u64,
    pub total_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// The shortest duration among `samples` once there are [`SAMPLES`].
    sample_floor: f64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// The database, user and application of the last event (see
    /// [`SmallSet::add_name`]).
    last_names: [Option<crate::event::Name>; 3],
    /// The tags added last: texts of one shape share them, so most events carry the
    /// same again and need no string compared.
    last_tags: Option<Arc<Tags>>,
    pub fingerprint: Fingerprint,
    pub temp_files: u64,
    pub temp_bytes: u64,
    pub sketch: Sketch,
    pub samples: Vec<Sample>,
    pub rows: Option<u64>,
    pub rows_examined: Option<u64>,
    pub lock_ms: Option<f64>,
    pub role: Role,
    pub dialect: Dialect,
    /// Filled from a summary (pg_stat_statements) rather than from executions.
    pub summary_only: bool,
    // What follows changes rarely.
    pub query: String,
    pub errors: u64,
    pub error_messages: Vec<String>,
    pub dbs: SmallSet,
    pub users: SmallSet,
    pub apps: SmallSet,
    /// auto_explain plans seen, and the plan of the slowest execution that had one.
    pub plans: u64,
    pub slowest_plan: Option<(f64, String)>,
    pub plan_stats: PlanStats,
    /// Where the fingerprint was first seen (file index, line).
    pub first_file: usize,
    pub first_line: u64,
    /// The first execution's text as logged (literal values included), for parsing.
    pub example_sql: String,
    /// Application endpoints named by sqlcommenter / marginalia comments.
    pub endpoints: SmallSet,
    /// Rules silenced by `qperf:ignore` comments in the statement (`*`: all).
    pub ignored_rules: SmallSet,
}

impl Group {
    fn new(fp: Fingerprint, query: String, dialect: Dialect, ev: &QueryEvent) -> Group {
        Group {
            fingerprint: fp,
            dialect,
            calls: 0,
            timed_calls: 0,
            total_ms: 0.0,
            min_ms: f64::INFINITY,
            max_ms: 0.0,
            sketch: Sketch::default(),
            rows: None,
            rows_examined: None,
            lock_ms: None,
            errors: 0,
            error_messages: Vec::new(),
            temp_files: 0,
            temp_bytes: 0,
            first_seen: None,
            last_seen: None,
            dbs: SmallSet::default(),
            users: SmallSet::default(),
            apps: SmallSet::default(),
            samples: Vec::new(),
            sample_floor: 0.0,
            plans: 0,
            slowest_plan: None,
            plan_stats: PlanStats::default(),
            first_file: ev.file,
            first_line: ev.line,
            example_sql: truncated(&ev.sql, MAX_SAMPLE_SQL),
            role: role_of(&query),
            endpoints: SmallSet::default(),
            ignored_rules: SmallSet::default(),
            last_tags: None,
            last_names: Default::default(),
            summary_only: false,
            query,
        }
    }

    fn seen(&mut self, ev: &QueryEvent) {
        if let Some(at) = ev.at {
            self.first_seen = Some(self.first_seen.map_or(at, |f| f.min(at)));
            self.last_seen = Some(self.last_seen.map_or(at, |l| l.max(at)));
        }
        let [db, user, app] = &mut self.last_names;
        self.dbs.add_name(db, &ev.db);
        self.users.add_name(user, &ev.user);
        self.apps.add_name(app, &ev.app);
    }

    fn add_tags(&mut self, t: &Arc<Tags>) {
        if self.last_tags.as_ref().is_some_and(|l| Arc::ptr_eq(l, t)) {
            return;
        }
        self.last_tags = Some(t.clone());
        self.endpoints.add(t.endpoint.as_deref());
        for r in &t.ignores {
            self.ignored_rules.add(Some(r));
        }
    }

    /// A quantile (0–1) of the timed calls, clamped to the observed range.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        // A summary (pg_stat_statements) has totals but no distribution.
        if self.timed_calls == 0 || self.summary_only {
            return None;
        }
        // Nearest-rank semantics (the k-th smallest of n with k = ceil(q·n)), so p95 of
        // two calls is the slower one; the sketch itself interpolates rank q·(n-1).
        let n = self.sketch.count() as f64;
        let k = (q * n).ceil().max(1.0) - 1.0;
        let q = if n > 1.0 {
            (k / (n - 1.0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let v = self.sketch.quantile(
            q,
            self.min_ms.max(MIN_SKETCHED),
            self.max_ms.max(MIN_SKETCHED),
        )?;
        Some(v.clamp(self.min_ms, self.max_ms))
    }

    /// The statement to build rewrites on: the logged text when it is a prepared
    /// statement (its literals are the application's constants, its values are
    /// placeholders), else the normalized text, so no logged value leaks into advice.
    pub fn template(&self) -> &str {
        let has_placeholder = match self.dialect {
            Dialect::Postgres => self
                .example_sql
                .as_bytes()
                .windows(2)
                .any(|w| w[0] == b'$' && w[1].is_ascii_digit()),
            Dialect::Mysql => false,
        };
        if has_placeholder {
            &self.example_sql
        } else {
            &self.query
        }
    }

    /// Bind parameters of the slowest logged execution, to judge parameterised values
    /// (a LIKE pattern, an OFFSET).
    pub fn slowest_params(&self) -> Option<&str> {
        self.samples
            .iter()
            .max_by(|x, y| x.duration_ms.total_cmp(&y.duration_ms))
            .and_then(|s| s.params.as_deref())
    }

    pub fn mean_ms(&self) -> Option<f64> {
        (self.timed_calls > 0).then(|| self.total_ms / self.timed_calls as f64)
    }
}

/// Totals over the whole run.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub events: u64,
    pub filtered_out: u64,
    pub total_ms: f64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub per_file_events: Vec<u64>,
}

/// Hash of a statement's exact text: the key of the fingerprint cache, and the seed of
/// the identical-execution hash.
pub(crate) fn text_hash(sql: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(sql.as_bytes())
}

pub struct Aggregator {
    pub groups: FxHashMap<Fingerprint, Group>,
    /// Fingerprints of texts no reader thread fingerprinted.
    prints: Prints,
    pub totals: Totals,
    filters: Filters,
    /// No filter given: the per-event check is skipped.
    keep_all: bool,
    norm: Normalizer,
    pub dialect: Dialect,
    pub seq: Sequences,
    /// `seq` runs on a thread of its own until [`Aggregator::finish`].
    offload: Option<crate::sequence::Offloaded>,
}

/// The statement's role from its first keyword (normalized text: no comments).
fn role_of(query: &str) -> Role {
    let word = query
        .trim_start_matches(|c: char| c == '(' || c.is_whitespace())
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match word.as_str() {
        "select" | "with" | "table" | "values" => Role::Read,
        "insert" | "update" | "delete" | "merge" | "replace" | "upsert" => Role::Write,
        _ => Role::Control,
    }
}

/// The first `max` bytes of `sql` (at a char boundary), in an allocation of that size.
fn truncated(sql: &str, max: usize) -> String {
    let mut cut = sql.len().min(max);
    while !sql.is_char_boundary(cut) {
        cut -= 1;
    }
    sql[..cut].to_string()
}

impl Aggregator {
    pub fn new(filters: Filters, seq: SeqConfig) -> Self {
        Aggregator {
            groups: FxHashMap::default(),
            prints: Prints::default(),
            totals: Totals::default(),
            keep_all: filters.is_empty(),
            filters,
            norm: Normalizer::new(),
            dialect: Dialect::Postgres,
            seq: Sequences::new(seq),
            offload: None,
        }
    }

    /// Runs the N+1 / repeat tracker on a thread of its own (see
    /// [`crate::sequence::Offloaded`]); same results, called before the first event.
    pub fn offload_sequences(&mut self) -> std::io::Result<()> {
        let cfg = self.seq.config();
        let seq = std::mem::replace(&mut self.seq, Sequences::new(cfg));
        self.offload = Some(crate::sequence::Offloaded::start(seq)?);
        Ok(())
    }

    /// Ends open per-session state; call after the last event.
    pub fn finish(&mut self) {
        if let Some(o) = self.offload.take() {
            self.seq = o.join();
        }
        self.seq.finish();
        // The caches only speed up reading (a summary read after this refills them).
        self.prints = Prints::default();
    }

    /// The statement's group; `raw` is the hash of its exact text (`text_hash`).
    fn group(&mut self, ev: &QueryEvent, raw: u64) -> &mut Group {
        let mysql = self.dialect == Dialect::Mysql;
        // Prepared statements repeat their exact text: the hash of the raw text (an order
        // of magnitude cheaper than tokenizing) finds the fingerprint again.
        // The same text in a MySQL and a PostgreSQL log may lex differently.
        let key = if mysql {
            raw ^ 0x9e37_79b9_7f4a_7c15
        } else {
            raw
        };
        let (fp, new_tags) = match ev.hint {
            // A reader thread fingerprinted it; its tags come with the event.
            Some((h, fp)) if h == raw => (fp, None),
            _ => match self.prints.get(&ev.sql, key, mysql) {
                (fp, tags, true) => (fp, tags),
                (fp, _, false) => (fp, None),
            },
        };
        let dialect = self.dialect;
        let norm = &mut self.norm;
        let g = self.groups.entry(fp).or_insert_with(|| {
            let style = if mysql {
                Style::Question
            } else {
                Style::Dollar
            };
            let (_, text) = norm.normalize(&ev.sql, mysql, style);
            Group::new(fp, text, dialect, ev)
        });
        for t in [&new_tags, &ev.tags].into_iter().flatten() {
            g.add_tags(t);
        }
        g
    }

    /// Sorted by total time, descending (ties by fingerprint for stable output).
    pub fn sorted_groups(&self) -> Vec<&Group> {
        let mut v: Vec<&Group> = self.groups.values().collect();
        v.sort_by(|a, b| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        v
    }
}

/// One statement's totals from a summary source (pg_stat_statements).
pub struct Summary<'a> {
    pub sql: &'a str,
    pub calls: u64,
    pub total_ms: f64,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub rows: u64,
    pub db: Option<String>,
    pub user: Option<String>,
}

impl Aggregator {
    /// Adds a statement known only by its totals: calls, time, rows; no percentiles,
    /// no session order (so no N+1 or repeat detection).
    pub fn summary(&mut self, s: Summary) {
        let ev = QueryEvent {
            sql: s.sql.to_string(),
            db: s.db.as_deref().map(Into::into),
            user: s.user.as_deref().map(Into::into),
            ..Default::default()
        };
        let t = &mut self.totals;
        t.events += s.calls;
        t.total_ms += s.total_ms;
        let g = self.group(&ev, text_hash(&ev.sql));
        g.seen(&ev);
        g.summary_only = true;
        g.calls += s.calls;
        g.timed_calls += s.calls;
        g.total_ms += s.total_ms;
        let mean = if s.calls > 0 {
            s.total_ms / s.calls as f64
        } else {
            0.0
        };
        g.min_ms = g.min_ms.min(s.min_ms.unwrap_or(mean));
        g.max_ms = g.max_ms.max(s.max_ms.unwrap_or(mean));
        *g.rows.get_or_insert(0) += s.rows;
    }
}

impl EventSink for Aggregator {
    fn event(&mut self, ev: &mut QueryEvent) {
        if !self.keep_all && !self.filters.keep(ev) {
            self.totals.filtered_out += 1;
            return;
        }
        let t = &mut self.totals;
        t.events += 1;
        if t.per_file_events.len() <= ev.file {
            t.per_file_events.resize(ev.file + 1, 0);
        }
        t.per_file_events[ev.file] += 1;
        if let Some(d) = ev.duration_ms {
            t.total_ms += d;
        }
        if let Some(at) = ev.at {
            t.first = Some(t.first.map_or(at, |f| f.min(at)));
            t.last = Some(t.last.map_or(at, |l| l.max(at)));
        }
        // A reader thread may have hashed the text already.
        let raw = match ev.hint {
            Some((h, _)) => h,
            None => text_hash(&ev.sql),
        };
        debug_assert_eq!(raw, text_hash(&ev.sql), "hint for another text");
        // The same text with the same parameters: one identical execution.
        let exact = xxhash_rust::xxh3::xxh3_64_with_seed(
            ev.params.as_deref().unwrap_or("").as_bytes(),
            raw,
        );
        let g = self.group(ev, raw);
        g.calls += 1;
        g.seen(ev);
        let (fp, role) = (g.fingerprint, g.role);
        if let Some(r) = ev.rows {
            *g.rows.get_or_insert(0) += r;
        }
        if let Some(r) = ev.rows_examined {
            *g.rows_examined.get_or_insert(0) += r;
        }
        if let Some(l) = ev.lock_ms {
            *g.lock_ms.get_or_insert(0.0) += l;
        }
        g.temp_files += u64::from(ev.temp_files);
        g.temp_bytes += ev.temp_bytes.unwrap_or(0);
        if let Some(plan) = &ev.plan {
            g.plans += 1;
            match &ev.plan_facts {
                Some(f) => g.plan_stats.add(f),
                None => g.plan_stats.add(&PlanFacts::of(plan)),
            }
            // Plain EXPLAIN (no timing) still gives a plan worth keeping.
            let d = ev.duration_ms.unwrap_or(0.0);
            if g.slowest_plan.as_ref().is_none_or(|(ms, _)| d > *ms) {
                g.slowest_plan = Some((d, plan.clone()));
            }
        }
        if let Some(d) = ev.duration_ms.filter(|d| d.is_finite() && *d >= 0.0) {
            g.timed_calls += 1;
            g.total_ms += d;
            g.min_ms = g.min_ms.min(d);
            g.max_ms = g.max_ms.max(d);
            g.sketch.add(d.max(MIN_SKETCHED));
            // Most calls are not among the slowest: the floor answers that without
            // reading the samples (memory apart from the group).
            let slot = if g.samples.len() < SAMPLES {
                Some(g.samples.len())
            } else if d <= g.sample_floor {
                None
            } else {
                g.samples
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.duration_ms.total_cmp(&b.1.duration_ms))
                    .map(|(i, _)| i)
            };
            if let Some(i) = slot {
                let s = Sample {
                    duration_ms: d,
                    at: ev.at,
                    file: ev.file,
                    line: ev.line,
                    session: ev.session.as_deref().map(str::to_string),
                    // Copies, not the reader's buffers: those may be far larger than
                    // this text, and thousands of samples stay for the whole run.
                    sql: truncated(&ev.sql, MAX_SAMPLE_SQL),
                    params: ev.params.clone(),
                };
                if i == g.samples.len() {
                    g.samples.push(s);
                } else {
                    g.samples[i] = s;
                }
                if g.samples.len() == SAMPLES {
                    g.sample_floor = g
                        .samples
                        .iter()
                        .map(|s| s.duration_ms)
                        .fold(f64::INFINITY, f64::min);
                }
            }
        }
        // Last, once the group is updated: one lookup of the group per event.
        let e = Exec {
            fp,
            role,
            session: ev.session.as_deref(),
            at: ev.at,
            duration_ms: ev.duration_ms,
            exact,
            file: ev.file,
            line: ev.line,
        };
        match &mut self.offload {
            Some(o) => o.exec(&e),
            None => self.seq.exec(&e),
        }
    }

    fn note(&mut self, ev: &QueryEvent, note: SideNote) {
        if !self.keep_all && !self.filters.keep(ev) {
            return;
        }
        let g = self.group(ev, text_hash(&ev.sql));
        g.seen(ev);
        match note {
            SideNote::Error { message } => {
                g.errors += 1;
                if g.error_messages.len() < 3 && !g.error_messages.contains(&message) {
                    g.error_messages.push(message);
                }
            }
            SideNote::TempFile { bytes } => {
                g.temp_files += 1;
                g.temp_bytes += bytes;
            }
        }
    }
}
