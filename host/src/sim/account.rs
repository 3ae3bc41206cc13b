//! Simulated accounts: balance, positions, resting orders, fills, nonces, request budget.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub szi: Decimal,
    pub entry_px: Decimal,
    /// Margin added to (or, negative, taken from) an isolated position (`updateIsolatedMargin`).
    pub margin_extra: Decimal,
    /// Funding paid (negative) or received since the position opened.
    pub funding_since_open: Decimal,
}

impl Position {
    /// An isolated position's margin at `leverage`: its entry notional over the leverage, plus
    /// what was added.
    pub fn isolated_margin(&self, leverage: u32) -> Decimal {
        (self.szi.abs() * self.entry_px / Decimal::from(leverage) + self.margin_extra).round_dp(6)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RestingOrder {
    pub oid: u64,
    pub cloid: Option<String>,
    pub coin: String,
    pub is_buy: bool,
    pub px: Decimal,
    /// Unfilled remainder.
    pub sz: Decimal,
    pub orig_sz: Decimal,
    pub reduce_only: bool,
    pub timestamp: u64,
    /// `Gtc` or `Alo` (an `Ioc` never rests).
    pub tif: String,
    /// The builder and its fee (tenths of a basis point) the order was sent with.
    pub builder: Option<(crate::venue::hyperliquid::signing::Address, u64)>,
}

/// A number as the venue writes it in everything it sends: the shortest decimal, with at least
/// one digit after the point (`"64000.0"`, `"0.0"`, `"0.01"`), as its recorded frames show
/// (reference §6: `"limitPx":"30.0"`, `"closedPnl":"0.0"`, `"oraclePx":"64429.0"`).
pub fn wire(d: Decimal) -> String {
    let mut s = crate::venue::hyperliquid::tick::wire(d);
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

impl RestingOrder {
    /// The `order` object of an orderUpdates frame / an openOrders entry.
    pub fn wire(&self) -> Value {
        let mut o = json!({
            "coin": self.coin,
            "side": if self.is_buy { "B" } else { "A" },
            "limitPx": wire(self.px),
            "sz": wire(self.sz),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": wire(self.orig_sz),
        });
        if let Some(c) = &self.cloid {
            o["cloid"] = json!(c);
        }
        if self.reduce_only {
            o["reduceOnly"] = json!(true);
        }
        o
    }

    /// The `frontendOpenOrders` entry (and `historicalOrders`' `order`): every field the venue's
    /// front end reads.
    pub fn frontend(&self) -> Value {
        let mut o = self.wire();
        for (k, v) in [
            ("orderType", json!("Limit")),
            ("tif", json!(self.tif)),
            ("reduceOnly", json!(self.reduce_only)),
            ("isTrigger", json!(false)),
            ("triggerPx", json!("0.0")),
            ("triggerCondition", json!("N/A")),
            ("isPositionTpsl", json!(false)),
            ("children", json!([])),
        ] {
            o[k] = v;
        }
        o
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Account {
    pub usdc: Decimal,
    pub positions: HashMap<String, Position>,
    pub orders: Vec<RestingOrder>,
    /// Every fill (the userFills snapshot).
    pub fills: Vec<Value>,
    /// The 100 highest nonces used.
    pub nonces: BTreeSet<u64>,
    pub requests_used: u64,
    /// Request budget bought with `reserveRequestWeight`.
    pub requests_reserved: u64,
    pub volume: Decimal,
    pub scheduled_cancel: Option<u64>,
    pub schedule_triggers: u32,
    /// `updateLeverage` per coin: (cross, leverage). Unset: cross at the market's maximum.
    pub leverage: HashMap<String, (bool, u32)>,
    /// Trigger orders waiting for their price.
    pub triggers: Vec<crate::sim::exchange::triggers::TriggerOrder>,
    /// Hourly funding payments (`userFunding` entries), oldest first (the last 2,000).
    pub funding: Vec<Value>,
    /// The spot wallet, by token name (`USDC`, `PURR`): apart from the perp balance, as on the
    /// venue (`usdClassTransfer` moves USDC between them).
    pub spot: std::collections::BTreeMap<String, SpotBalance>,
    /// A sub-account's master (`createSubAccount`), who may fund it and act for it.
    pub master: Option<crate::venue::hyperliquid::signing::Address>,
    /// A sub-account's name.
    pub name: Option<String>,
    /// Until then (ms), after a partial liquidation, the account's liquidations are for whole
    /// positions.
    pub partial_liquidation_until: u64,
    /// Set when the account is a vault (`createVault`): its leader and its followers' shares.
    pub vault: Option<crate::sim::exchange::vaults::Vault>,
    /// Running TWAP orders.
    pub twaps: Vec<crate::sim::exchange::twap::Twap>,
    /// `twapHistory` entries, oldest first.
    pub twap_history: Vec<Value>,
    /// `userTwapSliceFills` entries, oldest first.
    pub twap_slice_fills: Vec<Value>,
    /// `userNonFundingLedgerUpdates` entries, oldest first: deposits, withdrawals, transfers,
    /// vault moves, liquidations.
    pub ledger: Vec<Value>,
    /// USDC moved to a HIP-3 dex with `sendAsset`, by dex: part of `usdc`, shown in that dex's
    /// `clearinghouseState` (and its positions' margin is drawn from it first).
    pub dex_collateral: std::collections::BTreeMap<String, Decimal>,
    /// Staked native token (`cDeposit`, `tokenDelegate`, `cWithdraw`).
    pub staking: crate::sim::exchange::staking::Staking,
    /// The referral code this account registered, and the code and referrer that referred it.
    pub referral_code: Option<String>,
    pub referred: Option<crate::sim::exchange::referrals::Referred>,
    /// Referral rewards earned and not yet claimed, and claimed (USDC).
    pub referral_unclaimed: Decimal,
    pub referral_claimed: Decimal,
    /// The same for rewards in other tokens (fees a referred spot buy paid in the token bought).
    pub referral_tokens: crate::sim::exchange::referrals::TokenRewards,
    /// Referral rewards earned on the current UTC day (`referral_day`), in USDC, and the
    /// `rewardHistory` entries of the days before.
    pub referral_day_earned: Decimal,
    pub referral_day: u64,
    pub referral_history: Vec<Value>,
    /// `approveBuilderFee`: the most each builder may charge, in tenths of a basis point.
    pub builder_fees: HashMap<crate::venue::hyperliquid::signing::Address, u64>,
    /// The account's abstraction mode (`userSetAbstraction`, `userDexAbstraction`): unset is the
    /// venue's `default`, where, as under `disabled`, each HIP-3 dex margins its positions with
    /// the collateral moved to it (`sendAsset`) alone; under `dexAbstraction` a HIP-3 position
    /// draws on the main dex's USDC for what its dex does not hold.
    pub abstraction: Option<String>,
    /// Set when the account is a multi-sig user (`convertToMultiSigUser`): who may sign for it.
    pub multi_sig: Option<crate::sim::exchange::multisig::MultiSig>,
}

/// One token of the spot wallet.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpotBalance {
    pub total: Decimal,
    /// What the tokens held cost, in USDC (the venue's `entryNtl`; 0 for USDC itself).
    pub entry_ntl: Decimal,
}

/// What a fill did: closed PnL and the position before.
pub struct Applied {
    pub closed_pnl: Decimal,
    pub start: Decimal,
}

impl Account {
    pub fn new(usdc: Decimal) -> Self {
        Account {
            usdc,
            ..Default::default()
        }
    }

    /// Whether a HIP-3 position may draw margin from the main dex (`dexAbstraction`).
    pub fn dex_abstraction(&self) -> bool {
        self.abstraction.as_deref() == Some("dexAbstraction")
    }

    /// A HIP-3 dex's part of a change `usdc` to the balance (closed PnL less fees, funding) from
    /// a position in `coin`: when the dex margins alone, the change is its collateral's.
    pub fn settle_on_dex(&mut self, coin: &str, usdc: Decimal) {
        let dex = crate::venue::hyperliquid::info::dex_of(coin);
        if !dex.is_empty() && !self.dex_abstraction() {
            let c = self.dex_collateral.entry(dex.to_string()).or_default();
            *c = (*c + usdc).max(Decimal::ZERO);
        }
    }

    pub fn position(&self, coin: &str) -> Decimal {
        self.positions.get(coin).map_or(Decimal::ZERO, |p| p.szi)
    }

    /// Applies a fill of `sz` (> 0) to the position and the balance (and, on a HIP-3 dex that
    /// margins alone, to its collateral).
    pub fn apply_fill(
        &mut self,
        coin: &str,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        fee: Decimal,
    ) -> Applied {
        let p = self.positions.entry(coin.to_string()).or_default();
        let start = p.szi;
        let q = if is_buy { sz } else { -sz };
        let mut closed = Decimal::ZERO;
        if p.szi.is_zero() || p.szi.is_sign_positive() == q.is_sign_positive() {
            let total = p.szi.abs() + sz;
            p.entry_px = (p.szi.abs() * p.entry_px + sz * px) / total;
            p.szi += q;
        } else {
            let c = sz.min(p.szi.abs());
            closed = if p.szi.is_sign_positive() {
                c * (px - p.entry_px)
            } else {
                c * (p.entry_px - px)
            };
            let old = p.szi;
            p.szi += q;
            if p.szi.is_zero() {
                p.entry_px = Decimal::ZERO;
                p.margin_extra = Decimal::ZERO;
                p.funding_since_open = Decimal::ZERO;
            } else if p.szi.is_sign_positive() != old.is_sign_positive() {
                p.entry_px = px;
                p.funding_since_open = Decimal::ZERO;
            }
        }
        self.usdc += closed - fee;
        self.settle_on_dex(coin, closed - fee);
        self.volume += px * sz;
        Applied {
            closed_pnl: closed,
            start,
        }
    }

    /// A token's spot balance (0 when the wallet never held it).
    pub fn spot_total(&self, token: &str) -> Decimal {
        self.spot.get(token).map_or(Decimal::ZERO, |b| b.total)
    }

    /// Applies a spot fill of `sz` (> 0) base tokens at `px` USDC: a buy pays `px × sz` USDC and
    /// receives `sz − fee` base tokens (its fee is in the base token, as on the venue); a sell
    /// gives `sz` tokens and receives `px × sz − fee` USDC. Returns the closed PnL (a sell's
    /// proceeds less what the tokens sold cost, at their average cost) and the base balance
    /// before.
    pub fn apply_spot_fill(
        &mut self,
        base: &str,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        fee: Decimal,
    ) -> Applied {
        let value = px * sz;
        let start = self.spot_total(base);
        let mut closed = Decimal::ZERO;
        {
            let b = self.spot.entry(base.to_string()).or_default();
            if is_buy {
                b.total += sz - fee;
                b.entry_ntl += value;
            } else {
                let cost = if b.total.is_zero() {
                    Decimal::ZERO
                } else {
                    (b.entry_ntl * sz / b.total).round_dp(8)
                };
                closed = value - cost;
                b.total -= sz;
                b.entry_ntl -= cost;
                if b.total.is_zero() {
                    b.entry_ntl = Decimal::ZERO;
                }
            }
        }
        let usdc = self.spot.entry("USDC".to_string()).or_default();
        usdc.total += if is_buy { -value } else { value - fee };
        self.volume += value;
        Applied {
            closed_pnl: closed,
            start,
        }
    }

    /// Nonce rules: unused, larger than the smallest of the 100 highest kept, and within
    /// (now − 2 days, now + 1 day).
    pub fn check_nonce(&mut self, nonce: u64, now_ms: u64) -> Result<(), String> {
        if nonce + 2 * 86_400_000 < now_ms || nonce > now_ms + 86_400_000 {
            return Err(format!(
                "Invalid nonce: {nonce} is outside the allowed time window"
            ));
        }
        if self.nonces.contains(&nonce) {
            return Err(format!("Invalid nonce: duplicate nonce {nonce}"));
        }
        if self.nonces.len() >= 100 && self.nonces.first().is_some_and(|m| nonce < *m) {
            return Err(format!(
                "Invalid nonce: {nonce} is lower than every stored nonce"
            ));
        }
        self.nonces.insert(nonce);
        while self.nonces.len() > 100 {
            self.nonces.pop_first();
        }
        Ok(())
    }

    /// The address budget: 10000 requests plus one per USDC traded, plus what was reserved.
    pub fn request_cap(&self) -> u64 {
        10_000 + self.requests_reserved + self.volume.trunc().try_into().unwrap_or(u64::MAX / 2)
    }

    pub fn unrealized(&self, marks: &dyn Fn(&str) -> Option<Decimal>) -> Decimal {
        self.positions
            .iter()
            .filter_map(|(c, p)| marks(c).map(|m| p.szi * (m - p.entry_px)))
            .sum()
    }
}
