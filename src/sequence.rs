//! Per-session statement order: N+1 loops and repeated identical reads.
//!
//! Fed one event at a time by the aggregator (which already knows the fingerprint), so
//! statements are never fingerprinted twice. Memory is bounded by open sessions (a few
//! active loop candidates each, idle sessions swept) plus one entry per (parent, child)
//! pair and a capped set of parameter hashes per read statement.

use rustc_hash::FxHashMap;

use crate::fingerprint::Fingerprint;

/// Distinct parameter hashes kept per loop candidate; beyond this every execution
/// counts as distinct (a loop that long is an N+1 whatever its values).
const LOOP_DISTINCT_CAP: usize = 64;
/// Loop candidates tracked per session at once.
const ACTIVE_CAP: usize = 8;
/// Distinct parameter sets remembered per read statement for `repeated-query`; when
/// full, those seen only once are forgotten first (cache candidates are the hot ones).
/// 224 fills a 256-slot table to its 7/8 load limit, so the table never doubles.
pub const REPEAT_KEYS_CAP: usize = 224;
/// Sessions idle longer than this (log time) are closed by the periodic sweep.
const SESSION_IDLE_MS: i64 = 10 * 60 * 1000;

/// Thresholds the tracker needs while streaming (from the `n-plus-one` and
/// `repeated-query` catalogue entries).
#[derive(Clone, Copy, Debug)]
pub struct SeqConfig {
    pub min_children: u32,
    pub min_distinct_ratio: f64,
    pub max_gap_ms: f64,
    pub max_interleaved: u32,
    pub repeat_window_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// SELECT (or WITH … SELECT): may be a loop child or a cache candidate.
    Read,
    /// INSERT / UPDATE / DELETE: may be a loop child; never a cache candidate.
    Write,
    /// BEGIN, COMMIT, SET, SHOW …: ignored for ordering.
    Control,
}

/// What the tracker needs to know about one execution.
#[derive(Clone, Copy)]
pub struct Exec<'a> {
    pub fp: Fingerprint,
    pub role: Role,
    pub session: Option<&'a str>,
    /// Log time (end of the statement for PostgreSQL), ms.
    pub at: Option<i64>,
    pub duration_ms: Option<f64>,
    /// Hash of the statement text plus its parameters: equal means identical execution.
    pub exact: u64,
    pub file: usize,
    pub line: u64,
}

struct Active {
    child: Fingerprint,
    parent: Option<Fingerprint>,
    count: u32,
    distinct: Vec<u64>,
    distinct_overflow: bool,
    last_end: Option<i64>,
    ms: f64,
    interleaved: u32,
    file: usize,
    line: u64,
}

impl Active {
    fn distinct(&self) -> u32 {
        if self.distinct_overflow {
            self.count
        } else {
            self.distinct.len() as u32
        }
    }
}

#[derive(Default)]
struct SessionState {
    last_fp: Option<Fingerprint>,
    last_exact: Option<u64>,
    last_at: Option<i64>,
    active: Vec<Active>,
}

/// One (parent, child) loop pattern, summed over the log.
#[derive(Clone, Debug, Default)]
pub struct LoopStats {
    pub occurrences: u64,
    pub children: u64,
    pub child_ms: f64,
    pub max_children: u32,
    pub min_children: u32,
    /// Sessions the loop ran in, up to 64: sorted 32-bit hashes of their ids (only their
    /// number is reported; a few hundred bytes per loop pattern at most).
    pub sessions: Vec<u32>,
    /// Where the first occurrence's first child was logged.
    pub first_file: usize,
    pub first_line: u64,
}

/// Identical executions of one read statement.
#[derive(Clone, Debug, Default)]
pub struct RepeatStats {
    pub executions: u64,
    /// Executions identical to one within the window before them.
    pub repeats: u64,
    pub repeat_ms: f64,
    /// Repeats that directly follow the identical execution in the same session (the
    /// same request asking twice).
    pub back_to_back: u64,
    keys: Keys,
    /// What the rules read of `keys`, kept when [`Sequences::finish`] frees the tables.
    summary: Option<(usize, u64)>,
    pub keys_overflow: bool,
    saturated: bool,
}

/// One parameter set of a read statement: how often it ran and when it last did. 24
/// bytes a table slot with its key (32 with `(u64, Option<i64>)`): these tables are the
/// tracker's largest memory and its cache misses.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    n: u32,
    /// Log time, or [`Seen::NO_TIME`].
    last: i64,
}

impl Seen {
    const NO_TIME: i64 = i64::MIN;
}

impl RepeatStats {
    pub fn distinct_values(&self) -> usize {
        self.summary.map_or_else(|| self.keys.len(), |s| s.0)
    }
    pub fn top_value_count(&self) -> u64 {
        self.summary.map_or_else(
            || {
                self.keys
                    .values()
                    .map(|s| u64::from(s.n))
                    .max()
                    .unwrap_or(0)
            },
            |s| s.1,
        )
    }
}

/// One read statement's parameter sets (hashes of text and parameters, never 0) and
/// what was seen of each: open addressing with linear probing over a fixed number of
/// slots, at most [`REPEAT_KEYS_CAP`] of them used. A table is a few kilobytes and
/// there is one per read statement, so an execution's slot is mostly not in the cache;
/// unlike a `HashMap`'s, its address is known beforehand, and the tracker prefetches it
/// a few executions ahead.
#[derive(Clone, Debug, Default)]
struct Keys {
    slots: Box<[(u64, Seen)]>,
    len: usize,
}

/// Slots per table: twice the keys kept, so a lookup probes about two slots.
const KEY_SLOTS: usize = 512;
const _: () = assert!(REPEAT_KEYS_CAP < KEY_SLOTS && KEY_SLOTS.is_power_of_two());

impl Keys {
    fn with_room() -> Keys {
        Keys {
            slots: vec![(0, Seen::default()); KEY_SLOTS].into_boxed_slice(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Where `key`'s probe starts. Keys are hashes already; the multiply spreads the
    /// bits the mask keeps.
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (self.slots.len() - 1)
    }

    /// 0 marks an empty slot; the one key that hashes to it shares 1's entry.
    fn key(exact: u64) -> u64 {
        exact.max(1)
    }

    fn get_mut(&mut self, exact: u64) -> Option<&mut Seen> {
        let key = Keys::key(exact);
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = self.home(key);
        loop {
            match self.slots[i].0 {
                0 => return None,
                k if k == key => return Some(&mut self.slots[i].1),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Adds a key not in the table; the caller keeps it under [`REPEAT_KEYS_CAP`].
    fn insert(&mut self, exact: u64, seen: Seen) {
        let key = Keys::key(exact);
        if self.slots.is_empty() {
            *self = Keys::with_room();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while self.slots[i].0 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (key, seen);
        self.len += 1;
    }

    /// Keeps the entries `keep` accepts (rebuilt: linear probing cannot just empty a slot).
    fn retain(&mut self, keep: impl Fn(&Seen) -> bool) {
        let kept: Vec<(u64, Seen)> = self
            .slots
            .iter()
            .filter(|(k, s)| *k != 0 && keep(s))
            .copied()
            .collect();
        self.slots.fill((0, Seen::default()));
        self.len = 0;
        for (k, s) in kept {
            self.insert(k, s);
        }
    }

    fn values(&self) -> impl Iterator<Item = &Seen> {
        self.slots.iter().filter(|(k, _)| *k != 0).map(|(_, s)| s)
    }

    /// Asks the processor to fetch `exact`'s first slot into its cache.
    fn prefetch(&self, exact: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get(self.home(Keys::key(exact))) {
            // SAFETY: a prefetch reads nothing into the program and never faults; the
            // address is a live slot besides.
            unsafe {
                std::arch::x86_64::_mm_prefetch(
                    std::ptr::from_ref(slot).cast::<i8>(),
                    std::arch::x86_64::_MM_HINT_T0,
                );
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = exact;
    }
}

pub struct Sequences {
    cfg: SeqConfig,
    /// Value lists of closed loop candidates, reused by new ones: most statements open
    /// a candidate that closes soon after, and this saves an allocation each time.
    spare: Vec<Vec<u64>>,
    /// Candidates closed by the current event (kept to save an allocation per event).
    closed: Vec<Active>,
    /// By the hash of the session id: an id string per session was a third of a
    /// session's memory on logs of many short connections.
    sessions: FxHashMap<u64, SessionState>,
    pub loops: FxHashMap<(Option<Fingerprint>, Fingerprint), LoopStats>,
    pub repeats: FxHashMap<Fingerprint, RepeatStats>,
    seen: u64,
    /// Whether any event carried a session id (N+1 detection needs them).
    pub had_sessions: bool,
}

impl Sequences {
    pub fn config(&self) -> SeqConfig {
        self.cfg
    }

    pub fn new(cfg: SeqConfig) -> Self {
        Sequences {
            cfg,
            spare: Vec::new(),
            closed: Vec::new(),
            sessions: FxHashMap::default(),
            loops: FxHashMap::default(),
            repeats: FxHashMap::default(),
            seen: 0,
            had_sessions: false,
        }
    }

    pub fn exec(&mut self, e: &Exec) {
        self.exec_keyed(e, e.session.map(session_key));
    }

    /// [`Self::exec`] with the session's key ([`session_key`]) given.
    fn exec_keyed(&mut self, e: &Exec, session: Option<u64>) {
        if e.role == Role::Control {
            return;
        }
        self.seen += 1;
        if self.seen.is_multiple_of(1 << 16)
            && let Some(now) = e.at
        {
            self.sweep(now);
        }
        let back_to_back = match session {
            Some(key) => {
                self.had_sessions = true;
                let st = self.sessions.entry(key).or_default();
                let b2b = st.last_exact == Some(e.exact);
                let cfg = self.cfg;
                let mut closed = std::mem::take(&mut self.closed);
                step(st, e, &cfg, &mut self.spare, &mut closed);
                st.last_fp = Some(e.fp);
                st.last_exact = Some(e.exact);
                st.last_at = e.at.or(st.last_at);
                for a in closed.drain(..) {
                    self.record(a, key);
                }
                self.closed = closed;
                b2b
            }
            None => false,
        };
        if e.role == Role::Read {
            self.repeat(e, back_to_back);
        }
    }

    fn repeat(&mut self, e: &Exec, back_to_back: bool) {
        let window = self.cfg.repeat_window_ms;
        // The whole key budget up front: memory is then a function of the distinct read
        // statements, not of how far into the log their values have filled it.
        let r = self.repeats.entry(e.fp).or_insert_with(|| RepeatStats {
            keys: Keys::with_room(),
            ..Default::default()
        });
        r.executions += 1;
        let full = r.keys.len() >= REPEAT_KEYS_CAP;
        match r.keys.get_mut(e.exact) {
            Some(seen) => {
                seen.n = seen.n.saturating_add(1);
                let within = match e.at {
                    Some(a) if seen.last != Seen::NO_TIME => ((a - seen.last) as f64) <= window,
                    _ => true,
                };
                if within {
                    r.repeats += 1;
                    r.repeat_ms += e.duration_ms.unwrap_or(0.0);
                    if back_to_back {
                        r.back_to_back += 1;
                    }
                }
                if let Some(a) = e.at {
                    seen.last = a;
                }
            }
            None => {
                if full && !r.saturated {
                    r.keys.retain(|s| s.n > 1);
                    r.keys_overflow = true;
                    // Mostly hot values: stop making room, so a statement with many
                    // repeated values does not pay a sweep per new one.
                    r.saturated = r.keys.len() > REPEAT_KEYS_CAP / 2;
                }
                if r.keys.len() < REPEAT_KEYS_CAP {
                    let last = e.at.unwrap_or(Seen::NO_TIME);
                    r.keys.insert(e.exact, Seen { n: 1, last });
                }
            }
        }
    }

    fn record(&mut self, mut a: Active, session: u64) {
        let distinct = a.distinct();
        if self.spare.len() < 64 {
            a.distinct.clear();
            self.spare.push(std::mem::take(&mut a.distinct));
        }
        if distinct < self.cfg.min_children
            || (distinct as f64) < self.cfg.min_distinct_ratio * a.count as f64
        {
            return;
        }
        let l = self.loops.entry((a.parent, a.child)).or_default();
        if l.occurrences == 0 {
            l.min_children = a.count;
        }
        // The earliest occurrence, whatever order sessions are closed in.
        if l.occurrences == 0 || (a.file, a.line) < (l.first_file, l.first_line) {
            l.first_file = a.file;
            l.first_line = a.line;
        }
        l.occurrences += 1;
        l.children += u64::from(a.count);
        l.child_ms += a.ms;
        l.max_children = l.max_children.max(a.count);
        l.min_children = l.min_children.min(a.count);
        let h = session as u32;
        if l.sessions.len() < 64
            && let Err(at) = l.sessions.binary_search(&h)
        {
            l.sessions.insert(at, h);
        }
    }

    fn sweep(&mut self, now: i64) {
        let idle: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.last_at.is_some_and(|t| now - t > SESSION_IDLE_MS))
            .map(|(k, _)| *k)
            .collect();
        for k in idle {
            if let Some(st) = self.sessions.remove(&k) {
                for a in st.active {
                    self.record(a, k);
                }
            }
        }
    }

    /// Closes every open loop candidate; call once at the end of the input. The value
    /// tables (the largest part of the tracker) are freed, leaving what the rules read,
    /// so the analysis that follows reuses their memory instead of adding to it.
    pub fn finish(&mut self) {
        let sessions = std::mem::take(&mut self.sessions);
        for (k, st) in sessions {
            for a in st.active {
                self.record(a, k);
            }
        }
        for r in self.repeats.values_mut() {
            r.summary = Some((r.distinct_values(), r.top_value_count()));
            r.keys = Keys::default();
        }
    }

    /// Fetches into the cache what [`Self::exec_keyed`] will read for `e`, some
    /// executions before it runs.
    fn prefetch(&self, e: &Exec) {
        if e.role == Role::Read
            && let Some(r) = self.repeats.get(&e.fp)
        {
            r.keys.prefetch(e.exact);
        }
    }
}

/// The tracker on a thread of its own, fed executions in batches in log order: with
/// several reader threads the thread that pairs and aggregates events is the one that
/// bounds the run, and the tracker's per-session and per-value tables (a cache miss or
/// two per event) are the largest part of its work that needs nothing else. The result
/// is the same tracker state as feeding it directly.
pub struct Offloaded {
    batch: Batch,
    tx: std::sync::mpsc::SyncSender<Batch>,
    spare: std::sync::mpsc::Receiver<Batch>,
    handle: std::thread::JoinHandle<Sequences>,
}

/// Executions with their sessions' keys (the tracker keeps no id string), one
/// allocation reused from batch to batch.
#[derive(Default)]
struct Batch {
    execs: Vec<(Exec<'static>, Option<u64>)>,
}

const BATCH: usize = 4096;

/// How many executions ahead the tracker prefetches: one takes a few hundred
/// instructions, enough for a fetch from the shared cache or memory to arrive.
const PREFETCH_AHEAD: usize = 4;

impl Batch {
    /// Allocated whole: grown push by push a batch would be reallocated (and its fresh
    /// pages faulted in) a dozen times.
    fn new() -> Batch {
        Batch {
            execs: Vec::with_capacity(BATCH),
        }
    }
}

impl Offloaded {
    pub fn start(mut seq: Sequences) -> std::io::Result<Offloaded> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (back, spare) = std::sync::mpsc::channel::<Batch>();
        let handle = std::thread::Builder::new()
            .name("qperf-seq".into())
            .spawn(move || {
                for mut b in rx {
                    for (i, (e, s)) in b.execs.iter().enumerate() {
                        if let Some((ahead, _)) = b.execs.get(i + PREFETCH_AHEAD) {
                            seq.prefetch(ahead);
                        }
                        seq.exec_keyed(e, *s);
                    }
                    b.execs.clear();
                    let _ = back.send(b);
                }
                seq
            })?;
        Ok(Offloaded {
            batch: Batch::new(),
            tx,
            spare,
            handle,
        })
    }

    pub fn exec(&mut self, e: &Exec) {
        if e.role == Role::Control {
            return;
        }
        let b = &mut self.batch;
        b.execs.push((
            Exec {
                session: None,
                ..*e
            },
            e.session.map(session_key),
        ));
        if b.execs.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.spare.try_recv().unwrap_or_else(|_| Batch::new());
        let full = std::mem::replace(&mut self.batch, next);
        // The receiver ends only when this sender is dropped (or it panicked, which
        // `join` reports).
        let _ = self.tx.send(full);
    }

    /// Waits for the thread to take in everything sent, and returns the tracker.
    pub fn join(mut self) -> Sequences {
        if !self.batch.execs.is_empty() {
            self.send();
        }
        drop(self.tx);
        match self.handle.join() {
            Ok(seq) => seq,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

/// A session id's key: its 64-bit hash (two ids of one log sharing one is a chance of
/// one in 2^64 per pair; the loops record the low 32 bits, as they did of the id).
fn session_key(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// Advances one session by one execution; returns the loop candidates that ended.
fn step(
    st: &mut SessionState,
    e: &Exec,
    cfg: &SeqConfig,
    spare: &mut Vec<Vec<u64>>,
    closed: &mut Vec<Active>,
) {
    // Timestamps with whole-second resolution (MariaDB) cannot measure small gaps.
    let slack = match e.at {
        Some(a) if a % 1000 == 0 => 1000.0,
        _ => 0.0,
    };
    let start = match (e.at, e.duration_ms) {
        (Some(a), Some(d)) => Some(a as f64 - d),
        (Some(a), None) => Some(a as f64),
        _ => None,
    };
    let gap_ok = |last: Option<i64>| match (start, last) {
        (Some(s), Some(l)) => s - l as f64 <= cfg.max_gap_ms + slack,
        _ => true,
    };
    // A child running again means a loop body is repeating; statements that took it for
    // their parent are its siblings in that body, and belong to its parent.
    let sibling_parent: Option<Option<Fingerprint>> = st
        .active
        .iter()
        .find(|a| a.child == e.fp && gap_ok(a.last_end))
        .map(|a| a.parent);
    let mut matched = false;
    let mut i = 0;
    while i < st.active.len() {
        let a = &mut st.active[i];
        let close = if a.child == e.fp {
            if gap_ok(a.last_end) && !matched {
                matched = true;
                a.count += 1;
                if !a.distinct_overflow && !a.distinct.contains(&e.exact) {
                    if a.distinct.len() < LOOP_DISTINCT_CAP {
                        a.distinct.push(e.exact);
                    } else {
                        a.distinct_overflow = true;
                    }
                }
                a.ms += e.duration_ms.unwrap_or(0.0);
                a.last_end = e.at.or(a.last_end);
                a.interleaved = 0;
                false
            } else {
                true
            }
        } else if a.parent == Some(e.fp) {
            match sibling_parent {
                Some(pp) if pp != Some(a.child) && gap_ok(a.last_end) => {
                    a.parent = pp;
                    a.interleaved = 0;
                    false
                }
                _ => true,
            }
        } else if !gap_ok(a.last_end) {
            true
        } else {
            a.interleaved += 1;
            a.interleaved > cfg.max_interleaved
        };
        if close {
            closed.push(st.active.remove(i));
        } else {
            i += 1;
        }
    }
    if !matched {
        let parent = st.last_fp.filter(|p| *p != e.fp);
        st.active.push(Active {
            child: e.fp,
            parent,
            count: 1,
            distinct: {
                let mut d = spare.pop().unwrap_or_default();
                d.push(e.exact);
                d
            },
            distinct_overflow: false,
            last_end: e.at,
            ms: e.duration_ms.unwrap_or(0.0),
            interleaved: 0,
            file: e.file,
            line: e.line,
        });
        if st.active.len() > ACTIVE_CAP {
            closed.push(st.active.remove(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_table_agrees_with_a_map() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Hash-like keys from pools of a few sizes, so lookups hit, probes collide and
        // the table fills (and is thinned); 1 stands for 0 too, as the table counts it.
        let pools: Vec<Vec<u64>> = [2usize, 150, 300, 5000]
            .iter()
            .map(|&n| (0..n).map(|i| if i == 0 { 1 } else { next() }).collect())
            .collect();
        for round in 0..200usize {
            let pool = &pools[round % pools.len()];
            let mut t = Keys::with_room();
            let mut m: std::collections::HashMap<u64, u32> = Default::default();
            for _ in 0..3000 {
                let k = pool[(next() % pool.len() as u64) as usize];
                let room = t.len() < REPEAT_KEYS_CAP;
                match (t.get_mut(k), m.get_mut(&k)) {
                    (Some(a), Some(b)) => {
                        a.n += 1;
                        *b += 1;
                    }
                    (None, None) if room => {
                        t.insert(k, Seen { n: 1, last: 0 });
                        m.insert(k, 1);
                    }
                    (None, None) => {
                        t.retain(|s| s.n > 1);
                        m.retain(|_, n| *n > 1);
                    }
                    (a, b) => panic!("table {:?} map {b:?} for {k}", a.map(|s| s.n)),
                }
                assert_eq!(t.len(), m.len());
            }
            let mut a: Vec<u32> = t.values().map(|s| s.n).collect();
            let mut b: Vec<u32> = m.values().copied().collect();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b);
        }
        // 0 is never a slot's key: it reads as 1.
        let mut t = Keys::with_room();
        t.insert(0, Seen { n: 7, last: 0 });
        assert_eq!(t.get_mut(1).map(|s| s.n), Some(7));
        assert_eq!(Keys::default().get_mut(5).map(|s| s.n), None);
    }

    fn cfg() -> SeqConfig {
        SeqConfig {
            min_children: 5,
            min_distinct_ratio: 0.8,
            max_gap_ms: 500.0,
            max_interleaved: 3,
            repeat_window_ms: 60_000.0,
        }
    }

    fn ex(fp: u64, exact: u64, at: i64) -> Exec<'static> {
        Exec {
            fp: Fingerprint(fp),
            role: Role::Read,
            session: Some("1"),
            at: Some(at),
            duration_ms: Some(1.0),
            exact,
            file: 0,
            line: at as u64,
        }
    }

    /// A loop's first line is its earliest occurrence, also when a later one (in another
    /// session) closes first.
    #[test]
    fn first_line_is_the_earliest_whatever_closes_first() {
        let mut seq = Sequences::new(cfg());
        let run = |seq: &mut Sequences, session: &'static str, start: i64| {
            let at = |k: i64| start + k;
            seq.exec(&Exec {
                session: Some(session),
                ..ex(1, 100, at(0))
            });
            for k in 1..=6 {
                seq.exec(&Exec {
                    session: Some(session),
                    ..ex(2, 200 + k as u64, at(k))
                });
            }
        };
        // Session "a" loops from line 10; session "b" from line 100, and "b" moves on
        // to something else at once, which closes its loop first.
        run(&mut seq, "a", 10);
        run(&mut seq, "b", 100);
        seq.exec(&Exec {
            session: Some("b"),
            ..ex(3, 300, 5_000)
        });
        seq.finish();
        let l = &seq.loops[&(Some(Fingerprint(1)), Fingerprint(2))];
        assert_eq!(l.occurrences, 2);
        assert_eq!(l.first_line, 11, "the first child of session a's loop");
    }

    /// The tracker on its own thread ends in the state of the tracker fed directly:
    /// several batches, interleaved sessions, writes and control statements, events
    /// without a session.
    #[test]
    fn offloaded_tracker_ends_in_the_same_state() {
        let sessions = ["7", "8", "9", "10"];
        let mut execs = Vec::new();
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for i in 0..(3 * BATCH as i64 + 123) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            execs.push(Exec {
                fp: Fingerprint(seed % 5),
                role: [Role::Read, Role::Read, Role::Write, Role::Control]
                    [(seed >> 8) as usize % 4],
                session: (!(seed >> 16).is_multiple_of(9))
                    .then(|| sessions[(seed >> 20) as usize % 4]),
                at: Some(i * 7),
                duration_ms: Some((seed >> 24) as f64 % 5.0),
                exact: (seed >> 28) % 40,
                file: 0,
                line: i as u64,
            });
        }
        let mut direct = Sequences::new(cfg());
        for e in &execs {
            direct.exec(e);
        }
        direct.finish();
        let mut off = Offloaded::start(Sequences::new(cfg())).unwrap();
        for e in &execs {
            off.exec(e);
        }
        let mut threaded = off.join();
        threaded.finish();
        let loops = |s: &Sequences| {
            let mut v: Vec<_> = s
                .loops
                .iter()
                .map(|(k, l)| {
                    (
                        *k,
                        l.occurrences,
                        l.children,
                        l.sessions.clone(),
                        l.first_line,
                    )
                })
                .collect();
            v.sort();
            v
        };
        let repeats = |s: &Sequences| {
            let mut v: Vec<_> = s
                .repeats
                .iter()
                .map(|(k, r)| {
                    (
                        *k,
                        r.executions,
                        r.repeats,
                        r.back_to_back,
                        r.distinct_values(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert!(!loops(&direct).is_empty() && !repeats(&direct).is_empty());
        assert_eq!(loops(&direct), loops(&threaded));
        assert_eq!(repeats(&direct), repeats(&threaded));
    }

    #[test]
    fn parent_then_children_is_a_loop() {
        let mut s = Sequences::new(cfg());
        let mut t = 1;
        for round in 0..3 {
            s.exec(&ex(1, 1000 + round, t));
            for c in 0..20 {
                t += 2;
                s.exec(&ex(2, c + round * 100, t));
            }
            t += 50;
        }
        s.finish();
        let l = &s.loops[&(Some(Fingerprint(1)), Fingerprint(2))];
        assert_eq!((l.occurrences, l.children, l.max_children), (3, 60, 20));
        assert_eq!(s.loops.len(), 1, "{:?}", s.loops.keys().collect::<Vec<_>>());
    }

    #[test]
    fn a_loop_body_of_two_statements_reports_both() {
        let mut s = Sequences::new(cfg());
        let mut t = 1;
        for round in 0..2 {
            s.exec(&ex(1, 1000 + round, t));
            for k in 0..10 {
                t += 2;
                s.exec(&ex(2, 100 * round + k, t));
                t += 2;
                s.exec(&ex(3, 5000 + 100 * round + k, t));
            }
            t += 50;
        }
        s.finish();
        let mut keys: Vec<_> = s.loops.keys().copied().collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                (Some(Fingerprint(1)), Fingerprint(2)),
                (Some(Fingerprint(1)), Fingerprint(3))
            ]
        );
        assert_eq!(
            s.loops[&(Some(Fingerprint(1)), Fingerprint(3))].children,
            20
        );
    }

    #[test]
    fn identical_values_are_repeats_not_loops() {
        let mut s = Sequences::new(cfg());
        for i in 0..10 {
            s.exec(&ex(7, 42, i * 10));
        }
        s.finish();
        assert!(s.loops.is_empty());
        let r = &s.repeats[&Fingerprint(7)];
        assert_eq!((r.executions, r.repeats, r.back_to_back), (10, 9, 9));
    }

    #[test]
    fn a_query_repeated_per_widget_is_no_loop() {
        let mut s = Sequences::new(cfg());
        let mut t = 0;
        s.exec(&ex(1, 1, t));
        // Five requests in a row on one connection, each asking three times for its user.
        for user in 0..5 {
            for _ in 0..3 {
                t += 5;
                s.exec(&ex(2, 100 + user, t));
            }
        }
        s.finish();
        assert!(
            s.loops.is_empty(),
            "5 distinct of 15 is a repeat pattern, not a loop"
        );
    }

    #[test]
    fn hot_values_stay_tracked_when_the_table_is_full() {
        let mut s = Sequences::new(cfg());
        let mut t = 0;
        // A hot value, then many cold ones, then the hot one again and again.
        for i in 0..2000u64 {
            t += 1;
            s.exec(&ex(9, if i % 10 == 0 { 7 } else { 10_000 + i }, t));
        }
        s.finish();
        let r = &s.repeats[&Fingerprint(9)];
        assert_eq!(
            r.repeats, 199,
            "every hot execution after the first is a repeat"
        );
        assert!(r.distinct_values() <= REPEAT_KEYS_CAP);
    }

    #[test]
    fn slow_gaps_break_a_loop() {
        let mut s = Sequences::new(cfg());
        s.exec(&ex(1, 1, 0));
        for c in 0..10 {
            s.exec(&ex(2, c, 1 + c as i64 * 2000));
        }
        s.finish();
        assert!(s.loops.is_empty());
    }
}
