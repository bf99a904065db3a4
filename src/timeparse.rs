//! Timestamps as logs write them, to milliseconds since the epoch.
//!
//! Times are kept in the log's own zone (the zone name is not applied): reports show them
//! as the log did, and `--since` / `--until` compare against the same wall clock.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v = 0u32;
    for c in b {
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn to_ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(
        ((days_from_civil(y, mo, d) * 24 + h as i64) * 60 + mi as i64) * 60_000
            + s as i64 * 1000
            + ms as i64,
    )
}

/// Parses `HH:MM:SS[.frac]` at the start of `b`; returns (h, m, s, ms, bytes used).
fn hms(b: &[u8]) -> Option<(u32, u32, u32, u32, usize)> {
    // Accept a one-digit hour (MySQL's `# Time: 071218  1:48:27`).
    let (h, rest) = if b.len() >= 2 && b[1] == b':' {
        (num(&b[..1])?, 2)
    } else {
        if b.len() < 3 || b[2] != b':' {
            return None;
        }
        (num(&b[..2])?, 3)
    };
    if b.len() < rest + 5 || b[rest + 2] != b':' {
        return None;
    }
    let mi = num(&b[rest..rest + 2])?;
    let (s, ms, used) = secs(&b[rest + 3..])?;
    Some((h, mi, s, ms, rest + 3 + used))
}

/// `SS[.frac]` at the start of `b`: (seconds, milliseconds, bytes used).
fn secs(b: &[u8]) -> Option<(u32, u32, usize)> {
    let s = num(b.get(..2)?)?;
    let mut used = 2;
    let mut ms = 0;
    if b.get(used) == Some(&b'.') {
        let start = used + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let frac = &b[start..end];
        let mut digits = [b'0'; 3];
        for (k, c) in frac.iter().take(3).enumerate() {
            digits[k] = *c;
        }
        ms = num(&digits)?;
        used = end;
    }
    Some((s, ms, used))
}

thread_local! {
    /// The minute (`YYYY-MM-DD HH:MM`) of the last time read on this thread and its
    /// epoch ms: a log's consecutive lines share it, and a line then costs only its
    /// seconds.
    static MINUTE: std::cell::Cell<([u8; 16], i64)> =
        const { std::cell::Cell::new(([0; 16], 0)) };
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.fff]` at the start of `s`. Returns the time and bytes used.
pub fn parse_iso(s: &[u8]) -> Option<(i64, usize)> {
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !(s[10] == b' ' || s[10] == b'T') {
        return None;
    }
    let two_digit_hour = s[13] == b':' && s[16] == b':';
    let minute: [u8; 16] = s[..16].try_into().ok()?;
    if two_digit_hour {
        let (key, base) = MINUTE.get();
        if key == minute {
            // The seconds as `hms` reads them, checked as `to_ms` checks them.
            let (sec, ms, used) = secs(&s[17..])?;
            if sec > 60 {
                return None;
            }
            return Some((base + i64::from(sec) * 1000 + i64::from(ms), 17 + used));
        }
    }
    let y = num(&s[0..4])? as i64;
    let mo = num(&s[5..7])?;
    let d = num(&s[8..10])?;
    let (h, mi, sec, ms, used) = hms(&s[11..])?;
    let t = to_ms(y, mo, d, h, mi, sec, ms)?;
    if two_digit_hour {
        MINUTE.set((minute, t - i64::from(sec) * 1000 - i64::from(ms)));
    }
    Some((t, 11 + used))
}

/// MySQL 5.1–5.6 `YYMMDD H:MM:SS` (one or two spaces).
pub fn parse_mysql_short(s: &[u8]) -> Option<i64> {
    if s.len() < 13 || !s[..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let y = 2000 + num(&s[0..2])? as i64;
    let mo = num(&s[2..4])?;
    let d = num(&s[4..6])?;
    let mut i = 6;
    while i < s.len() && s[i] == b' ' {
        i += 1;
    }
    let (h, mi, sec, ms, _) = hms(&s[i..])?;
    to_ms(y, mo, d, h, mi, sec, ms)
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Syslog's `Mon DD HH:MM:SS` (no year: `year` is assumed). Returns time and bytes used.
pub fn parse_syslog(s: &[u8], year: i64) -> Option<(i64, usize)> {
    if s.len() < 15 {
        return None;
    }
    let mo = MONTHS.iter().position(|m| *m == &s[..3])? as u32 + 1;
    let d = if s[4] == b' ' {
        num(&s[5..6])?
    } else {
        num(&s[4..6])?
    };
    if s[6] != b' ' {
        return None;
    }
    let (h, mi, sec, ms, used) = hms(&s[7..])?;
    Some((to_ms(year, mo, d, h, mi, sec, ms)?, 7 + used))
}

/// Epoch seconds with optional fraction (`%n`, `SET timestamp=`).
pub fn parse_epoch(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    let v = crate::scan::parse_decimal(text.trim())?;
    if !(0.0..1e11).contains(&v) {
        return None;
    }
    Some((v * 1000.0) as i64)
}

/// A user-given bound for `--since` / `--until`: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`.
pub fn parse_bound(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() == 10 {
        let mut full = b.to_vec();
        full.extend_from_slice(b" 00:00:00");
        return parse_iso(&full).map(|x| x.0);
    }
    if b.len() == 16 {
        let mut full = b.to_vec();
        full.extend_from_slice(b":00");
        return parse_iso(&full).map(|x| x.0);
    }
    parse_iso(b)
        .filter(|(_, used)| *used == b.len())
        .map(|x| x.0)
}

/// `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn format_ms(t: i64) -> String {
    let days = t.div_euclid(86_400_000);
    let rem = t.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, ms) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}")
}

/// The current year, for syslog timestamps that carry none.
pub fn current_year() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    civil_from_days(now / 86_400).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-thread minute cache returns what a full parse returns: runs of lines in
    /// one minute, minute changes, fractions of any length, bad seconds, `T`.
    #[test]
    fn cached_minutes_parse_like_a_full_parse() {
        fn full(s: &[u8]) -> Option<(i64, usize)> {
            let (h, mi, sec, ms, used) = hms(&s[11..])?;
            let t = to_ms(
                num(&s[0..4])? as i64,
                num(&s[5..7])?,
                num(&s[8..10])?,
                h,
                mi,
                sec,
                ms,
            )?;
            Some((t, 11 + used))
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut minute = 0u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed.is_multiple_of(7) {
                minute = seed >> 40;
            }
            let frac = ["", ".5", ".123", ".123456", ".", ".9z"][(seed >> 3) as usize % 6];
            let sec = [0, 7, 59, 60, 61, 99][(seed >> 6) as usize % 6];
            let s = format!(
                "2026-{:02}-{:02}{}{:02}:{:02}:{sec:02}{frac} UTC",
                1 + minute % 12,
                1 + (minute >> 4) % 28,
                if (minute >> 9).is_multiple_of(5) {
                    'T'
                } else {
                    ' '
                },
                (minute >> 12) % 24,
                (minute >> 17) % 60,
            );
            assert_eq!(parse_iso(s.as_bytes()), full(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn round_trips() {
        let (t, used) = parse_iso(b"2026-11-26 07:24:39.537 UTC").unwrap();
        assert_eq!(used, 23);
        assert_eq!(format_ms(t), "2026-11-26 07:24:39.537");
        assert_eq!(
            parse_mysql_short(b"071218 11:48:27")
                .map(format_ms)
                .unwrap(),
            "2007-12-18 11:48:27.000"
        );
        assert_eq!(
            parse_mysql_short(b"071218  1:48:27")
                .map(format_ms)
                .unwrap(),
            "2007-12-18 01:48:27.000"
        );
        assert_eq!(
            format_ms(parse_syslog(b"Feb 11 13:15:39 host", 2020).unwrap().0),
            "2020-02-11 13:15:39.000"
        );
        assert_eq!(
            format_ms(parse_epoch(b"1197996507").unwrap()),
            "2007-12-18 16:48:27.000"
        );
        assert_eq!(
            parse_bound("2026-11-26"),
            parse_iso(b"2026-11-26 00:00:00").map(|x| x.0)
        );
        assert!(parse_iso(b"2026-13-26 07:24:39").is_none());
    }
}
