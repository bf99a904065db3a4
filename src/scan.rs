//! Byte-level helpers for the per-line hot path, where `str::find` with a string
//! pattern (a searcher built per call) and `str::parse::<f64>` showed up in profiles.

/// The first position of `needle` in `hay` (short needles, short haystacks).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    find_bytes(hay.as_bytes(), needle.as_bytes())
}

/// [`find`] for bytes.
pub fn find_bytes(h: &[u8], n: &[u8]) -> Option<usize> {
    let first = *n.first()?;
    memchr::memchr_iter(first, h).find(|&i| h[i..].starts_with(n))
}

/// The first position of `b` in a short `hay` (a line prefix): eight bytes at a time in
/// a register, where a `memchr` call's setup costs more than the few dozen bytes it
/// searches and a byte loop takes a branch per byte.
#[inline]
pub fn byte(hay: &[u8], b: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let splat = ONES * u64::from(b);
    let mut i = 0;
    while let Some(w) = hay.get(i..i + 8) {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) ^ splat;
        // A zero byte of `x` is a match; the lowest flagged byte is always a true one.
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay[i..].iter().position(|&c| c == b).map(|k| i + k)
}

/// Every position of `b` in a short `hay`, by [`byte`].
pub fn positions(hay: &[u8], b: u8) -> impl Iterator<Item = usize> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        let p = from + byte(hay.get(from..)?, b)?;
        from = p + 1;
        Some(p)
    })
}

/// The positions of `\n` in `data`, in order: 64 bytes at a time into a bit mask, then
/// bit by bit. Log lines average a few dozen bytes, and a `memchr` call per line spent
/// more on its setup than on the search (a twentieth of reading a slow log).
pub fn newlines(data: &[u8]) -> Newlines<'_> {
    Newlines {
        data,
        next: 0,
        base: 0,
        mask: 0,
    }
}

pub struct Newlines<'a> {
    data: &'a [u8],
    /// Where the next block starts.
    next: usize,
    /// Where the block of `mask` starts.
    base: usize,
    /// Bit k: a `\n` at `base + k` not yet returned.
    mask: u64,
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let rest = self.data.get(self.next..).filter(|r| !r.is_empty())?;
            self.base = self.next;
            self.mask = match rest.first_chunk::<64>() {
                Some(block) => newline_mask(block),
                None => rest
                    .iter()
                    .enumerate()
                    .fold(0, |m, (k, &c)| m | (u64::from(c == b'\n') << k)),
            };
            self.next += rest.len().min(64);
        }
        let k = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + k)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn newline_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let mut m = 0u64;
    for (i, part) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 target; `part` is 16 readable bytes and
        // loadu has no alignment requirement.
        let bits = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8))) as u16
        };
        m |= u64::from(bits) << (16 * i);
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn newline_mask(block: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (k, &c) in block.iter().enumerate() {
        m |= u64::from(c == b'\n') << k;
    }
    m
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
    fn newlines_are_every_line_feed() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in (0..300).chain([1000, 4096, 4097]) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Sparse and dense line feeds, and bytes next to them (\r, 0x0a + 0x80).
            let dense = 1 + seed % 8;
            let data: Vec<u8> = (0..len as u64)
                .map(
                    |i| match (seed >> (i % 50)).wrapping_add(i * 7) % (dense * 3) {
                        0 => b'\n',
                        1 => b'\r',
                        2 => 0x8a,
                        _ => b'a',
                    },
                )
                .collect();
            let want: Vec<usize> = (0..data.len()).filter(|&i| data[i] == b'\n').collect();
            assert_eq!(newlines(&data).collect::<Vec<_>>(), want, "{data:?}");
        }
        assert_eq!(newlines(&[b'\n'; 64]).count(), 64);
        assert_eq!(newlines(b"").next(), None);
    }

    #[test]
    fn byte_agrees_with_position() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            // Few distinct bytes, high ones included, so matches, near-misses (0x3b,
            // 0xba) and several matches per word all occur.
            let hay: Vec<u8> = (0..len)
                .map(|i| [b':', b';', 0xba, b'a', 0x00, 0xff][((seed >> (i % 60)) % 6) as usize])
                .collect();
            for b in [b':', 0x00, 0xff] {
                assert_eq!(
                    byte(&hay, b),
                    hay.iter().position(|&c| c == b),
                    "{hay:?} {b}"
                );
                let all: Vec<usize> = (0..hay.len()).filter(|&i| hay[i] == b).collect();
                assert_eq!(positions(&hay, b).collect::<Vec<_>>(), all, "{hay:?} {b}");
            }
        }
    }

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
