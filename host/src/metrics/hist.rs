//! Latency histograms with fixed bucket bounds (Prometheus `le` buckets): an observation is a
//! binary search over 14 bounds and two additions, cheap enough for every plugin call and every
//! order post.
//!
//! [`Histogram`] is for the engine thread (plugin calls: plain counters in the slot, copied out
//! once a second); [`SharedHistogram`] is written by a venue task and read by the metrics server's
//! thread (relaxed atomics: one writer, the reader only needs each counter to be some recent value).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds of the buckets, in nanoseconds (the last bucket, +Inf, is implicit).
pub const BOUNDS_NS: [u64; 14] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000, 50_000_000,
];

/// Bucket counts (not cumulative; the last one is +Inf) and the sum of what was observed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Histogram {
    pub counts: [u64; BOUNDS_NS.len() + 1],
    /// In the unit of the observations (ns, or timer ticks: see `scaled`).
    pub sum: u64,
}

impl Histogram {
    /// One observation against `bounds` (the same length as `BOUNDS_NS`, in the observation's unit).
    #[inline]
    pub fn observe_with(&mut self, bounds: &[u64; BOUNDS_NS.len()], v: u64) {
        let i = bounds.partition_point(|b| *b < v);
        self.counts[i] += 1;
        self.sum = self.sum.wrapping_add(v);
    }

    #[inline]
    pub fn observe_ns(&mut self, ns: u64) {
        self.observe_with(&BOUNDS_NS, ns);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum in seconds, for observations in a unit of which `units_per_us` make a microsecond
    /// (1000 for ns; the call timer's ticks per µs for plugin calls).
    pub fn sum_seconds(&self, units_per_us: u64) -> f64 {
        self.sum as f64 / (units_per_us.max(1) as f64 * 1e6)
    }

    /// Adds another histogram's counts (several strategies of one plugin, several venues).
    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        self.sum = self.sum.wrapping_add(o.sum);
    }

    /// The bucket bound (seconds) under which `q` of the observations fall (None: no
    /// observations; `inf` when in the +Inf bucket).
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let want = (q * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(BOUNDS_NS.get(i).map_or(f64::INFINITY, |b| *b as f64 / 1e9));
            }
        }
        Some(f64::INFINITY)
    }
}

/// A histogram one thread writes and another reads (ns observations).
#[derive(Debug, Default)]
pub struct SharedHistogram {
    counts: [AtomicU64; BOUNDS_NS.len() + 1],
    sum: AtomicU64,
}

impl SharedHistogram {
    #[inline]
    pub fn observe_ns(&self, ns: u64) {
        let i = BOUNDS_NS.partition_point(|b| *b < ns);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum.fetch_add(ns, Relaxed);
    }

    pub fn read(&self) -> Histogram {
        let mut h = Histogram {
            sum: self.sum.load(Relaxed),
            ..Histogram::default()
        };
        for (c, a) in h.counts.iter_mut().zip(&self.counts) {
            *c = a.load(Relaxed);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_values_up_to_their_bound() {
        let mut h = Histogram::default();
        h.observe_ns(1_000); // ≤ 1 µs
        h.observe_ns(1_001); // ≤ 2.5 µs
        h.observe_ns(60_000_000); // +Inf
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[BOUNDS_NS.len()], 1);
        assert_eq!(h.count(), 3);
        assert_eq!(h.sum, 60_002_001);
        assert_eq!(h.quantile_bound(0.5), Some(2.5e-6));
        assert_eq!(h.quantile_bound(1.0), Some(f64::INFINITY));
        let s = SharedHistogram::default();
        s.observe_ns(1_001);
        s.observe_ns(1_000);
        let r = s.read();
        assert_eq!((r.counts[0], r.counts[1], r.sum), (1, 1, 2_001));
    }
}
