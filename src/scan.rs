//! Byte-level helpers for the per-line hot path, where `str::find` with a string
//! pattern (a searcher built per call) and `str::parse::<f64>` showed up in profiles.

/// The first position of `needle` in `hay` (short needles, short haystacks).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    memchr::memchr_iter(first, h).find(|&i| h[i..].starts_with(n))
}

/// The first position of `b` in a short `hay` (a prefix field): a plain loop, where a
/// `memchr` call's setup costs more than the few bytes it searches.
#[inline]
pub fn byte(hay: &[u8], b: u8) -> Option<usize> {
    hay.iter().position(|&c| c == b)
}

/// A decimal number as `str::parse::<f64>` reads it. Up to 15 digits the value is an
/// exact integer divided by an exact power of ten, which IEEE division rounds just as
/// a correct parse does; anything else goes to the general parser.
pub fn parse_decimal(t: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let mut m: u64 = 0;
    let (mut digits, mut frac, mut dot) = (0usize, 0usize, false);
    for &c in t.as_bytes() {
        match c {
            b'0'..=b'9' if digits < 15 => {
                m = m * 10 + u64::from(c - b'0');
                digits += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return t.parse().ok(),
        }
    }
    if digits == 0 {
        return t.parse().ok();
    }
    Some(m as f64 / POW10[frac])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_str_find() {
        for (h, n) in [
            ("abc Id: 12", "Id:"),
            ("IId:", "Id:"),
            ("", "x"),
            ("x", "xy"),
            ("aaab", "ab"),
        ] {
            assert_eq!(find(h, n), h.find(n), "{h:?} {n:?}");
        }
    }
}
