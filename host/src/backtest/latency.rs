//! The latency model of simulated execution (`[backtest] latency`): each batch's round trip.

use super::config::OnBad;
use super::config::{BacktestConfig, LatencyMode};
use super::data::{DataArg, DataError, Kind, Reader};
use crate::record::format::{self, Dir};
use rust_decimal::Decimal;

/// Round trips (ns), as the latency model hands them out.
#[derive(Debug, Clone)]
pub struct Latency {
    mode: LatencyMode,
    fixed_ns: u64,
    recorded: Vec<u64>,
    median: u64,
    next: usize,
    rng: crate::sim::market::Rng,
}

impl Latency {
    /// `recorded`: the data's own order round trips, in the order they happened.
    pub fn new(cfg: &BacktestConfig, recorded: Vec<u64>) -> Latency {
        let fixed_ns = (cfg.latency_ms * Decimal::from(1_000_000))
            .trunc()
            .try_into()
            .unwrap_or(2_000_000u64);
        let mut sorted = recorded.clone();
        sorted.sort_unstable();
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(fixed_ns);
        Latency {
            mode: if recorded.is_empty() {
                LatencyMode::Constant
            } else {
                cfg.latency
            },
            fixed_ns,
            recorded,
            median,
            next: 0,
            rng: crate::sim::market::Rng::new(cfg.seed),
        }
    }

    /// The model in use (`constant` when the data had no round trips).
    pub fn mode(&self) -> LatencyMode {
        self.mode
    }

    /// The round trips the data held.
    pub fn recorded(&self) -> &[u64] {
        &self.recorded
    }

    /// The next post's round trip.
    pub fn next_rtt(&mut self) -> u64 {
        match self.mode {
            LatencyMode::Constant => self.fixed_ns,
            LatencyMode::Recorded => {
                let r = self.recorded.get(self.next).copied().unwrap_or(self.median);
                self.next += 1;
                r
            }
            LatencyMode::Sampled => {
                let i = self.rng.below(self.recorded.len() as u64) as usize;
                self.recorded[i]
            }
        }
    }

    /// One way, for what the venue pushes on its own (a resting order's fill).
    pub fn push_delay(&self) -> u64 {
        match self.mode {
            LatencyMode::Constant => self.fixed_ns / 2,
            _ => self.median / 2,
        }
    }
}

/// Reads a recording's order round trips (an order post sent → its answer received), in the
/// order the posts were sent: what `latency = "recorded"` replays.
pub fn round_trips(args: &[DataArg]) -> Result<Vec<u64>, DataError> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for a in args {
        let mut r = Reader::open(a, OnBad::Skip)?;
        if r.kind != Kind::Recording {
            continue;
        }
        let mut sent: std::collections::HashMap<(String, u64), u64> = Default::default();
        while r.advance(&|_| false)? {
            let Ok(l) = format::parse_line(&r.line) else {
                continue;
            };
            let post = match l.dir {
                Dir::Out => {
                    l.payload.starts_with("{\"method\":\"post\"")
                        && l.payload.contains("\"type\":\"order\"")
                }
                Dir::In => l.payload.starts_with("{\"channel\":\"post\""),
                Dir::Session => false,
            };
            if !post {
                continue;
            }
            let Ok(v) = serde_json::from_str::<serde_json::Value>(l.payload) else {
                continue;
            };
            match l.dir {
                Dir::Out => {
                    if let Some(id) = v["id"].as_u64() {
                        sent.insert((l.venue.to_string(), id), l.t_ns);
                    }
                }
                _ => {
                    if let Some(id) = v["data"]["id"].as_u64()
                        && let Some(t0) = sent.remove(&(l.venue.to_string(), id))
                    {
                        out.push((t0, l.t_ns.saturating_sub(t0)));
                    }
                }
            }
        }
    }
    out.sort_by_key(|(t0, _)| *t0);
    Ok(out.into_iter().map(|(_, rtt)| rtt).collect())
}
