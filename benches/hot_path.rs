//! Micro-benchmarks of the per-line and per-statement hot path: line splitting, the
//! PostgreSQL line parser, the fingerprint normalizer and the shape hash, on the bundled
//! seed_shop capture repeated to a few tens of MB. `cargo bench` prints MB/s;
//! docs/performance.md records the figures. (No harness crate: a timing loop over the
//! same input, best of five.)

use std::io::Read;
use std::time::Instant;

use qperf::fingerprint::Normalizer;
use qperf::ingest::pg::PgRecord;
use qperf::ingest::pg_stderr::{PrefixMemo, parse_line, parse_line_with};

fn capture() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/seed_shop/baseline.log.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("fixture"))
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

/// Best of five runs of `f` over `bytes` bytes, as MB/s.
fn best(name: &str, bytes: usize, mut f: impl FnMut() -> usize) {
    let mut best = f64::MAX;
    let mut sink = 0;
    for _ in 0..5 {
        let t = Instant::now();
        sink += f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:<28} {:>8.1} MB/s  ({:.1} MB in {:.3} s, checksum {sink})",
        bytes as f64 / 1e6 / best,
        bytes as f64 / 1e6,
        best
    );
}

fn main() {
    let text = capture();
    let repeat = 12;
    let lines: Vec<&str> = text.lines().collect();
    let line_bytes: usize = lines.iter().map(|l| l.len() + 1).sum::<usize>() * repeat;
    best("pg_stderr::parse_line", line_bytes, || {
        let mut rec = PgRecord::default();
        let mut n = 0;
        for _ in 0..repeat {
            for l in &lines {
                if matches!(
                    parse_line(l, &mut rec, None, 2026),
                    qperf::ingest::pg_stderr::Line::Header
                ) {
                    n += 1;
                }
            }
        }
        n
    });
    // Cutting a chunk into lines, as the readers do before parsing them.
    let chunk = text.repeat(repeat);
    best("scan::newlines", chunk.len(), || {
        qperf::scan::newlines(chunk.as_bytes()).count()
    });
    // As the readers call it: prefixes remembered across lines.
    best("pg_stderr::parse_line memo", line_bytes, || {
        let mut rec = PgRecord::default();
        let mut memo = PrefixMemo::default();
        let mut n = 0;
        for _ in 0..repeat {
            for l in &lines {
                if matches!(
                    parse_line_with(l, &mut rec, None, 2026, Some(&mut memo)),
                    qperf::ingest::pg_stderr::Line::Header
                ) {
                    n += 1;
                }
            }
        }
        n
    });
    // The statement texts of the capture (`execute …:` and `statement:` lines).
    let statements: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            l.split_once("execute ")
                .or_else(|| l.split_once("statement: "))
        })
        .filter_map(|(_, rest)| rest.split_once(": ").map(|(_, sql)| sql).or(Some(rest)))
        .collect();
    let sql_bytes: usize = statements.iter().map(|s| s.len()).sum::<usize>() * repeat * 4;
    let mut norm = Normalizer::new();
    best("Normalizer::fingerprint", sql_bytes, || {
        let mut x = 0u64;
        for _ in 0..repeat * 4 {
            for s in &statements {
                x = x.wrapping_add(norm.fingerprint(s, false).0);
            }
        }
        x as usize & 0xff
    });
    // What a text with inlined values costs when its shape finds the fingerprint.
    let mut scratch = Vec::new();
    best("fingerprint::shape_hash", sql_bytes, || {
        let mut x = 0u64;
        for _ in 0..repeat * 4 {
            for s in &statements {
                let h = qperf::fingerprint::shape_hash(s, false, &mut scratch);
                x = x.wrapping_add(h.map_or(0, |h| h.hash));
            }
        }
        x as usize & 0xff
    });
}
