//! L1 action signing ("phantom agent"): msgpack(action) ‖ nonce ‖ vault ‖ expiresAfter → keccak
//! = connectionId; EIP-712 `Agent { source, connectionId }` on the `Exchange` domain (chainId 1337)
//! → keccak digest; secp256k1 recoverable ECDSA (RFC 6979, low-S) through libsecp256k1; v = 27 + id.
//! docs/venue.md, "Keys, signing and networks"; the known-answer vectors are in the tests below.

use secp256k1::{All, Message, PublicKey, Secp256k1, SecretKey, ecdsa::RecoverableSignature};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The one libsecp256k1 context of the process: built (and randomized) once, reused for every
/// signature. (secp256k1 0.33 re-randomizes a global context on every signature, which tripled
/// the cost of a sign here: see docs/BENCHMARKS.md.)
pub fn secp() -> &'static Secp256k1<All> {
    static CTX: std::sync::OnceLock<Secp256k1<All>> = std::sync::OnceLock::new();
    CTX.get_or_init(Secp256k1::new)
}

pub fn keccak(data: &[u8]) -> [u8; 32] {
    keccak256::keccak256(data)
}

/// keccak("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)").
const DOMAIN_TYPE_HASH: [u8; 32] =
    hex32("8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
/// keccak("Agent(string source,bytes32 connectionId)").
const AGENT_TYPE_HASH: [u8; 32] =
    hex32("26f05c2f7239b6983075e58321292d77b3aa173d19b27257ac96ab362570f508");
/// domainSeparator(name "Exchange", version "1", chainId 1337, verifyingContract 0x0).
const DOMAIN_SEPARATOR: [u8; 32] =
    hex32("d79297fcdf2ffcd4ae223d01edaa2ba214ff8f401d7c9300d995d17c82aa4040");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex"),
    }
}

/// Parses `0x`-prefixed (or bare) hex into bytes.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = vec![0u8; 2 + bytes.len() * 2];
    s[..2].copy_from_slice(b"0x");
    crate::hex::encode_into(bytes, &mut s[2..]);
    String::from_utf8(s).expect("hex digits are ASCII")
}

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn parse(s: &str) -> Option<Address> {
        let v = parse_hex(s)?;
        <[u8; 20]>::try_from(v.as_slice()).ok().map(Address)
    }

    pub fn from_public_key(pk: &PublicKey) -> Address {
        let h = keccak(&pk.serialize_uncompressed()[1..]);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[12..]);
        Address(a)
    }
}

impl fmt::Display for Address {
    /// Lowercase `0x…`, as the venue wants it in actions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// As its `0x…` text, so an address is a JSON string and a JSON object's key.
impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Address::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a 20-byte 0x… address")))
    }
}

/// connectionId = keccak(msgpack ‖ nonce_be8 ‖ (0x00 | 0x01 ‖ vault20) ‖ [0x00 ‖ expiresAfter_be8]).
pub fn action_hash(
    msgpack: &[u8],
    nonce: u64,
    vault: Option<&Address>,
    expires_after: Option<u64>,
) -> [u8; 32] {
    let mut h = keccak256::Hasher::new();
    h.update(msgpack);
    h.update(&nonce.to_be_bytes());
    match vault {
        None => h.update(&[0u8]),
        Some(a) => {
            h.update(&[1u8]);
            h.update(&a.0);
        }
    }
    if let Some(t) = expires_after {
        h.update(&[0u8]);
        h.update(&t.to_be_bytes());
    }
    h.finish()
}

/// The EIP-712 digest of the phantom agent: source "a" on mainnet, "b" anywhere else.
pub fn agent_digest(connection_id: &[u8; 32], mainnet: bool) -> [u8; 32] {
    let source_hash = keccak(if mainnet { b"a" } else { b"b" });
    let mut s = [0u8; 96];
    s[..32].copy_from_slice(&AGENT_TYPE_HASH);
    s[32..64].copy_from_slice(&source_hash);
    s[64..].copy_from_slice(connection_id);
    let struct_hash = keccak(&s);
    let mut m = [0u8; 66];
    m[0] = 0x19;
    m[1] = 0x01;
    m[2..34].copy_from_slice(&DOMAIN_SEPARATOR);
    m[34..].copy_from_slice(&struct_hash);
    keccak(&m)
}

/// The domain separator computed from its parts (tested against the constant).
pub fn domain_separator(
    name: &str,
    version: &str,
    chain_id: u64,
    verifying_contract: &Address,
) -> [u8; 32] {
    let mut s = [0u8; 160];
    s[..32].copy_from_slice(&DOMAIN_TYPE_HASH);
    s[32..64].copy_from_slice(&keccak(name.as_bytes()));
    s[64..96].copy_from_slice(&keccak(version.as_bytes()));
    s[120..128].copy_from_slice(&chain_id.to_be_bytes());
    s[140..160].copy_from_slice(&verifying_contract.0);
    keccak(&s)
}

/// The EIP-712 digest of a user-signed action (`usdClassTransfer`, `usdSend`, `spotSend`, …):
/// primary type `HyperliquidTransaction:<name>` over `fields` (name, Solidity type: `string`,
/// `bool`, `uint64` or `address`), read from the action in that order, on the domain
/// `HyperliquidSignTransaction` v1 at the action's own `signatureChainId`. None when a field is
/// missing or of the wrong kind.
pub fn user_signed_digest(
    primary: &str,
    fields: &[(&str, &str)],
    action: &serde_json::Value,
) -> Option<[u8; 32]> {
    let chain = action["signatureChainId"].as_str()?;
    let chain_id = u64::from_str_radix(chain.trim_start_matches("0x"), 16).ok()?;
    let types: Vec<String> = fields.iter().map(|(n, t)| format!("{t} {n}")).collect();
    let mut data = keccak(format!("{primary}({})", types.join(",")).as_bytes()).to_vec();
    for (name, ty) in fields {
        let v = &action[*name];
        let mut word = [0u8; 32];
        match *ty {
            "string" => word = keccak(v.as_str()?.as_bytes()),
            "bool" => word[31] = u8::from(v.as_bool()?),
            "uint64" => word[24..].copy_from_slice(&v.as_u64()?.to_be_bytes()),
            "address" => word[12..].copy_from_slice(&Address::parse(v.as_str()?)?.0),
            "bytes32" => word = <[u8; 32]>::try_from(parse_hex(v.as_str()?)?.as_slice()).ok()?,
            _ => return None,
        }
        data.extend_from_slice(&word);
    }
    let domain = domain_separator(
        "HyperliquidSignTransaction",
        "1",
        chain_id,
        &Address([0; 20]),
    );
    let mut m = [0u8; 66];
    m[0] = 0x19;
    m[1] = 0x01;
    m[2..34].copy_from_slice(&domain);
    m[34..].copy_from_slice(&keccak(&data));
    Some(keccak(&m))
}

/// An ECDSA signature as the venue wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub r: [u8; 32],
    pub s: [u8; 32],
    /// 27 or 28.
    pub v: u8,
}

impl Signature {
    /// `{"r":"0x…","s":"0x…","v":27}` (r and s zero-padded to 32 bytes).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "r": to_hex(&self.r), "s": to_hex(&self.s), "v": self.v })
    }

    /// Recovers the signer of `digest` (the simulator's verification; the venue does the same).
    pub fn recover(&self, digest: &[u8; 32]) -> Option<Address> {
        let id = secp256k1::ecdsa::RecoveryId::try_from(i32::from(self.v.checked_sub(27)?)).ok()?;
        let mut compact = [0u8; 64];
        compact[..32].copy_from_slice(&self.r);
        compact[32..].copy_from_slice(&self.s);
        let sig = RecoverableSignature::from_compact(&compact, id).ok()?;
        let pk = secp()
            .recover_ecdsa(Message::from_digest(*digest), &sig)
            .ok()?;
        Some(Address::from_public_key(&pk))
    }
}

/// A private key that signs. `Debug` never shows it; nothing logs it.
pub struct PrivateKey {
    secret: SecretKey,
    address: Address,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.address)
    }
}

impl PrivateKey {
    /// From 32 bytes of hex (`0x` optional). The error never contains the input.
    pub fn from_hex(s: &str) -> Result<PrivateKey, String> {
        let bytes = parse_hex(s.trim()).ok_or("the key is not hex")?;
        let arr = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "the key is not 32 bytes")?;
        let secret =
            SecretKey::from_byte_array(arr).map_err(|_| "the key is not a valid secp256k1 key")?;
        let address = Address::from_public_key(&PublicKey::from_secret_key(secp(), &secret));
        Ok(PrivateKey { secret, address })
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte digest (RFC 6979, low-S).
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Signature {
        let sig = secp().sign_ecdsa_recoverable(Message::from_digest(*digest), &self.secret);
        let (id, compact) = sig.serialize_compact();
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&compact[..32]);
        s.copy_from_slice(&compact[32..]);
        Signature {
            r,
            s,
            v: 27 + i32::from(id) as u8,
        }
    }

    /// Signs an L1 action given its msgpack bytes.
    pub fn sign_l1(
        &self,
        msgpack: &[u8],
        nonce: u64,
        vault: Option<&Address>,
        expires_after: Option<u64>,
        mainnet: bool,
    ) -> Signature {
        let cid = action_hash(msgpack, nonce, vault, expires_after);
        self.sign_digest(&agent_digest(&cid, mainnet))
    }
}

/// Per-signer nonces: `max(now_ms, last + 1)`, never repeating, never going back.
#[derive(Debug, Default)]
pub struct NonceManager {
    last: AtomicU64,
}

impl NonceManager {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts above a nonce already used (e.g. the last one journaled).
    pub fn starting_after(last: u64) -> Self {
        NonceManager {
            last: AtomicU64::new(last),
        }
    }

    pub fn next(&self, now_ms: u64) -> u64 {
        let mut cur = self.last.load(Ordering::Relaxed);
        loop {
            let n = now_ms.max(cur + 1);
            match self
                .last
                .compare_exchange_weak(cur, n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return n,
                Err(actual) => cur = actual,
            }
        }
    }
}
