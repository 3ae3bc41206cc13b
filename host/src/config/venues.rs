//! The `[[venues]]` entries: their common keys (`name`, `kind`, `mode`, `sim`), then each kind's
//! own, and the checks that span venues and strategies.

use super::{Config, ConfigError};
use crate::venue::hyperliquid::config::HlVenueConfig;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeValue, ValueDeserializer};

/// One `[[venues]]` entry: a connection to one exchange account, of one `kind`.
#[derive(Debug, Clone)]
pub struct VenueConfig {
    /// The venue part of market keys (`hl` in `hl/BTC`).
    pub name: Spanned<String>,
    pub kind: VenueKind,
    /// `[venues.sim]`: a simulator the host starts in-process for this entry (a kind that
    /// wants one and has no URL to connect to).
    pub sim: Option<crate::sim::config::SimConfig>,
    /// `mode = "live" | "paper"`: paper reads the venue's market data and fills orders locally
    /// (`paper`); `run --paper` sets it on every entry.
    pub mode: crate::paper::config::VenueMode,
}

/// The venue kinds the host speaks, each with its own keys. `runtime` matches on this once.
#[derive(Debug, Clone)]
pub enum VenueKind {
    /// `kind = "hyperliquid"`.
    Hyperliquid(HlVenueConfig),
}

impl VenueKind {
    /// The names accepted for `kind`.
    pub const NAMES: &'static [&'static str] = &["hyperliquid"];
}

impl Config {
    pub(super) fn check_venues(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for v in &self.raw.venues {
            if !names.insert(v.name.get_ref().clone()) {
                return Err(self.error_at(
                    v.name.span().start,
                    format!("duplicate venue name `{}`", v.name.get_ref()),
                ));
            }
            match &v.kind {
                VenueKind::Hyperliquid(h) => h
                    .check(v.name.get_ref(), v.mode.is_paper())
                    .map_err(|(at, why)| self.error_at(at.unwrap_or(v.name.span().start), why))?,
            }
        }
        if let (Some(p), Some(l)) = (
            self.raw.venues.iter().find(|v| v.mode.is_paper()),
            self.raw.venues.iter().find(|v| !v.mode.is_paper()),
        ) {
            return Err(self.error_at(
                p.name.span().start,
                format!(
                    "venue `{}` is paper and venue `{}` is live: a run is all paper or all live \
                     (the gates' totals would mix simulated and real exposure); set `mode` on \
                     both, or use `run --paper`",
                    p.name.get_ref(),
                    l.name.get_ref()
                ),
            ));
        }
        if !self.raw.venues.is_empty() {
            for s in &self.raw.strategies {
                for m in s.markets.get_ref() {
                    let (venue, coin) = m.get_ref().split_once('/').unwrap_or(("", ""));
                    // A simulator the host starts must list every coin traded on it.
                    let sim = self
                        .raw
                        .venues
                        .iter()
                        .find(|v| v.name.get_ref() == venue)
                        .and_then(|v| v.sim.as_ref());
                    if let Some(sim) = sim
                        && !sim.markets.iter().any(|sm| sm.coin == coin)
                    {
                        return Err(self.error_at(
                            m.span().start,
                            format!(
                                "market `{}`: the simulator of venue `{venue}` has no coin `{coin}` (its [[venues.sim.markets]] list it)",
                                m.get_ref()
                            ),
                        ));
                    }
                    if !names.contains(venue) {
                        return Err(self.error_at(
                            m.span().start,
                            format!(
                                "market `{}` names venue `{venue}`, which is not in [[venues]]",
                                m.get_ref()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The `[[venues]]` array: each entry's `name` and `kind` first, then the rest of its keys as
/// that kind defines them (spans kept: errors still point into the file). An error is the byte
/// offset it is about and its message.
pub(super) fn parse_venues(v: Spanned<DeValue<'_>>) -> Result<Vec<VenueConfig>, (usize, String)> {
    let located = |at: usize| {
        move |e: toml::de::Error| {
            let at = e.span().map_or(at, |s| s.start);
            (at, e.message().trim().replace('\n', " "))
        }
    };
    let at = v.span().start;
    let DeValue::Array(entries) = v.into_inner() else {
        return Err((
            at,
            "`venues` must be an array of tables ([[venues]])".into(),
        ));
    };
    let mut out = Vec::new();
    for entry in entries {
        let span = entry.span();
        let DeValue::Table(mut t) = entry.into_inner() else {
            return Err((span.start, "a `venues` entry must be a table".into()));
        };
        let mut take = |key: &str| -> Result<Spanned<String>, (usize, String)> {
            match t.remove(key) {
                Some(v) => Spanned::<String>::deserialize(ValueDeserializer::from(v))
                    .map_err(located(span.start)),
                None => Err((span.start, format!("missing field `{key}`"))),
            }
        };
        let name = take("name")?;
        let kind_name = take("kind")?;
        let sim = match t.remove("sim") {
            Some(v) => Some(
                crate::sim::config::SimConfig::deserialize(ValueDeserializer::from(v))
                    .map_err(located(span.start))?,
            ),
            None => None,
        };
        let mode = match t.remove("mode") {
            Some(v) => crate::paper::config::VenueMode::deserialize(ValueDeserializer::from(v))
                .map_err(located(span.start))?,
            None => Default::default(),
        };
        let rest = Spanned::new(span.clone(), DeValue::Table(t));
        let kind = match kind_name.get_ref().as_str() {
            "hyperliquid" => VenueKind::Hyperliquid(
                HlVenueConfig::deserialize(ValueDeserializer::from(rest))
                    .map_err(located(span.start))?,
            ),
            other => {
                return Err((
                    kind_name.span().start,
                    format!(
                        "unknown venue kind `{other}` (known: {})",
                        VenueKind::NAMES.join(", ")
                    ),
                ));
            }
        };
        out.push(VenueConfig {
            name,
            kind,
            sim,
            mode,
        });
    }
    Ok(out)
}
