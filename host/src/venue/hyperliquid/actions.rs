//! Exchange actions, serialized with their keys in the venue's order (msgpack for the hash, JSON
//! for the wire: the same value makes both, so the strings hashed are the strings sent).
//! Optional keys are omitted, not null; integers are encoded in their smallest msgpack form.

use super::signing::{Address, PrivateKey, Signature};
use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;

/// A short wire string (an order's price, size or cloid) held inline, so building an order
/// allocates nothing for its strings. Serialized as a string; at most `WireStr::CAP` bytes (a
/// `Decimal`'s longest form is 31, a cloid 34).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WireStr {
    len: u8,
    buf: [u8; WireStr::CAP],
}

/// A string longer than `WireStr::CAP` bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wire string of {0} bytes (at most {cap})", cap = WireStr::CAP)]
pub struct TooLong(pub usize);

impl WireStr {
    pub const CAP: usize = 40;

    const EMPTY: WireStr = WireStr {
        len: 0,
        buf: [0; WireStr::CAP],
    };

    pub fn new(s: &str) -> Result<WireStr, TooLong> {
        let mut w = WireStr::EMPTY;
        w.push(s.as_bytes())?;
        Ok(w)
    }

    /// Appends `b`, which is UTF-8 (a whole `&str`, or ASCII digits and signs).
    fn push(&mut self, b: &[u8]) -> Result<(), TooLong> {
        let (start, end) = (self.len as usize, self.len as usize + b.len());
        if end > WireStr::CAP {
            return Err(TooLong(end));
        }
        self.buf[start..end].copy_from_slice(b);
        self.len = end as u8;
        Ok(())
    }

    /// The canonical wire form of a price or size (`tick::wire`'s, without the allocation or
    /// the formatting machinery): the normalized mantissa's digits with the point `scale` digits
    /// from the right, `0.` and zeros in front when the number is below one.
    pub fn decimal(d: Decimal) -> WireStr {
        let n = d.normalize();
        let mut digits = [0u8; 29]; // a 96-bit mantissa has at most 29 digits
        let mut m = n.mantissa().unsigned_abs();
        let mut len = 0;
        loop {
            digits[digits.len() - 1 - len] = b'0' + (m % 10) as u8;
            m /= 10;
            len += 1;
            if m == 0 {
                break;
            }
        }
        let digits = &digits[digits.len() - len..];
        let scale = n.scale() as usize;
        let mut w = WireStr::EMPTY;
        let mut write = || -> Result<(), TooLong> {
            if n.is_sign_negative() && !n.is_zero() {
                w.push(b"-")?;
            }
            if scale == 0 {
                w.push(digits)
            } else if scale >= len {
                w.push(b"0.")?;
                for _ in 0..scale - len {
                    w.push(b"0")?;
                }
                w.push(digits)
            } else {
                w.push(&digits[..len - scale])?;
                w.push(b".")?;
                w.push(&digits[len - scale..])
            }
        };
        // Longest forms: sign + "0." + `scale` digits (scale ≤ 28) and sign + 29 digits + ".",
        // 31 bytes each: within CAP.
        write().expect("a Decimal's wire form is at most 31 bytes");
        w
    }

    pub fn as_str(&self) -> &str {
        // Only UTF-8 is ever pushed (see `push`).
        std::str::from_utf8(&self.buf[..self.len as usize]).expect("built from str")
    }
}

impl fmt::Debug for WireStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for WireStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WireStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TifWire {
    Alo,
    Ioc,
    Gtc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TpSl {
    Tp,
    Sl,
}

/// `{"limit":{"tif":…}}` or `{"trigger":{"isMarket":…,"triggerPx":…,"tpsl":…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OrderTypeWire {
    #[serde(rename = "limit")]
    Limit { tif: TifWire },
    #[serde(rename = "trigger")]
    Trigger {
        #[serde(rename = "isMarket")]
        is_market: bool,
        #[serde(rename = "triggerPx")]
        trigger_px: String,
        tpsl: TpSl,
    },
}

/// One order: `{a, b, p, s, r, t, c?}` in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderWire {
    /// Asset id.
    pub a: u32,
    /// Is buy.
    pub b: bool,
    /// Price, canonical string.
    pub p: WireStr,
    /// Size, canonical string.
    pub s: WireStr,
    /// Reduce-only.
    pub r: bool,
    pub t: OrderTypeWire,
    /// Cloid `0x` + 32 hex; omitted when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c: Option<WireStr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuilderWire {
    /// Lowercase builder address.
    pub b: String,
    /// Fee in tenths of a basis point.
    pub f: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CancelWire {
    pub a: u32,
    pub o: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelByCloidWire {
    pub asset: u32,
    pub cloid: String,
}

/// An L1 action. `type` is written first (internally tagged), as the venue hashes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Action {
    #[serde(rename = "order")]
    Order {
        orders: Vec<OrderWire>,
        grouping: Grouping,
        #[serde(skip_serializing_if = "Option::is_none")]
        builder: Option<BuilderWire>,
    },
    #[serde(rename = "cancel")]
    Cancel { cancels: Vec<CancelWire> },
    #[serde(rename = "cancelByCloid")]
    CancelByCloid { cancels: Vec<CancelByCloidWire> },
    /// Dead-man switch: cancel all open orders at `time` (ms); no `time` clears it.
    #[serde(rename = "scheduleCancel")]
    ScheduleCancel {
        #[serde(skip_serializing_if = "Option::is_none")]
        time: Option<u64>,
    },
    /// Burns a nonce (and so cancels anything in flight signed with a lower one).
    #[serde(rename = "noop")]
    Noop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Grouping {
    #[serde(rename = "na")]
    Na,
    #[serde(rename = "normalTpsl")]
    NormalTpsl,
    #[serde(rename = "positionTpsl")]
    PositionTpsl,
}

/// msgpack of any serializable action into `buf` (cleared first; reused across orders).
pub fn msgpack_into<T: Serialize + ?Sized>(action: &T, buf: &mut Vec<u8>) -> Result<(), String> {
    buf.clear();
    action
        .serialize(&mut rmp_serde::Serializer::new(&mut *buf).with_struct_map())
        .map_err(|e| format!("msgpack: {e}"))
}

/// A signed action, ready to post: the `/exchange` body or a WS `post` payload.
#[derive(Debug, Clone, Serialize)]
pub struct SignedAction<'a, T: Serialize> {
    pub action: &'a T,
    pub nonce: u64,
    pub signature: SignatureWire,
    #[serde(rename = "vaultAddress")]
    pub vault_address: Option<String>,
    #[serde(rename = "expiresAfter")]
    pub expires_after: Option<u64>,
}

/// `{"method":"post","id":…,"request":{"type":"action","payload":…}}`: the WebSocket post frame
/// of a signed action, serialized in one pass (no intermediate `serde_json::Value`).
pub fn post_frame<T: Serialize>(id: u64, signed: &SignedAction<'_, T>) -> Result<String, String> {
    #[derive(Serialize)]
    struct Frame<'b, P: Serialize> {
        method: &'static str,
        id: u64,
        request: Request<'b, P>,
    }
    #[derive(Serialize)]
    struct Request<'b, P: Serialize> {
        #[serde(rename = "type")]
        kind: &'static str,
        payload: &'b P,
    }
    // An order post is ~400 bytes: sized once instead of grown from serde_json's 128.
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(
        &mut out,
        &Frame {
            method: "post",
            id,
            request: Request {
                kind: "action",
                payload: signed,
            },
        },
    )
    .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// `{"r":"0x…","s":"0x…","v":27}`: r and s as 0x + 64 lowercase hex digits, written from stack
/// buffers when serialized (no allocation per signed order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignatureWire {
    pub r: Hex32,
    pub s: Hex32,
    pub v: u8,
}

/// 32 bytes that serialize as a 0x-prefixed lowercase hex string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex32(pub [u8; 32]);

impl Serialize for Hex32 {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(crate::hex::Prefixed::<66>::new(&self.0).as_str())
    }
}

impl From<Signature> for SignatureWire {
    fn from(s: Signature) -> Self {
        SignatureWire {
            r: Hex32(s.r),
            s: Hex32(s.s),
            v: s.v,
        }
    }
}

/// Signs `action` and returns the request payload. `buf` is a reused msgpack buffer.
pub fn sign_action<'a, T: Serialize>(
    key: &PrivateKey,
    action: &'a T,
    nonce: u64,
    vault: Option<&Address>,
    expires_after: Option<u64>,
    mainnet: bool,
    buf: &mut Vec<u8>,
) -> Result<SignedAction<'a, T>, String> {
    msgpack_into(action, buf)?;
    let sig = key.sign_l1(buf, nonce, vault, expires_after, mainnet);
    Ok(SignedAction {
        action,
        nonce,
        signature: sig.into(),
        vault_address: vault.map(|a| a.to_string()),
        expires_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The canonical form as `Decimal` itself prints it: normalized, zero as "0".
    fn displayed(d: Decimal) -> String {
        let n = d.normalize();
        if n.is_zero() {
            "0".to_string()
        } else {
            n.to_string()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// Any Decimal, from a few digits to the longest (29 digits, scale 28, negative), zero
        /// and trailing zeros included: the inline form is `Decimal`'s own Display of the
        /// normalized value, and it serializes as that string.
        #[test]
        fn decimal_wire_form_equals_tick_wire(
            lo in prop_oneof![0u32..2000, any::<u32>()],
            mid in prop_oneof![Just(0u32), any::<u32>()],
            hi in prop_oneof![Just(0u32), any::<u32>()],
            neg in any::<bool>(),
            scale in 0u32..=28,
        ) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            let w = WireStr::decimal(d);
            prop_assert_eq!(w.as_str(), displayed(d));
            prop_assert_eq!(serde_json::to_string(&w).unwrap(), serde_json::to_string(&displayed(d)).unwrap());
        }
    }

    #[test]
    fn short_strings_only() {
        let cloid = "0x0000000000000000000000000000002a";
        assert_eq!(WireStr::new(cloid).unwrap().as_str(), cloid);
        assert_eq!(
            format!("{:?}", WireStr::new(cloid).unwrap()),
            format!("{cloid:?}")
        );
        assert_eq!(WireStr::new(&"9".repeat(40)).unwrap().as_str().len(), 40);
        assert_eq!(WireStr::new(&"9".repeat(41)), Err(TooLong(41)));
        assert_eq!(WireStr::decimal(Decimal::ZERO).as_str(), "0");
    }
}
