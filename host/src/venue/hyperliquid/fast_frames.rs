//! The market frames read by hand, in the one form the venue sends each (`bbo`,
//! `activeAssetCtx`, `l2Book`): `WsMessage::parse` tries these first and leaves anything else to
//! serde. Property tests (`wire_tests`) check the two always agree.

use super::wire::{AssetCtx, WsAssetCtx, WsBbo, WsBook, WsLevel, fast_decimal};
use rust_decimal::Decimal;
use std::borrow::Cow;

/// The `bbo` frame in the one form the venue sends it, read by hand:
/// `{"channel":"bbo","data":{"coin":"…","time":N,"bbo":[L,L]}}`, each `L` either `null` or
/// `{"px":"…","sz":"…","n":N}`, no whitespace, the coin without escapes. This is the frame every
/// entry reacts to, and serde's generic map machinery was measurably slower on it
/// (docs/BENCHMARKS.md). Anything else (another key order, whitespace, an escape, a number the
/// fast decimal reader does not take, a leading zero, trailing bytes) returns None and the frame
/// takes the serde path, which then reads it or refuses it: the two always agree (tested).
pub(crate) fn bbo_fast(text: &str) -> Option<WsBbo<'_>> {
    let rest = text.strip_prefix(r#"{"channel":"bbo","data":{"coin":""#)?;
    let (coin, rest) = plain_str(rest)?;
    let rest = rest.strip_prefix(r#","time":"#)?;
    let (time, rest) = plain_u64(rest)?;
    let rest = rest.strip_prefix(r#","bbo":["#)?;
    let (bid, rest) = bbo_level(rest)?;
    let (ask, rest) = bbo_level(rest.strip_prefix(',')?)?;
    (rest == "]}}").then_some(WsBbo {
        coin: Cow::Borrowed(coin),
        time,
        bbo: [bid, ask],
    })
}

/// The `activeAssetCtx` frame in the venue's form, read by hand (half the market frames; serde
/// took ~520 ns on it): `{"channel":"activeAssetCtx","data":{"coin":"…","ctx":{…}}}`, the ctx a
/// flat object, in any key order, whose values are plain strings, `null`, or arrays of plain
/// strings (`impactPxs`). The four keys the host reads are taken as serde takes them; a
/// repeated one, a number, whitespace, an escape, or anything else returns None and serde
/// decides (the two agree: tested).
pub(crate) fn ctx_fast(text: &str) -> Option<WsAssetCtx<'_>> {
    let rest = text.strip_prefix(r#"{"channel":"activeAssetCtx","data":{"coin":""#)?;
    let (coin, rest) = plain_str(rest)?;
    let mut rest = rest.strip_prefix(r#","ctx":{"#)?;
    let mut fields: [Option<Option<&str>>; 4] = [None; 4];
    if let Some(r) = rest.strip_prefix('}') {
        rest = r;
    } else {
        loop {
            let (key, r) = plain_str(rest.strip_prefix('"')?)?;
            let r = r.strip_prefix(':')?;
            let (value, r) = if let Some(r) = r.strip_prefix("null") {
                (None, r)
            } else if let Some(r) = r.strip_prefix('"') {
                let (v, r) = plain_str(r)?;
                (Some(v), r)
            } else if let Some(mut r) = r.strip_prefix('[') {
                if let Some(x) = r.strip_prefix(']') {
                    r = x;
                } else {
                    loop {
                        let (_, x) = plain_str(r.strip_prefix('"')?)?;
                        if let Some(x) = x.strip_prefix(',') {
                            r = x;
                        } else {
                            r = x.strip_prefix(']')?;
                            break;
                        }
                    }
                }
                // An array is never one of the four (serde would refuse it there).
                if ["oraclePx", "markPx", "midPx", "funding"].contains(&key) {
                    return None;
                }
                (None, r)
            } else {
                return None;
            };
            let slot = match key {
                "oraclePx" => Some(0),
                "markPx" => Some(1),
                "midPx" => Some(2),
                "funding" => Some(3),
                _ => None,
            };
            if let Some(i) = slot {
                if fields[i].is_some() {
                    return None; // a repeated field: serde's error
                }
                fields[i] = Some(value);
            }
            if let Some(r) = r.strip_prefix(',') {
                rest = r;
            } else {
                rest = r.strip_prefix('}')?;
                break;
            }
        }
    }
    if rest != "}}" {
        return None;
    }
    let required = |f: Option<Option<&str>>| fast_decimal(f??);
    let optional = |f: Option<Option<&str>>| -> Option<Option<Decimal>> {
        match f {
            None | Some(None) => Some(None),
            Some(Some(v)) => fast_decimal(v).map(Some),
        }
    };
    Some(WsAssetCtx {
        coin: Cow::Borrowed(coin),
        ctx: AssetCtx {
            oracle_px: required(fields[0])?,
            mark_px: required(fields[1])?,
            mid_px: optional(fields[2])?,
            funding: optional(fields[3])?,
        },
    })
}

/// The `l2Book` frame in the venue's form, read by hand (a backtest of the archive parses
/// little else): `{"channel":"l2Book","data":{"coin":"…","time":N,"levels":[[L,…],[L,…]]}}`,
/// each `L` `{"px":"…","sz":"…","n":N}`. Anything else (a `spread` key, whitespace, another
/// order, a null level) returns None and serde decides (the two agree: tested).
pub(crate) fn book_fast(text: &str) -> Option<WsBook<'_>> {
    let rest = text.strip_prefix(r#"{"channel":"l2Book","data":{"coin":""#)?;
    let (coin, rest) = plain_str(rest)?;
    let rest = rest.strip_prefix(r#","time":"#)?;
    let (time, rest) = plain_u64(rest)?;
    let mut rest = rest.strip_prefix(r#","levels":["#)?;
    let mut sides: [Vec<WsLevel>; 2] = [Vec::new(), Vec::new()];
    for (i, side) in sides.iter_mut().enumerate() {
        if i == 1 {
            rest = rest.strip_prefix(',')?;
        }
        rest = rest.strip_prefix('[')?;
        if let Some(r) = rest.strip_prefix(']') {
            rest = r;
            continue;
        }
        loop {
            let (level, r) = bbo_level(rest)?;
            side.push(level?);
            if let Some(r) = r.strip_prefix(',') {
                rest = r;
            } else {
                rest = r.strip_prefix(']')?;
                break;
            }
        }
    }
    (rest == "]}}").then_some(WsBook {
        coin: Cow::Borrowed(coin),
        time,
        levels: sides,
    })
}

/// `null` or `{"px":"…","sz":"…","n":N}`.
fn bbo_level(s: &str) -> Option<(Option<WsLevel>, &str)> {
    if let Some(rest) = s.strip_prefix("null") {
        return Some((None, rest));
    }
    let (px, rest) = plain_str(s.strip_prefix(r#"{"px":""#)?)?;
    let (sz, rest) = plain_str(rest.strip_prefix(r#","sz":""#)?)?;
    let (n, rest) = plain_u64(rest.strip_prefix(r#","n":"#)?)?;
    let level = WsLevel {
        px: fast_decimal(px)?,
        sz: fast_decimal(sz)?,
        n: u32::try_from(n).ok()?,
    };
    Some((Some(level), rest.strip_prefix('}')?))
}

/// The body of a JSON string up to its closing quote (the opening one already read), when it
/// has no escape and no control character (what serde would refuse or unescape). Returns the
/// body and what follows the closing quote.
fn plain_str(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let end = b
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    (b[end] == b'"').then(|| (&s[..end], &s[end + 1..]))
}

/// A JSON unsigned integer as serde reads it into a u64: digits, no leading zero, no overflow
/// (a fraction or exponent is left to serde: the next byte then fails the caller's match).
fn plain_u64(s: &str) -> Option<(u64, &str)> {
    let b = s.as_bytes();
    let len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if len == 0 || (len > 1 && b[0] == b'0') {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &b[..len] {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some((v, &s[len..]))
}
