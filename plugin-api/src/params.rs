//! Parsing a strategy's `params` table (handed over as TOML text) into a typed struct, with error
//! messages that name the offending key.
//!
//! Use `#[serde(deny_unknown_fields)]` on the params struct so a typo is an error, not a default.

use serde::de::DeserializeOwned;

/// Parses `text` into `T`. Errors read `params.<key>: <what is wrong>` (or `params: …` when the
/// problem is not tied to one key, e.g. a missing field, whose name the message already gives).
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str::<T>(text).map_err(|e| describe(text, &e))
}

/// Checks how many markets the strategy was given: `want` is the accepted count (`1..=1`, `2..=2`,
/// `1..=usize::MAX`). The error reads `markets: … takes …, got N` (the config's key).
///
/// ```
/// assert!(plugin_api::params::markets(&["hl/BTC".into()], 1..=1).is_ok());
/// let e = plugin_api::params::markets(&["hl/BTC".into()], 2..=2).unwrap_err();
/// assert_eq!(e, "markets: this strategy takes exactly 2 markets, got 1 (hl/BTC)");
/// ```
pub fn markets(markets: &[String], want: std::ops::RangeInclusive<usize>) -> Result<(), String> {
    if want.contains(&markets.len()) {
        return Ok(());
    }
    let takes = match (*want.start(), *want.end()) {
        (a, b) if a == b => format!("exactly {a}"),
        (a, usize::MAX) => format!("at least {a}"),
        (a, b) => format!("{a} to {b}"),
    };
    Err(format!(
        "markets: this strategy takes {takes} markets, got {} ({})",
        markets.len(),
        markets.join(", ")
    ))
}

fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    // A missing key has no line of its own: the error's span is the whole table, whose first
    // line names some other key (`notional` missing was blamed on `cooldown_ms`).
    if msg.starts_with("missing field") {
        return format!("params: {msg}");
    }
    match e.span().and_then(|span| key_at(text, span.start)) {
        Some(key) => format!("params.{key}: {msg}"),
        None => format!("params: {msg}"),
    }
}

/// The dotted key whose line contains byte offset `at` (`section.key` under a `[section]` header).
fn key_at(text: &str, at: usize) -> Option<String> {
    let mut section: Option<&str> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = Some(trimmed.trim_matches(|c| c == '[' || c == ']').trim());
        }
        if at >= offset && at < end.max(offset + 1) {
            let key = trimmed.split('=').next()?.trim().trim_matches('"');
            if key.is_empty() || trimmed.starts_with('[') || !trimmed.contains('=') {
                return None;
            }
            return Some(match section {
                Some(s) => format!("{s}.{key}"),
                None => key.to_string(),
            });
        }
        offset = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        threshold_bps: Decimal,
        notional: Decimal,
    }

    #[test]
    fn names_the_key() {
        let e = parse::<P>("threshold_bps = \"abc\"\nnotional = 10\n").unwrap_err();
        assert!(e.starts_with("params.threshold_bps:"), "{e}");
        let e = parse::<P>("threshold_bps = 1\nnotional = 10\nthreshhold = 3\n").unwrap_err();
        assert!(e.contains("threshhold"), "{e}");
        let e = parse::<P>("threshold_bps = 1\n").unwrap_err();
        assert_eq!(e, "params: missing field `notional`");
    }

    #[test]
    fn decimals_from_toml_numbers_are_exact() {
        let p = parse::<P>("threshold_bps = 0.1\nnotional = 25\n").unwrap();
        assert_eq!(p.threshold_bps.to_string(), "0.1");
        assert_eq!(p.notional, Decimal::from(25));
    }
}
