//! Reading one log with several threads, with the same result as reading it with one.
//!
//! One thread reads (and decompresses) and cuts the stream into chunks of about
//! [`CHUNK`] bytes, always just before a line that starts a log entry, so no entry is
//! split. Workers turn chunks into complete entries and fingerprint their statements
//! (the costly part). The calling thread folds the chunks in file order through the
//! same per-session state machine and aggregator as a single-threaded read, so pairing
//! across entries (a statement and its `DETAIL`, a plan and its statement, an N+1 loop)
//! never depends on where a chunk ended. Line numbers are relative inside a chunk and
//! made absolute when the chunk is folded.

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use super::pg::{self, PgRecord, PgState, RecordView, Severity};
use super::{
    FileStats, Format, Lines, ReadOptions, mysql_slow, pg_json, pg_stderr, read_csvlog,
    read_jsonlog, read_mysql, read_stderr,
};
use crate::aggregate::{PlanFacts, Prints, TagCache, Tags, text_hash};
use crate::event::{EventSink, Hint, Name, NameTable, QueryEvent};

/// Target chunk size: large enough that per-chunk overhead vanishes, small enough that
/// the chunks in flight (a dozen or so, read, parsed and waiting) stay a small part of
/// the memory budget. Measured on 1 GB PostgreSQL and MySQL logs with 2 threads: 1 MiB
/// and 512 KiB run alike, 512 KiB holds 10 MB less at peak (PostgreSQL 71 -> 59 MB),
/// and 256 KiB and below cost time in hand-offs.
pub const CHUNK: usize = 512 << 10;
/// Read-ahead used while looking for a place to cut.
const SLACK: usize = 64 * 1024;

/// The formats that can be cut at entry starts without reading the whole log.
pub fn supports(format: Format) -> bool {
    matches!(
        format,
        Format::Stderr | Format::Csvlog | Format::Jsonlog | Format::MysqlSlow
    )
}

/// PostgreSQL records of one chunk, their strings side by side in one buffer.
#[derive(Default)]
struct PgChunk {
    text: String,
    records: Vec<Flat>,
}

/// A record whose strings follow the previous record's in [`PgChunk::text`]: the byte
/// lengths of session, user, db, app, client, message, detail and statement (the last
/// two only csvlog and jsonlog have; empty: none). Kept small: a chunk holds
/// thousands, and a dozen chunks are in flight.
struct Flat {
    line: u64,
    at: Option<i64>,
    severity: Option<Severity>,
    hint: Option<Hint>,
    tags: Option<Arc<Tags>>,
    /// The duration and where the statement starts in the message.
    timed: Option<(f64, u32)>,
    plan: Option<Box<FlatPlan>>,
    lens: [u32; 8],
    /// A message of [`OWN_TEXT`] bytes or more, moved here instead of copied into the
    /// chunk's text (its length there is 0).
    own_message: Option<Box<str>>,
}

/// An auto_explain record's plan, read on the worker.
struct FlatPlan {
    facts: Arc<PlanFacts>,
    hint: Option<Hint>,
    tags: Option<Arc<Tags>>,
}

impl PgChunk {
    fn push(&mut self, r: &mut PgRecord, timed: Option<(f64, usize)>, plan: Option<Box<FlatPlan>>) {
        // A huge statement (a bulk INSERT over many lines) is not copied a second time.
        let own_message =
            (r.message.len() >= OWN_TEXT).then(|| std::mem::take(&mut r.message).into_boxed_str());
        let mut lens = [0u32; 8];
        let fields = [
            &r.session,
            &r.user,
            &r.db,
            &r.app,
            &r.client,
            &r.message,
            &r.detail,
            &r.statement,
        ];
        for (i, f) in fields.into_iter().enumerate() {
            // A field of 4 GiB cannot be read into a chunk in the first place; a
            // saturated length only makes its view empty (`views`), never a panic.
            lens[i] = u32::try_from(f.len()).unwrap_or(u32::MAX);
            self.text.push_str(f);
        }
        self.records.push(Flat {
            line: r.line,
            at: r.at,
            severity: r.severity,
            hint: r.hint,
            tags: r.tags.clone(),
            timed: timed.map(|(ms, at)| (ms, u32::try_from(at).unwrap_or(u32::MAX))),
            plan,
            lens,
            own_message,
        });
    }

    fn views(&self) -> impl Iterator<Item = RecordView<'_>> {
        let mut start = 0usize;
        self.records.iter().map(move |f| {
            let mut field = [""; 8];
            for (i, len) in f.lens.iter().enumerate() {
                let end = start + *len as usize;
                field[i] = self.text.get(start..end).unwrap_or("");
                start = end;
            }
            RecordView {
                line: f.line,
                at: f.at,
                severity: f.severity,
                session: field[0],
                user: field[1],
                db: field[2],
                app: field[3],
                client: field[4],
                message: f.own_message.as_deref().unwrap_or(field[5]),
                detail: (!field[6].is_empty()).then_some(field[6]),
                statement: (!field[7].is_empty()).then_some(field[7]),
                hint: f.hint,
                tags: f.tags.as_ref(),
                timed: f.timed.map(|(ms, at)| (ms, at as usize)),
                plan_facts: f.plan.as_ref().map(|p| &p.facts),
                plan_hint: f.plan.as_ref().and_then(|p| p.hint),
                plan_tags: f.plan.as_ref().and_then(|p| p.tags.as_ref()),
            }
        })
    }
}

/// MySQL events of one chunk. Their statement texts are side by side in `sql`: the
/// thread that folds allocates and frees each event's text, since a free on another
/// thread than the allocation waits on that thread's allocator lock. Names and tags
/// are listed once per chunk and referred to by index, and the folding thread uses its
/// own copies: an `Arc` cloned on a reader thread and dropped on the folding one moved
/// its counter's cache line between the two cores twice per event (4 % of the CPU time
/// on a 1 GB log).
#[derive(Default)]
struct MysqlChunk {
    records: Vec<MysqlFlat>,
    sql: String,
    names: Shared<str>,
    tags: Shared<Tags>,
}

impl MysqlChunk {
    fn clear(&mut self) {
        self.records.clear();
        self.sql.clear();
        self.names.clear();
        self.tags.clear();
    }
}

/// A MySQL event whose text ends at `end` in [`MysqlChunk::sql`] (after the previous
/// record's), or is `own_sql` when it is [`OWN_TEXT`] bytes or more.
struct MysqlFlat {
    line: u64,
    at: Option<i64>,
    duration_ms: Option<f64>,
    lock_ms: Option<f64>,
    rows: Option<u64>,
    rows_examined: Option<u64>,
    hint: Hint,
    end: usize,
    /// Session, user, database and client: indexes into [`MysqlChunk::names`].
    names: [u32; 4],
    tags: u32,
    own_sql: Option<Box<str>>,
}

/// No name / no tags.
const ABSENT: u32 = u32::MAX;

/// The distinct `Arc`s of one chunk, each given an index when first met. Recognized by
/// address in a small direct-mapped table: a value missed there (evicted by another) is
/// listed twice, which costs a slot and changes nothing else.
struct Shared<T: ?Sized> {
    list: Vec<Arc<T>>,
    slots: Box<[(usize, u32); SHARED_SLOTS]>,
}

const SHARED_SLOTS: usize = 1024;

impl<T: ?Sized> Default for Shared<T> {
    fn default() -> Self {
        Shared {
            list: Vec::new(),
            slots: Box::new([(0, ABSENT); SHARED_SLOTS]),
        }
    }
}

impl<T: ?Sized> Shared<T> {
    fn id(&mut self, a: Option<&Arc<T>>) -> u32 {
        let Some(a) = a else { return ABSENT };
        let addr = Arc::as_ptr(a).cast::<u8>() as usize;
        // Fibonacci hashing: allocations are 16-byte aligned, so the low bits of an
        // address are always the same.
        let slot = (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) % SHARED_SLOTS;
        let (known, id) = self.slots[slot];
        // The list holds what the table names, so an address cannot be reused meanwhile.
        if known == addr && id != ABSENT {
            return id;
        }
        let id = u32::try_from(self.list.len()).unwrap_or(ABSENT);
        if id != ABSENT {
            self.list.push(a.clone());
            self.slots[slot] = (addr, id);
        }
        id
    }
    fn clear(&mut self) {
        self.list.clear();
        self.slots.fill((0, ABSENT));
    }
}

/// Chunk-sized buffers handed back for reuse. Without it every chunk is a fresh
/// megabyte, and the allocator, serving them from per-thread arenas, keeps more of them
/// the longer the log: peak memory then grew with the file.
#[derive(Default)]
struct Pool {
    raw: Mutex<Vec<Vec<u8>>>,
    text: Mutex<Vec<(String, Vec<Flat>)>>,
    mysql: Mutex<Vec<MysqlChunk>>,
}

/// Chunks in flight per worker thread (read, parsed, waiting for their turn to fold).
const IN_FLIGHT_PER_JOB: usize = 3;

/// More than the chunks that can be in flight; the rest are dropped.
const POOL_MAX: usize = 64;

/// A statement (MySQL) or message (PostgreSQL) at least this long is not copied into
/// its chunk's text.
const OWN_TEXT: usize = 1 << 20;

/// Buffers grown past this (by a huge entry) are dropped rather than pooled: a pooled
/// buffer keeps its size, and its pages stay resident, for the rest of the run.
const POOL_BUFFER_MAX: usize = super::RUNAWAY;

impl Pool {
    /// A read buffer of at least `cap` bytes. Its bytes stay initialized from use to use
    /// (the length is carried beside it): reading into uninitialized capacity through a
    /// `dyn Read` zeroes it first on every read.
    fn raw(&self, cap: usize) -> Vec<u8> {
        let mut v = self
            .raw
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        if v.len() < cap {
            v.resize(cap, 0);
        }
        v
    }
    fn put_raw(&self, v: Vec<u8>) {
        if v.len() > POOL_BUFFER_MAX {
            return;
        }
        if let Ok(mut p) = self.raw.lock()
            && p.len() < POOL_MAX
        {
            p.push(v);
        }
    }
    fn pg(&self, cap: usize) -> PgChunk {
        let (mut text, mut records) = self
            .text
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        text.clear();
        // Exact: an amortized reserve doubles a pooled buffer whenever a chunk is a
        // little larger than the last one it held.
        text.reserve_exact(cap);
        records.clear();
        PgChunk { text, records }
    }
    fn mysql(&self, bytes: usize) -> MysqlChunk {
        let mut c = self
            .mysql
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        // About one event per 300 bytes of slow log.
        c.records.reserve(bytes / 256);
        c.sql.reserve(bytes / 2);
        c
    }
    fn put_mysql(&self, mut c: MysqlChunk) {
        if c.sql.capacity() > POOL_BUFFER_MAX {
            return;
        }
        c.clear();
        if let Ok(mut p) = self.mysql.lock()
            && p.len() < POOL_MAX
        {
            p.push(c);
        }
    }
    fn put_pg(&self, c: PgChunk) {
        if c.text.capacity() > POOL_BUFFER_MAX {
            return;
        }
        if let Ok(mut p) = self.text.lock()
            && p.len() < POOL_MAX
        {
            p.push((c.text, c.records));
        }
    }
}

enum Items {
    Pg(PgChunk),
    Mysql {
        chunk: MysqlChunk,
        invalid: Vec<(u64, String)>,
        /// The last `# Time:` of the chunk: it holds for the next chunk's first events.
        last_time: Option<i64>,
    },
}

struct Parsed {
    stats: FileStats,
    items: Items,
}

/// Fingerprints statement texts (see [`Prints`]).
struct Hinter {
    prints: Prints,
    mysql: bool,
}

impl Hinter {
    fn new(mysql: bool) -> Self {
        Hinter {
            prints: Prints::default(),
            mysql,
        }
    }

    /// The text's hint and its tags. Every event carries them, not only the first of
    /// its text here: that one may be left out by a filter (`--exclude-user`), and the
    /// folding thread, not this one, knows which event of a text it keeps first.
    fn hint(&mut self, sql: &str) -> (Hint, Option<Arc<Tags>>) {
        let h = text_hash(sql);
        let (fp, tags, _) = self.prints.get(sql, h, self.mysql);
        ((h, fp), tags)
    }

    /// The statement a PostgreSQL record will become an event for, as [`PgState`] reads
    /// it, and an auto_explain plan's facts.
    fn pg_record(&mut self, r: &mut PgRecord) -> (Option<(f64, usize)>, Option<Box<FlatPlan>>) {
        if r.severity != Some(Severity::Log) {
            return (None, None);
        }
        let msg = r.message.as_str();
        let mut timed = None;
        let sql = match pg::duration_message(msg) {
            Some(None) => return (None, None),
            Some(Some((ms, after))) => {
                timed = Some((ms, msg.len() - after.len()));
                if let Some(plan) = after.strip_prefix("plan:") {
                    let plan = plan.trim_start_matches([' ', '\n', '\r']);
                    let (hint, tags) = match pg::plan_query_text(plan) {
                        Some(q) => {
                            let (h, t) = self.hint(&q);
                            (Some(h), t)
                        }
                        None => (None, None),
                    };
                    let plan = Box::new(FlatPlan {
                        facts: Arc::new(PlanFacts::of(plan)),
                        hint,
                        tags,
                    });
                    return (timed, Some(plan));
                }
                pg::statement_text(after)
            }
            None => pg::statement_text(msg),
        };
        if let Some(sql) = sql {
            let (h, t) = self.hint(sql);
            r.hint = Some(h);
            r.tags = t;
        }
        (timed, None)
    }
}

/// Collects a worker's MySQL events with their fingerprints.
struct Collect<'a> {
    chunk: MysqlChunk,
    hinter: &'a mut Hinter,
}

impl EventSink for Collect<'_> {
    fn event(&mut self, ev: &mut QueryEvent) {
        let (hint, tags) = self.hinter.hint(&ev.sql);
        // Every field named: one the slow log reader starts to fill must be carried.
        let QueryEvent {
            file: _,
            line,
            at,
            duration_ms,
            sql,
            params,
            session,
            user,
            db,
            app,
            client,
            rows,
            rows_examined,
            lock_ms,
            temp_bytes,
            temp_files,
            plan,
            hint: _,
            tags: _,
            plan_facts,
        } = ev;
        debug_assert!(
            params.is_none()
                && app.is_none()
                && temp_bytes.is_none()
                && *temp_files == 0
                && plan.is_none()
                && plan_facts.is_none(),
            "a slow log event with fields the chunk does not carry"
        );
        let c = &mut self.chunk;
        // A huge statement (a bulk INSERT) travels in its own allocation: copied into
        // `sql` it was held once more there and once more on the folding thread (a 100
        // MB statement took 320 MB with two threads).
        let own_sql = if sql.len() >= OWN_TEXT {
            Some(std::mem::take(sql).into_boxed_str())
        } else {
            c.sql.push_str(sql);
            None
        };
        let names = [&*session, &*user, &*db, &*client].map(|n| c.names.id(n.as_ref()));
        c.records.push(MysqlFlat {
            line: *line,
            at: *at,
            duration_ms: *duration_ms,
            lock_ms: *lock_ms,
            rows: *rows,
            rows_examined: *rows_examined,
            hint,
            end: c.sql.len(),
            names,
            tags: c.tags.id(tags.as_ref()),
            own_sql,
        });
    }
    // The slow log reader emits no side notes (errors, temp files): nothing to carry.
    fn note(&mut self, _: &QueryEvent, _: crate::event::SideNote) {}
}

fn parse_chunk(
    file: usize,
    data: &[u8],
    format: Format,
    opts: &ReadOptions,
    hinter: &mut Hinter,
    memo: &mut pg_stderr::PrefixMemo,
    pool: &Pool,
) -> io::Result<Parsed> {
    let mut stats = FileStats::default();
    let items = match format {
        Format::MysqlSlow => {
            let mut sink = Collect {
                chunk: pool.mysql(data.len()),
                hinter,
            };
            let mut p = read_mysql(Lines::Slice(data), file, &mut stats, &mut sink)?;
            Items::Mysql {
                chunk: sink.chunk,
                invalid: std::mem::take(&mut p.invalid),
                last_time: p.last_time(),
            }
        }
        _ => {
            // Records hold the chunk's text minus line prefixes' punctuation.
            let mut chunk = pool.pg(data.len());
            let done = |rec: &mut PgRecord| {
                let (timed, plan) = hinter.pg_record(rec);
                chunk.push(rec, timed, plan);
            };
            let lines = Lines::Slice(data);
            match format {
                Format::Csvlog => read_csvlog(lines, &mut stats, done)?,
                Format::Jsonlog => read_jsonlog(lines, opts, &mut stats, done)?,
                _ => read_stderr(lines, opts, memo, &mut stats, done)?,
            }
            Items::Pg(chunk)
        }
    };
    Ok(Parsed { stats, items })
}

/// Whether a chunk may begin with `line`, `prev` being the line before it and
/// `in_quotes` whether the chunk so far leaves a csvlog quoted field open: only where
/// the single-threaded reader also starts a new entry, so cutting there changes nothing.
fn may_start(
    format: Format,
    line: &[u8],
    prev: &[u8],
    in_quotes: bool,
    opts: &ReadOptions,
    scratch: &mut PgRecord,
    overgrown: bool,
) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    match format {
        Format::MysqlSlow => {
            // A header right after statement text: the text's event is complete. Not after
            // a header, blank, `use` or `SET` line, which may still belong to the next event.
            let p = String::from_utf8_lossy(prev);
            let p = p.trim();
            line.starts_with('#')
                && mysql_slow::is_event_header(line)
                && !p.is_empty()
                && !p.starts_with('#')
                && !p.get(..4).is_some_and(|w| {
                    w.eq_ignore_ascii_case("use ") || w.eq_ignore_ascii_case("set ")
                })
        }
        // A row ends where its quotes balance (doubled quotes inside a field count
        // twice): with an even number of quotes since the chunk's start (itself a row
        // start) the last row is complete. Megabytes without that: the rest is one
        // unterminated field, cut at a line that starts like a row.
        Format::Csvlog => !in_quotes || (overgrown && super::looks_like_csvlog(line)),
        // A line continues the record before it only as a Cloud SQL continuation.
        Format::Jsonlog => match pg_json::parse(line, 0, scratch, opts.year) {
            pg_json::JsonLine::Record => true,
            pg_json::JsonLine::Continuation(_) => false,
            pg_json::JsonLine::No => overgrown,
        },
        _ => match pg_stderr::parse_line(line, scratch, opts.prefix.as_ref(), opts.year) {
            pg_stderr::Line::Header => true,
            // Megabytes of lines that are not log entries (a log with something else
            // pasted in): cut before one of them rather than hold it all. The only
            // difference from one thread: an entry's continuation lines that come after
            // such a line are counted as unrecognized instead of joining it.
            pg_stderr::Line::Unrecognized => overgrown,
            _ => false,
        },
    }
}

/// Whether the quotes in a chunk so far are odd (a csvlog field still open), counted
/// up to the cut candidates as they advance.
#[derive(Default)]
struct Quotes {
    upto: usize,
    odd: bool,
}

impl Quotes {
    fn count(&mut self, data: &[u8], to: usize) {
        let n = data[self.upto..to].iter().filter(|&&c| c == b'"').count();
        self.odd ^= n % 2 == 1;
        self.upto = to;
    }
}

/// Cuts the stream into chunks that start at entry starts; `send` returns false when
/// the receiving side has gone.
fn split(
    reader: &mut (dyn BufRead + Send),
    format: Format,
    opts: &ReadOptions,
    chunk: usize,
    pool: &Pool,
    mut send: impl FnMut(Vec<u8>, usize) -> bool,
) -> io::Result<()> {
    let mut scratch = PgRecord::default();
    // `buf[..filled]` holds the data; the rest is initialized room.
    let mut buf: Vec<u8> = pool.raw(chunk + SLACK);
    let mut filled = 0usize;
    let mut eof = false;
    // Up to `want` more bytes (fewer only at the end of the input).
    let mut more = |buf: &mut Vec<u8>, filled: &mut usize, want: usize, eof: &mut bool| {
        if *eof {
            return Ok(());
        }
        let end = *filled + want;
        if buf.len() < end {
            buf.resize(end, 0);
        }
        let start = *filled;
        while *filled < end {
            match reader.read(&mut buf[*filled..end]) {
                Ok(0) => break,
                Ok(n) => *filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if *filled == start {
            *eof = true;
        }
        io::Result::Ok(())
    };
    loop {
        while !eof && filled < chunk {
            let want = chunk + SLACK - filled;
            more(&mut buf, &mut filled, want, &mut eof)?;
        }
        if filled == 0 {
            return Ok(());
        }
        let mut pos = chunk.min(filled);
        // Every chunk starts at a row start, with no quote open.
        let mut quotes = Quotes::default();
        let cut = loop {
            let data = &buf[..filled];
            let Some(i) = memchr::memchr(b'\n', &data[pos..]) else {
                if eof {
                    break filled;
                }
                more(&mut buf, &mut filled, SLACK, &mut eof)?;
                continue;
            };
            let start = pos + i + 1;
            if start == filled && eof {
                break start;
            }
            let end = match memchr::memchr(b'\n', &data[start..]) {
                Some(j) => start + j,
                None if eof => filled,
                None => {
                    more(&mut buf, &mut filled, SLACK, &mut eof)?;
                    continue;
                }
            };
            let prev_start = memchr::memrchr(b'\n', &data[..start - 1]).map_or(0, |k| k + 1);
            if format == Format::Csvlog {
                quotes.count(data, start);
            }
            if may_start(
                format,
                &data[start..end],
                &data[prev_start..start - 1],
                quotes.odd,
                opts,
                &mut scratch,
                start > chunk + super::RUNAWAY,
            ) {
                break start;
            }
            pos = start;
        };
        let rest = filled - cut;
        let mut next = pool.raw((chunk + SLACK).max(rest));
        next[..rest].copy_from_slice(&buf[cut..filled]);
        filled = rest;
        if !send(std::mem::replace(&mut buf, next), cut) {
            return Ok(());
        }
    }
}

/// Reads one file of a [`supports`]ed format with `opts.jobs` worker threads.
pub fn read(
    file: usize,
    reader: &mut (dyn BufRead + Send),
    format: Format,
    opts: &ReadOptions,
    sink: &mut dyn EventSink,
    stats: &mut FileStats,
) -> io::Result<()> {
    let (jobs, chunk) = (opts.jobs.max(1), opts.chunk.max(1));
    let (chunk_tx, chunk_rx) = sync_channel::<(u64, Vec<u8>, usize)>(2 * jobs);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, io::Result<Parsed>)>(4 * jobs);
    // Chunks between the reader and the fold, in every stage: a worker that stalls no
    // longer lets the others run ahead into an unbounded reorder queue (its high-water
    // mark, and the pooled buffers after it, grew with the length of the file).
    let window = IN_FLIGHT_PER_JOB * jobs;
    let (credit_tx, credit_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        let _ = credit_tx.try_send(());
    }
    let pool = &Pool::default();
    std::thread::scope(|scope| {
        // Named threads: profiles and `top -H` tell the stages apart.
        let splitter = std::thread::Builder::new()
            .name("qperf-read".into())
            .spawn_scoped(scope, move || {
                let mut seq = 0u64;
                split(reader, format, opts, chunk, pool, |data, len| {
                    // No credit: the fold has ended.
                    let ok = credit_rx.recv().is_ok() && chunk_tx.send((seq, data, len)).is_ok();
                    seq += 1;
                    ok
                })
            })?;
        for _ in 0..jobs {
            let rx = chunk_rx.clone();
            let tx = done_tx.clone();
            std::thread::Builder::new()
                .name("qperf-parse".into())
                .spawn_scoped(scope, move || {
                    let mut hinter = Hinter::new(format.is_mysql());
                    let mut memo = pg_stderr::PrefixMemo::default();
                    loop {
                        // The lock is held only while taking the next chunk.
                        let next = rx.lock().map(|r| r.recv());
                        let Ok(Ok((seq, data, len))) = next else {
                            return;
                        };
                        let parsed = parse_chunk(
                            file,
                            &data[..len],
                            format,
                            opts,
                            &mut hinter,
                            &mut memo,
                            pool,
                        );
                        pool.put_raw(data);
                        if tx.send((seq, parsed)).is_err() {
                            return;
                        }
                    }
                })?;
        }
        drop(done_tx);
        let folded = fold(file, format, done_rx, &credit_tx, sink, stats, pool);
        drop(credit_tx);
        let read = splitter
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread failed")));
        folded.and(read)
    })
}

/// Folds parsed chunks in file order.
fn fold(
    file: usize,
    format: Format,
    rx: Receiver<(u64, io::Result<Parsed>)>,
    credits: &SyncSender<()>,
    sink: &mut dyn EventSink,
    stats: &mut FileStats,
    pool: &Pool,
) -> io::Result<()> {
    let mut waiting: BTreeMap<u64, io::Result<Parsed>> = BTreeMap::new();
    let mut next = 0u64;
    let mut state = PgState::new(file);
    let mut last_time: Option<i64> = None;
    let mut invalid: Vec<(u64, String)> = Vec::new();
    let mut failed: Option<io::Error> = None;
    let mut mysql = MysqlFold::default();
    for (seq, parsed) in rx {
        waiting.insert(seq, parsed);
        while let Some(parsed) = waiting.remove(&next) {
            next += 1;
            let _ = credits.try_send(());
            let p = match parsed {
                Ok(p) => p,
                Err(e) => {
                    failed.get_or_insert(e);
                    continue;
                }
            };
            let base = stats.lines;
            stats.lines += p.stats.lines;
            stats.recognized_lines += p.stats.recognized_lines;
            let kept = stats.first_unrecognized.len();
            stats.unrecognized_lines += p.stats.unrecognized_lines;
            for mut u in p
                .stats
                .first_unrecognized
                .into_iter()
                .take(super::KEEP_UNRECOGNIZED - kept.min(super::KEEP_UNRECOGNIZED))
            {
                u.line += base;
                stats.first_unrecognized.push(u);
            }
            match p.items {
                Items::Pg(chunk) => {
                    for mut r in chunk.views() {
                        r.line += base;
                        state.record(&r, sink);
                    }
                    pool.put_pg(chunk);
                }
                Items::Mysql {
                    mut chunk,
                    invalid: inv,
                    last_time: lt,
                } => {
                    mysql.fold(&mut chunk, file, base, last_time, sink);
                    pool.put_mysql(chunk);
                    invalid.extend(inv.into_iter().map(|(l, why)| (l + base, why)));
                    last_time = lt.or(last_time);
                }
            }
        }
    }
    if !format.is_mysql() {
        state.finish(sink);
        stats.errors_unattributed = state.counters().errors_unattributed;
    }
    for (line, why) in invalid {
        stats.unrecognized(line, &why);
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What folding MySQL chunks keeps from chunk to chunk.
#[derive(Default)]
struct MysqlFold {
    /// One event for all: its text buffer is reused, and a name or tags field is
    /// replaced only when it changes.
    ev: QueryEvent,
    /// This thread's own copies of the reader threads' names and tags (see
    /// [`MysqlChunk`]), and the current chunk's lists of them.
    names: NameTable,
    tags: TagCache,
    chunk_names: Vec<Name>,
    chunk_tags: Vec<Arc<Tags>>,
}

impl MysqlFold {
    fn fold(
        &mut self,
        chunk: &mut MysqlChunk,
        file: usize,
        base: u64,
        last_time: Option<i64>,
        sink: &mut dyn EventSink,
    ) {
        let names = &mut self.names;
        self.chunk_names.clear();
        (self.chunk_names).extend(chunk.names.list.iter().map(|n| names.get(n)));
        let tags = &mut self.tags;
        self.chunk_tags.clear();
        (self.chunk_tags).extend(chunk.tags.list.iter().map(|t| tags.share(t)));
        let mut start = 0;
        for r in &mut chunk.records {
            // Only what a slow log event has is set: `Collect` names every field and
            // the record carries those it lets through (a record field left unread
            // here fails the build), and the event's others stay as `Default` made
            // them, a sink only taking from an event.
            let ev = &mut self.ev;
            ev.sql.clear();
            match r.own_sql.take() {
                // Moved, not copied: a huge statement is held once.
                Some(own) => ev.sql = own.into_string(),
                None => ev
                    .sql
                    .push_str(chunk.sql.get(start..r.end).unwrap_or_default()),
            }
            start = r.end;
            ev.file = file;
            ev.line = r.line + base;
            ev.at = r.at.or(last_time);
            ev.duration_ms = r.duration_ms;
            ev.lock_ms = r.lock_ms;
            ev.rows = r.rows;
            ev.rows_examined = r.rows_examined;
            ev.hint = Some(r.hint);
            let [s, u, d, c] = r.names;
            for (field, id) in [
                (&mut ev.session, s),
                (&mut ev.user, u),
                (&mut ev.db, d),
                (&mut ev.client, c),
            ] {
                set_shared(field, &self.chunk_names, id);
            }
            set_shared(&mut ev.tags, &self.chunk_tags, r.tags);
            debug_assert!(
                ev.params.is_none() && ev.app.is_none() && ev.plan.is_none(),
                "a sink set what a slow log event does not have"
            );
            sink.event(ev);
            // A huge statement's buffer is let go rather than kept for the next text.
            if ev.sql.capacity() >= OWN_TEXT {
                ev.sql = String::new();
            }
        }
    }
}

/// Sets `field` to `list[id]` (none for [`ABSENT`]) unless it is that already.
fn set_shared<T: ?Sized>(field: &mut Option<Arc<T>>, list: &[Arc<T>], id: u32) {
    match list.get(id as usize) {
        Some(a) => {
            if !field.as_ref().is_some_and(|f| Arc::ptr_eq(f, a)) {
                *field = Some(a.clone());
            }
        }
        None => *field = None,
    }
}
