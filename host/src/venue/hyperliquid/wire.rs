//! Inbound WebSocket frames, typed. `WsMessage::parse` dispatches on `channel` with a hand-written
//! map visitor (no `serde_json::Value`, no untagged or internally-tagged enums: those buffer the
//! whole frame). Prices and sizes are `Decimal`, parsed from the venue's strings.
//! Reference §1 (channels, shapes and quirks) and §6 (recorded frames).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub(crate) use super::fast_frames::{bbo_fast, book_fast, ctx_fast};

/// Deserializes a Decimal from the venue's string form (numbers are accepted too).
pub fn dec<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal string")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Decimal, E> {
            if let Some(d) = fast_decimal(s) {
                return Ok(d);
            }
            Decimal::from_str(s)
                .or_else(|_| Decimal::from_scientific(s))
                .map_err(|_| E::custom(format_args!("bad decimal {s:?}")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            // Only ever seen in docs' examples; real frames send strings.
            Decimal::from_str(&v.to_string()).map_err(|_| E::custom("bad decimal"))
        }
    }
    d.deserialize_any(V)
}

/// The venue's prices and sizes are plain `[-]digits[.digits]` of at most 18 digits: that form
/// is read straight into a mantissa and a scale (the general `Decimal::from_str` handles far more
/// and costs ~2× per number). Anything else returns None and takes the general path.
#[inline]
pub fn fast_decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut scale: u32 = 0;
    let mut seen_dot = false;
    let mut n_digits = 0;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + (c - b'0') as u64;
                n_digits += 1;
                if seen_dot {
                    scale += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if n_digits == 0 || n_digits > 18 || (seen_dot && scale == 0) || digits[0] == b'.' {
        return None;
    }
    let m = mantissa as i64;
    Some(Decimal::new(if neg { -m } else { m }, scale))
}

pub fn opt_dec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "dec")] Decimal);
    Option::<W>::deserialize(d).map(|o| o.map(|w| w.0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct WsLevel {
    #[serde(deserialize_with = "dec")]
    pub px: Decimal,
    #[serde(deserialize_with = "dec")]
    pub sz: Decimal,
    pub n: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsBbo<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    pub time: u64,
    pub bbo: [Option<WsLevel>; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsBook<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    pub time: u64,
    pub levels: [Vec<WsLevel>; 2],
}

/// The fields of an asset context the host uses (the rest are skipped unparsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AssetCtx {
    #[serde(rename = "oraclePx", deserialize_with = "dec")]
    pub oracle_px: Decimal,
    #[serde(rename = "markPx", deserialize_with = "dec")]
    pub mark_px: Decimal,
    #[serde(rename = "midPx", default, deserialize_with = "opt_dec")]
    pub mid_px: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub funding: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsAssetCtx<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    pub ctx: AssetCtx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WireSide {
    #[serde(rename = "B")]
    Bid,
    #[serde(rename = "A")]
    Ask,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsBasicOrder<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    pub side: WireSide,
    #[serde(rename = "limitPx", deserialize_with = "dec")]
    pub limit_px: Decimal,
    /// Unfilled remainder ("0.0" once filled; the remainder on a cancel).
    #[serde(deserialize_with = "dec")]
    pub sz: Decimal,
    pub oid: u64,
    pub timestamp: u64,
    #[serde(rename = "origSz", deserialize_with = "dec")]
    pub orig_sz: Decimal,
    /// Absent (not null) when the order had no cloid.
    #[serde(default, borrow)]
    pub cloid: Option<Cow<'a, str>>,
    #[serde(rename = "reduceOnly", default)]
    pub reduce_only: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsOrderUpdate<'a> {
    #[serde(borrow)]
    pub order: WsBasicOrder<'a>,
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    #[serde(rename = "statusTimestamp")]
    pub status_timestamp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsFill<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    #[serde(deserialize_with = "dec")]
    pub px: Decimal,
    #[serde(deserialize_with = "dec")]
    pub sz: Decimal,
    pub side: WireSide,
    pub time: u64,
    #[serde(rename = "closedPnl", default, deserialize_with = "opt_dec")]
    pub closed_pnl: Option<Decimal>,
    pub oid: u64,
    #[serde(deserialize_with = "dec")]
    pub fee: Decimal,
    pub tid: u64,
    #[serde(default, borrow)]
    pub cloid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub hash: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsUserFills<'a> {
    #[serde(rename = "isSnapshot", default)]
    pub is_snapshot: bool,
    #[serde(borrow)]
    pub user: Cow<'a, str>,
    #[serde(borrow)]
    pub fills: Vec<WsFill<'a>>,
}

/// `user` channel (userEvents): fills, funding, liquidation or non-user cancels.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WsUserEvent<'a> {
    #[serde(default, borrow)]
    pub fills: Option<Vec<WsFill<'a>>>,
    #[serde(rename = "nonUserCancel", default, borrow)]
    pub non_user_cancel: Option<Vec<NonUserCancel<'a>>>,
    #[serde(default)]
    pub liquidation: Option<IgnoredAny>,
    #[serde(default)]
    pub funding: Option<IgnoredAny>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NonUserCancel<'a> {
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    pub oid: u64,
}

/// `{"id":…,"response":{"type":"action"|"info"|"error","payload":…}}`
#[derive(Debug, Clone, Deserialize)]
pub struct WsPost<'a> {
    pub id: u64,
    #[serde(borrow)]
    pub response: PostResponse<'a>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum PostResponse<'a> {
    #[serde(rename = "action")]
    Action(ExchangeResponse<'a>),
    #[serde(rename = "info", borrow)]
    Info(&'a serde_json::value::RawValue),
    #[serde(rename = "error")]
    Error(Cow<'a, str>),
}

/// The `/exchange` answer (HTTP 200 even for rejections: always read it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "status", content = "response")]
pub enum ExchangeResponse<'a> {
    #[serde(rename = "ok", borrow)]
    Ok(OkResponse<'a>),
    #[serde(rename = "err")]
    Err(Cow<'a, str>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OkResponse<'a> {
    #[serde(rename = "order")]
    Order {
        #[serde(borrow)]
        statuses: Vec<OrderStatusItem<'a>>,
    },
    #[serde(rename = "cancel")]
    Cancel {
        #[serde(borrow)]
        statuses: Vec<CancelStatusItem<'a>>,
    },
    #[serde(rename = "default")]
    Default,
    #[serde(other)]
    Other,
}

/// One entry of an order response: `{"resting":…}`, `{"filled":…}`, `{"error":"…"}`, or a bare
/// string (`"waitingForFill"`, `"waitingForTrigger"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum OrderStatusItem<'a> {
    #[serde(rename = "resting")]
    Resting { oid: u64 },
    #[serde(rename = "filled")]
    Filled {
        #[serde(rename = "totalSz", deserialize_with = "dec")]
        total_sz: Decimal,
        #[serde(rename = "avgPx", deserialize_with = "dec")]
        avg_px: Decimal,
        oid: u64,
    },
    #[serde(rename = "error", borrow)]
    Error(Cow<'a, str>),
    #[serde(rename = "waitingForFill")]
    WaitingForFill,
    #[serde(rename = "waitingForTrigger")]
    WaitingForTrigger,
    #[serde(rename = "success")]
    Success,
}

/// One entry of a cancel response: `"success"` or `{"error":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum CancelStatusItem<'a> {
    #[serde(rename = "success")]
    Success,
    #[serde(rename = "error", borrow)]
    Error(Cow<'a, str>),
}

/// One inbound frame.
#[derive(Debug, Clone)]
pub enum WsMessage<'a> {
    Bbo(WsBbo<'a>),
    L2Book(WsBook<'a>),
    /// `activeAssetCtx` (perp) or `activeSpotAssetCtx` (spot; `is_spot`).
    AssetCtx {
        ctx: WsAssetCtx<'a>,
        is_spot: bool,
    },
    OrderUpdates(Vec<WsOrderUpdate<'a>>),
    UserFills(WsUserFills<'a>),
    /// The `user` channel (userEvents).
    User(WsUserEvent<'a>),
    Post(WsPost<'a>),
    Pong,
    Error(Cow<'a, str>),
    SubscriptionResponse,
    /// The plain-text frame the server sends on connect.
    Connected,
    /// A channel this host does not use (counted, logged once).
    Unknown(Cow<'a, str>),
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable frame: {0}")]
pub struct FrameError(#[from] serde_json::Error);

impl<'a> WsMessage<'a> {
    /// Parses one text frame.
    pub fn parse(text: &'a str) -> Result<WsMessage<'a>, FrameError> {
        if let Some(b) = bbo_fast(text) {
            return Ok(WsMessage::Bbo(b));
        }
        if let Some(b) = book_fast(text) {
            return Ok(WsMessage::L2Book(b));
        }
        if let Some(ctx) = ctx_fast(text) {
            return Ok(WsMessage::AssetCtx {
                ctx,
                is_spot: false,
            });
        }
        if text.starts_with("Websocket connection established") {
            return Ok(WsMessage::Connected);
        }
        Ok(serde_json::from_str(text)?)
    }
}

impl<'de> Deserialize<'de> for WsMessage<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FrameVisitor)
    }
}

struct FrameVisitor;

/// Reads `data` for a known channel.
fn data<'de, A: MapAccess<'de>>(channel: &str, map: &mut A) -> Result<WsMessage<'de>, A::Error> {
    Ok(match channel {
        "bbo" => WsMessage::Bbo(map.next_value()?),
        "l2Book" => WsMessage::L2Book(map.next_value()?),
        "activeAssetCtx" => WsMessage::AssetCtx {
            ctx: map.next_value()?,
            is_spot: false,
        },
        "activeSpotAssetCtx" => WsMessage::AssetCtx {
            ctx: map.next_value()?,
            is_spot: true,
        },
        "orderUpdates" => WsMessage::OrderUpdates(map.next_value()?),
        "userFills" => WsMessage::UserFills(map.next_value()?),
        "user" => WsMessage::User(map.next_value()?),
        "post" => WsMessage::Post(map.next_value()?),
        "error" => WsMessage::Error(map.next_value()?),
        "pong" => {
            map.next_value::<IgnoredAny>()?;
            WsMessage::Pong
        }
        "subscriptionResponse" => {
            map.next_value::<IgnoredAny>()?;
            WsMessage::SubscriptionResponse
        }
        other => {
            map.next_value::<IgnoredAny>()?;
            WsMessage::Unknown(Cow::Owned(other.to_string()))
        }
    })
}

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = WsMessage<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a {\"channel\":…,\"data\":…} frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Keys and channel names are fixed ASCII: borrowed, never allocated.
        let mut channel: Option<&'de str> = None;
        let mut out: Option<WsMessage<'de>> = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "channel" => channel = Some(map.next_value()?),
                "data" => match &channel {
                    Some(c) => out = Some(data(c, &mut map)?),
                    // The venue always sends `channel` first; a frame that does not is refused
                    // (and counted) rather than buffered.
                    None => return Err(de::Error::custom("`data` before `channel`")),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let channel = channel.ok_or_else(|| de::Error::missing_field("channel"))?;
        match out {
            Some(m) => Ok(m),
            None if channel == "pong" => Ok(WsMessage::Pong),
            None => Err(de::Error::missing_field("data")),
        }
    }
}
