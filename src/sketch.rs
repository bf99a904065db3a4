//! One fingerprint's durations as a DDSketch with 1 % relative error.
//!
//! The bucket mapping (key of a value, value of a key) is `sketches-ddsketch`'s own
//! `Config`, and the quantile rule is the same as its `DDSketch::quantile`, so the
//! figures are the crate's to the bit. Only the bucket store differs: the crate keeps
//! 64-bit counts in steps of 128 buckets, which for thousands of fingerprints made
//! memory grow with the log (each new extreme duration added another 1 KiB step).
//! Here a fingerprint holds 32-bit counts for exactly the keys between its fastest and
//! slowest call, and switches to 64-bit counts only if one bucket passes 2^32 calls.

use std::sync::LazyLock;

use sketches_ddsketch::Config;

/// The crate's default: beyond this many buckets the lowest ones merge, as the
/// crate's collapsing store does (2,048 buckets at 1 % cover a range of 10^17).
const MAX_BINS: usize = 2048;
/// Values at or below this go to the zero bucket in the crate; callers keep
/// durations above it (a 0 ms call counts as 1e-6 ms).
const MIN_VALUE: f64 = 1e-9;

#[derive(Clone, Debug)]
enum Bins {
    Narrow(Box<[u32]>),
    Wide(Box<[u64]>),
}

impl Bins {
    fn len(&self) -> usize {
        match self {
            Bins::Narrow(b) => b.len(),
            Bins::Wide(b) => b.len(),
        }
    }

    fn get(&self, i: usize) -> u64 {
        match self {
            Bins::Narrow(b) => u64::from(b[i]),
            Bins::Wide(b) => b[i],
        }
    }

    fn add(&mut self, i: usize, n: u64) {
        match self {
            Bins::Narrow(b) => match u32::try_from(u64::from(b[i]) + n) {
                Ok(v) => b[i] = v,
                Err(_) => {
                    let mut wide: Box<[u64]> = b.iter().map(|&c| u64::from(c)).collect();
                    wide[i] += n;
                    *self = Bins::Wide(wide);
                }
            },
            Bins::Wide(b) => b[i] += n,
        }
    }

    /// The same counts with `below` empty buckets before them and `above` after.
    fn widened(&self, below: usize, above: usize) -> Bins {
        fn pad<T: Copy + Default>(b: &[T], below: usize, above: usize) -> Box<[T]> {
            let mut v = Vec::with_capacity(below + b.len() + above);
            v.resize(below, T::default());
            v.extend_from_slice(b);
            v.resize(below + b.len() + above, T::default());
            v.into_boxed_slice()
        }
        match self {
            Bins::Narrow(b) => Bins::Narrow(pad(b, below, above)),
            Bins::Wide(b) => Bins::Wide(pad(b, below, above)),
        }
    }

    /// Drops the first `n` buckets, adding their counts to the one after them.
    fn collapse_lowest(&mut self, n: usize) {
        let moved: u64 = (0..n).map(|i| self.get(i)).sum();
        *self = match self {
            Bins::Narrow(b) => Bins::Narrow(b[n..].into()),
            Bins::Wide(b) => Bins::Wide(b[n..].into()),
        };
        self.add(0, moved);
    }
}

/// Positive durations (callers clamp them above [`MIN_VALUE`]).
#[derive(Clone, Debug)]
pub struct Sketch {
    /// `bins[i]` counts the values of key `offset + i`.
    bins: Bins,
    offset: i32,
    count: u64,
    /// Once the lowest buckets have merged, lower values count in the lowest one.
    collapsed: bool,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            bins: Bins::Narrow(Box::new([])),
            offset: 0,
            count: 0,
            collapsed: false,
        }
    }
}

/// Built once: `Config::defaults()` takes two logarithms.
static CONFIG: LazyLock<Config> = LazyLock::new(Config::defaults);

fn config() -> &'static Config {
    &CONFIG
}

impl Sketch {
    pub fn add(&mut self, v: f64) {
        debug_assert!(v > MIN_VALUE);
        let key = config().key(v);
        let len = self.bins.len() as i64;
        let (key64, offset) = (i64::from(key), i64::from(self.offset));
        let idx = if len == 0 {
            self.bins = Bins::Narrow(Box::new([0]));
            self.offset = key;
            0
        } else if key64 < offset {
            if self.collapsed {
                0
            } else {
                let below = (offset - key64) as usize;
                if below + len as usize > MAX_BINS {
                    // Keep the top MAX_BINS keys; this value lands in the lowest kept.
                    let grow = MAX_BINS - len as usize;
                    self.bins = self.bins.widened(grow, 0);
                    self.offset -= grow as i32;
                    self.collapsed = true;
                    0
                } else {
                    self.bins = self.bins.widened(below, 0);
                    self.offset = key;
                    0
                }
            }
        } else if key64 >= offset + len {
            let above = (key64 - offset - len + 1) as usize;
            self.bins = self.bins.widened(0, above);
            let over = self.bins.len().saturating_sub(MAX_BINS);
            if over > 0 {
                self.bins.collapse_lowest(over);
                self.offset += over as i32;
                self.collapsed = true;
            }
            (key - self.offset) as usize
        } else {
            (key64 - offset) as usize
        };
        self.bins.add(idx, 1);
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at quantile `q` (0–1) as `DDSketch::quantile` gives it: `min` and
    /// `max` (the smallest and largest value added) at the ends, else the bucket of
    /// rank `q·(n-1)`.
    pub fn quantile(&self, q: f64, min: f64, max: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        if q == 0.0 {
            return Some(min);
        }
        if q == 1.0 {
            return Some(max);
        }
        let rank = (q * (self.count as f64 - 1.0)) as u64;
        let mut seen = 0;
        let last = self.bins.len() - 1;
        let i = (0..=last)
            .find(|&i| {
                seen += self.bins.get(i);
                seen > rank
            })
            .unwrap_or(last);
        Some(config().value(self.offset + i as i32))
    }

    /// Heap bytes held, for tests that pin the store's size.
    pub fn heap_bytes(&self) -> usize {
        match &self.bins {
            Bins::Narrow(b) => b.len() * 4,
            Bins::Wide(b) => b.len() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sketches_ddsketch::DDSketch;

    /// A small deterministic generator (xorshift) so the test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn both(values: &[f64]) -> (Sketch, DDSketch) {
        let mut ours = Sketch::default();
        let mut theirs = DDSketch::new(Config::defaults());
        for &v in values {
            ours.add(v);
            theirs.add(v);
        }
        (ours, theirs)
    }

    fn assert_same(values: &[f64]) {
        let (ours, theirs) = both(values);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        assert_eq!(ours.count(), theirs.count() as u64);
        for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(
                ours.quantile(q, min, max).map(f64::to_bits),
                theirs.quantile(q).unwrap().map(f64::to_bits),
                "q={q} over {} values",
                values.len()
            );
        }
    }

    #[test]
    fn quantiles_are_the_crates_to_the_bit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..300 {
            let n = 1 + (rng.next() * 3000.0) as usize;
            // Log-normal-ish spreads from a few buckets to twelve orders of magnitude,
            // in arrival orders that grow the range up, down and both ways.
            let spread = [0.5, 3.0, 12.0, 28.0][round % 4];
            let mut values: Vec<f64> = (0..n)
                .map(|_| (rng.next() * spread).exp() * 1e-3 + 1e-6)
                .collect();
            match round % 3 {
                1 => values.sort_by(f64::total_cmp),
                2 => values.sort_by(|a, b| b.total_cmp(a)),
                _ => {}
            }
            assert_same(&values);
        }
        assert_same(&[1e-6]);
        assert_same(&[5.0, 5.0, 5.0]);
    }

    #[test]
    fn beyond_the_bucket_limit_the_lowest_merge_as_in_the_crate() {
        // 2,048 buckets at 1 % span about 10^17; these values span 10^40.
        let up: Vec<f64> = (0..400)
            .map(|i| 1e-6 * 10f64.powf(i as f64 / 10.0))
            .collect();
        assert_same(&up);
        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert_same(&down);
        let (ours, _) = both(&up);
        assert_eq!(ours.heap_bytes(), MAX_BINS * 4);
    }

    #[test]
    fn holds_only_the_keys_between_the_extremes_in_32_bits() {
        // 1 ms .. 100 ms at 1 % is 233 keys; the crate's store holds 256 × 8 bytes.
        let values: Vec<f64> = (0..10_000).map(|i| 1.0 + (i % 100) as f64).collect();
        let (ours, theirs) = both(&values);
        let keys = (config().key(100.0) - config().key(1.0) + 1) as usize;
        assert_eq!(ours.heap_bytes(), keys * 4);
        assert!(theirs.length() * 8 >= 2 * ours.heap_bytes());
    }

    #[test]
    fn a_bucket_past_32_bits_widens_without_losing_counts() {
        let mut s = Sketch::default();
        s.add(2.0);
        s.add(8.0);
        s.bins.add(0, u64::from(u32::MAX));
        s.count += u64::from(u32::MAX);
        assert!(matches!(s.bins, Bins::Wide(_)));
        assert_eq!(s.bins.get(0), u64::from(u32::MAX) + 1);
        assert_eq!(
            s.quantile(0.5, 2.0, 8.0),
            Some(config().value(config().key(2.0)))
        );
    }
}
