//! Reading log files: decompression, format detection, and the per-format readers.
//!
//! Readers stream: one reusable line buffer, records handed to an [`EventSink`] as they
//! complete. A line that is not understood is counted (the first few are kept with their
//! line numbers for the report) and reading goes on.

pub mod mysql_slow;
pub mod parallel;
pub mod pg;
pub mod pg_csv;
pub mod pg_json;
pub mod pg_stderr;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::event::EventSink;
use pg::{PgRecord, PgState};
use pg_stderr::{Line, Prefix};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// PostgreSQL stderr or syslog log.
    Stderr,
    /// PostgreSQL csvlog.
    Csvlog,
    /// PostgreSQL jsonlog, or its CloudNativePG / Cloud SQL JSON wrappers.
    Jsonlog,
    /// MySQL / MariaDB / Percona slow query log.
    MysqlSlow,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Stderr => "postgresql stderr",
            Format::Csvlog => "postgresql csvlog",
            Format::Jsonlog => "postgresql jsonlog",
            Format::MysqlSlow => "mysql slow log",
        }
    }

    pub fn is_mysql(self) -> bool {
        self == Format::MysqlSlow
    }
}

/// How many unrecognized lines are kept verbatim per file.
const KEEP_UNRECOGNIZED: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Unrecognized {
    pub line: u64,
    pub text: String,
}

/// What reading one file found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FileStats {
    pub path: String,
    pub format: Option<Format>,
    pub bytes: u64,
    pub lines: u64,
    pub recognized_lines: u64,
    pub unrecognized_lines: u64,
    pub events: u64,
    pub first_unrecognized: Vec<Unrecognized>,
    pub errors_unattributed: u64,
}

impl FileStats {
    fn unrecognized(&mut self, line: u64, text: &str) {
        self.unrecognized_lines += 1;
        if self.first_unrecognized.len() < KEEP_UNRECOGNIZED {
            let mut t: String = text.chars().take(200).collect();
            if t.len() < text.len() {
                t.push('…');
            }
            self.first_unrecognized.push(Unrecognized { line, text: t });
        }
    }
}

/// Options that change how logs are read.
#[derive(Default)]
pub struct ReadOptions {
    pub format: Option<Format>,
    pub prefix: Option<Prefix>,
    pub year: i64,
    /// Worker threads for the formats [`parallel`] can split; 1 reads on the calling thread.
    pub jobs: usize,
    /// Bytes per chunk for [`parallel`].
    pub chunk: usize,
}

/// Counts bytes read from the underlying file (for progress and the summary).
pub struct Counted<R> {
    inner: R,
    pub count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file (or stdin for `-`), decompressing gzip and bzip2 by their magic bytes.
pub fn open(
    path: &Path,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let mut r = BufReader::with_capacity(
        256 * 1024,
        Counted {
            inner: raw,
            count: counter,
        },
    );
    let head = r.fill_buf()?;
    let boxed: Box<dyn BufRead + Send> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(r),
        ))
    } else if head.starts_with(b"BZh") {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            bzip2::bufread::MultiBzDecoder::new(r),
        ))
    } else {
        Box::new(r)
    };
    Ok(boxed)
}

/// Guesses the format from the first lines of a file.
pub fn detect(head: &[String]) -> Option<Format> {
    let mut rec = PgRecord::default();
    let year = 2000;
    for line in head.iter().filter(|l| !l.trim().is_empty()) {
        if mysql_slow::sniff(line) {
            return Some(Format::MysqlSlow);
        }
        if line.starts_with('{') {
            if pg_json::to_record(line, 1, &mut rec, year) {
                return Some(Format::Jsonlog);
            }
            continue;
        }
        if looks_like_csvlog(line) {
            return Some(Format::Csvlog);
        }
        if matches!(
            pg_stderr::parse_line(line, &mut rec, None, year),
            Line::Header
        ) {
            return Some(Format::Stderr);
        }
    }
    None
}

fn looks_like_csvlog(line: &str) -> bool {
    let l = line.trim_start_matches('"');
    crate::timeparse::parse_iso(l.as_bytes()).is_some()
        && line.contains(',')
        && [
            ",LOG,",
            ",ERROR,",
            ",FATAL,",
            ",WARNING,",
            ",STATEMENT,",
            ",PANIC,",
            ",NOTICE,",
            ",DETAIL,",
        ]
        .iter()
        .any(|s| line.contains(s))
}

/// How far input may run without what ends it before the reader gives up on it: past
/// the chunk size, a chunk without an entry start (the parallel reader then cuts before
/// a line that belongs to no entry); a csvlog row whose quoted field stays open.
pub(crate) const RUNAWAY: usize = 16 << 20;

/// Where lines come from: a stream, or a chunk already in memory (read in place).
pub(crate) enum Lines<'a> {
    Read(&'a mut dyn BufRead),
    Slice(&'a [u8]),
}

/// Reads lines, strips the line ending and decodes lossily; calls `f` per line.
fn for_each_line(
    src: Lines,
    stats: &mut FileStats,
    mut f: impl FnMut(&str, u64, &mut FileStats),
) -> io::Result<()> {
    // Valid UTF-8 is the rule: the plain check is faster than the lossy iterator,
    // which only the odd Latin-1 line needs.
    fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
        match std::str::from_utf8(b) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(b),
        }
    }
    fn trim_eol(mut b: &[u8]) -> &[u8] {
        while let [rest @ .., b'\n' | b'\r'] = b {
            b = rest;
        }
        b
    }
    match src {
        Lines::Read(r) => {
            let mut buf = Vec::with_capacity(64 * 1024);
            loop {
                buf.clear();
                if r.read_until(b'\n', &mut buf)? == 0 {
                    return Ok(());
                }
                stats.lines += 1;
                let no = stats.lines;
                f(&text(trim_eol(&buf)), no, stats);
            }
        }
        Lines::Slice(data) => {
            // One check for the whole chunk; then every line is a slice of it.
            let whole = std::str::from_utf8(data).ok();
            let mut start = 0;
            // Every line's end: after its line feed, or the end of the data for a last
            // line without one.
            let last = (!data.is_empty() && !data.ends_with(b"\n")).then_some(data.len());
            for end in crate::scan::newlines(data).map(|i| i + 1).chain(last) {
                let line = trim_eol(&data[start..end]);
                stats.lines += 1;
                let no = stats.lines;
                match whole {
                    // Line ends are ASCII, so these are character boundaries.
                    Some(w) => f(&w[start..start + line.len()], no, stats),
                    None => f(&text(line), no, stats),
                }
                start = end;
            }
            Ok(())
        }
    }
}

/// Reads one file into `sink`. `head` holds the lines already read for detection.
pub fn read(
    file: usize,
    reader: &mut (dyn BufRead + Send),
    format: Format,
    opts: &ReadOptions,
    sink: &mut dyn EventSink,
    stats: &mut FileStats,
) -> io::Result<()> {
    if opts.jobs > 1 && parallel::supports(format) {
        return parallel::read(file, reader, format, opts, sink, stats);
    }
    read_one_thread(file, reader, format, opts, sink, stats)
}

/// [`read`] on the calling thread. For a file whose format was not recognized: no entry
/// start would be found to cut it at, and a chunk would grow to the whole file.
pub fn read_one_thread(
    file: usize,
    reader: &mut (dyn BufRead + Send),
    format: Format,
    opts: &ReadOptions,
    sink: &mut dyn EventSink,
    stats: &mut FileStats,
) -> io::Result<()> {
    match format {
        Format::MysqlSlow => {
            let mut p = read_mysql(Lines::Read(reader), file, stats, sink)?;
            for (line, why) in std::mem::take(&mut p.invalid) {
                stats.unrecognized(line, &why);
            }
        }
        Format::Stderr => {
            let mut state = PgState::new(file);
            let memo = &mut pg_stderr::PrefixMemo::default();
            read_stderr(Lines::Read(reader), opts, memo, stats, |rec| {
                state.record(&rec.view(), sink)
            })?;
            state.finish(sink);
            stats.errors_unattributed = state.counters().errors_unattributed;
        }
        Format::Csvlog | Format::Jsonlog => {
            let mut state = PgState::new(file);
            let done = |rec: &mut PgRecord| state.record(&rec.view(), sink);
            match format {
                Format::Csvlog => read_csvlog(Lines::Read(reader), stats, done)?,
                _ => read_jsonlog(Lines::Read(reader), opts, stats, done)?,
            }
            state.finish(sink);
            stats.errors_unattributed = state.counters().errors_unattributed;
        }
    }
    Ok(())
}

/// Reads MySQL slow log lines into `sink`; returns the parser for what it kept
/// (invalid entries, the last `# Time:`).
fn read_mysql(
    lines: Lines,
    file: usize,
    stats: &mut FileStats,
    sink: &mut dyn EventSink,
) -> io::Result<mysql_slow::MysqlSlow> {
    let mut p = mysql_slow::MysqlSlow::new(file);
    for_each_line(lines, stats, |line, no, st| match p.line(line, no, sink) {
        mysql_slow::Kind::Blank => {}
        _ => st.recognized_lines += 1,
    })?;
    p.finish(sink);
    Ok(p)
}

/// Groups csvlog lines into rows (a quoted field may span lines) and hands each row's
/// record to `done`.
fn read_csvlog(
    lines: Lines,
    stats: &mut FileStats,
    mut done: impl FnMut(&mut PgRecord),
) -> io::Result<()> {
    let mut row = pg_csv::CsvRow::default();
    let mut fields = pg_csv::Fields::default();
    let mut rec = PgRecord::default();
    // After a row given up on: lines up to the next one that starts a row are skipped.
    let mut skipping = false;
    for_each_line(lines, stats, |line, no, st| {
        if skipping {
            if !looks_like_csvlog(line) {
                st.unrecognized(no, line);
                return;
            }
            skipping = false;
        }
        if !row.is_open() && line.trim().is_empty() {
            return;
        }
        if row.push(line, no) {
            let first = row.first_line;
            pg_csv::split_fields(row.text(), &mut fields);
            if pg_csv::to_record(&fields, first, &mut rec) {
                st.recognized_lines += no - first + 1;
                done(&mut rec);
            } else {
                st.unrecognized(first, row.text());
            }
            row.clear();
        } else if row.text().len() > RUNAWAY {
            // A quote that never closes (a line cut short by a crash, then the server
            // logging on after its restart) would make the rest of the file one row:
            // held in memory, and every record after it lost.
            let head: String = row.text().chars().take(200).collect();
            let why = format!(
                "csvlog row whose quoted field does not close within {} MB (skipped to the \
                 next line that starts a row): {head}",
                RUNAWAY >> 20
            );
            st.unrecognized(row.first_line, &why);
            row.clear();
            skipping = true;
        }
    })?;
    if row.is_open() {
        // A truncated last row: keep what it has, its open quote closed.
        let first = row.first_line;
        let text = format!("{}\"", row.text());
        pg_csv::split_fields(&text, &mut fields);
        if pg_csv::to_record(&fields, first, &mut rec) {
            done(&mut rec);
        } else {
            stats.unrecognized(first, &text);
        }
    }
    Ok(())
}

/// What a line is to a log whose records are a first line and continuation lines.
enum Part {
    /// A record's first line, read into the record passed.
    First,
    /// The current record's message goes on with the line from this byte.
    More(usize),
    /// ... with this text (unwrapped from JSON).
    MoreText(String),
    Blank,
    Unrecognized,
}

/// Groups lines into records with `read` and hands each complete record to `done`: the
/// skeleton of the stderr and jsonlog readers.
fn group_records(
    lines: Lines,
    stats: &mut FileStats,
    mut read: impl FnMut(&str, u64, &mut PgRecord) -> Part,
    mut done: impl FnMut(&mut PgRecord),
) -> io::Result<()> {
    // The open record and the one being read, by index: the roles alternate without
    // swapping two records' worth of fields per line (1.6 % of a PG worker's time).
    let mut recs: [PgRecord; 2] = Default::default();
    let mut cur = 0;
    let mut open = false;
    for_each_line(lines, stats, |line, no, st| {
        match read(line, no, &mut recs[1 - cur]) {
            Part::First => {
                st.recognized_lines += 1;
                if open {
                    done(&mut recs[cur]);
                }
                cur = 1 - cur;
                open = true;
            }
            Part::More(at) if open => {
                st.recognized_lines += 1;
                let message = &mut recs[cur].message;
                message.push('\n');
                let text = &line[at..];
                // Syslog writes a tab as `#011`.
                if text.as_bytes().contains(&b'#') && text.contains("#011") {
                    message.push_str(&text.replace("#011", "\t"));
                } else {
                    message.push_str(text);
                }
            }
            Part::MoreText(text) if open => {
                st.recognized_lines += 1;
                let message = &mut recs[cur].message;
                message.push('\n');
                message.push_str(&text);
            }
            Part::Blank => {}
            Part::More(_) | Part::MoreText(_) | Part::Unrecognized => st.unrecognized(no, line),
        }
    })?;
    if open {
        done(&mut recs[cur]);
    }
    Ok(())
}

/// Reads jsonlog lines (one record per line, or a record's message continued over
/// Cloud SQL lines) and hands each complete record to `done`.
fn read_jsonlog(
    lines: Lines,
    opts: &ReadOptions,
    stats: &mut FileStats,
    done: impl FnMut(&mut PgRecord),
) -> io::Result<()> {
    let read = |line: &str, no, next: &mut PgRecord| {
        if line.trim().is_empty() {
            return Part::Blank;
        }
        match pg_json::parse(line, no, next, opts.year) {
            pg_json::JsonLine::Record => Part::First,
            pg_json::JsonLine::Continuation(text) => Part::MoreText(text),
            pg_json::JsonLine::No => Part::Unrecognized,
        }
    };
    group_records(lines, stats, read, done)
}

/// Groups stderr lines into records (a header line and its continuation lines) and
/// hands each complete record to `done`.
fn read_stderr(
    lines: Lines,
    opts: &ReadOptions,
    memo: &mut pg_stderr::PrefixMemo,
    stats: &mut FileStats,
    done: impl FnMut(&mut PgRecord),
) -> io::Result<()> {
    let read = |line: &str, no, next: &mut PgRecord| match pg_stderr::parse_line_with(
        line,
        next,
        opts.prefix.as_ref(),
        opts.year,
        Some(memo),
    ) {
        Line::Header => {
            next.line = no;
            Part::First
        }
        Line::Continuation(at) => Part::More(at),
        Line::Blank => Part::Blank,
        Line::Unrecognized => Part::Unrecognized,
    };
    group_records(lines, stats, read, done)
}

/// Reads up to `n` lines for detection without losing them: returns the lines and a
/// reader that yields them again followed by the rest.
pub fn peek_lines(
    mut r: Box<dyn BufRead + Send>,
    n: usize,
) -> io::Result<(Vec<String>, Box<dyn BufRead + Send>)> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    while lines.len() < n && raw.len() < 1 << 20 {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        raw.extend_from_slice(&buf);
        let mut t = String::from_utf8_lossy(&buf).into_owned();
        while t.ends_with(['\n', '\r']) {
            t.pop();
        }
        lines.push(t);
    }
    let chained: Box<dyn BufRead + Send> = Box::new(BufReader::new(io::Cursor::new(raw).chain(r)));
    Ok((lines, chained))
}
