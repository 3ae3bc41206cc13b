//! The simulated exchange: markets, accounts and the rules of the venue, with no I/O. The server
//! (`server.rs`) feeds it requests and the clock and delivers what it returns.
//!
//! What it checks like the venue (reference §2): the signature (the recovered signer must be a
//! configured account or its approved agent; testnet phantom agent "b", as every SDK signs for a
//! non-mainnet URL), nonces, the address request budget, `expiresAfter`, tick and lot rules, the
//! minimum order value, reduce-only, margin, Alo/Ioc/Gtc semantics, scheduleCancel.

use super::account::wire;
use super::account::{Account, RestingOrder};
use super::market::{MarketSpec, Rng, SimMarket};
use crate::venue::hyperliquid::actions::msgpack_into;
use crate::venue::hyperliquid::signing::{
    Address, Signature, action_hash, agent_digest, parse_hex,
};
use crate::venue::hyperliquid::tick::AssetSpec;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

mod actions;
pub mod deploy;
mod deployer;
pub mod explorer;
pub mod history;
mod info;
mod lookups;
mod margin;
pub mod multisig;
pub mod referrals;
mod roles;
pub mod saved;
mod spot;
pub mod staking;
mod status;
mod subaccounts;
pub(in crate::sim) mod transfers;
pub mod triggers;
pub mod twap;
pub mod validators;
pub mod vaults;

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 86_400_000;

/// A frame to push to the WebSocket subscribers of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub user: Address,
    pub frame: String,
}

#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub address: Address,
    pub usdc: Decimal,
    /// USDC in the spot wallet.
    pub spot_usdc: Decimal,
    /// Agent (API wallet) addresses approved to sign for this account.
    pub agents: Vec<Address>,
    /// Its abstraction mode (None: the venue's `default`).
    pub abstraction: Option<String>,
}

pub struct Exchange {
    pub markets: Vec<SimMarket>,
    /// coin → (asset id, index in `markets`).
    assets: HashMap<String, (u32, usize)>,
    /// HIP-3 dex names, in `perpDexs` order (index 1, 2, …).
    dexes: Vec<String>,
    pub accounts: HashMap<Address, Account>,
    agents: HashMap<Address, Address>,
    /// Agents approved by `approveAgent`: name and valid-until time (`extraAgents`).
    agent_names: HashMap<Address, (String, u64)>,
    rng: Rng,
    /// Moves the spot pairs' prices: apart from `rng`, so listing a pair leaves every perp
    /// market's path as it was.
    spot_rng: Rng,
    /// The spot pairs: (coin, base token), by pair index (asset 10000 + index).
    spot_pairs: Vec<(String, String)>,
    pub now_ms: u64,
    next_oid: u64,
    next_tid: u64,
    pub taker_fee_bps: Decimal,
    pub maker_fee_bps: Decimal,
    /// Fault injection: reject every Nth order (0 = never).
    pub reject_every: u32,
    orders_seen: u32,
    /// How many times each cloid was received (a client must never send an order twice).
    cloids_seen: HashMap<String, u32>,
    /// Every order received: (time ms, coin, reduce-only), for tests that ask what arrived when.
    pub order_arrivals: Vec<(u64, String, bool)>,
    /// Each order's latest status, for `orderStatus`: oid → (user, orderUpdates entry).
    order_log: HashMap<u64, (Address, Value)>,
    /// cloid → oid, for `orderStatus` by cloid.
    cloid_oid: HashMap<String, u64>,
    /// Every fill, public: the `trades` channel, candles.
    pub tape: history::Tape,
    /// The next hour on which open positions pay funding (ms).
    next_funding_ms: u64,
    /// Set while a liquidation's fills are made: the mark they are at and whether it is a
    /// backstop (the fills say so; a backstop pays no fee).
    liquidating: Option<(Decimal, bool)>,
    /// Set while a TWAP suborder's fills are made: its TWAP's id (the fills' `twapId`).
    twap_filling: Option<u64>,
    /// Set while an order with a builder is placed or its resting remainder fills: the builder
    /// and its fee in tenths of a basis point.
    builder_fee: Option<(Address, u64)>,
    /// What deploying a HIP-3 dex asks (`[sim.hip3]`).
    pub hip3: deploy::Hip3Rules,
    /// The staking network the simulator's validator stands in for (`[sim.staking]`).
    pub staking: staking::StakingRules,
    /// The deployed dexes' settings, the deploy auction, and the markets deployers listed.
    dex_meta: BTreeMap<String, deploy::DexMeta>,
    auction: deploy::Auction,
    deployed: Vec<String>,
    /// The explorer's blocks and transactions, and who signed the request being handled.
    chain: explorer::Chain,
    signed_by: Option<Address>,
    /// Validators registered with `CValidatorAction`.
    validators: BTreeMap<Address, validators::Validator>,
}

fn err(msg: impl Into<String>) -> Value {
    json!({"status": "err", "response": msg.into()})
}

impl Exchange {
    pub fn new(
        seed: u64,
        markets: Vec<MarketSpec>,
        accounts: Vec<AccountSpec>,
        now_ms: u64,
    ) -> Exchange {
        let mut rng = Rng::new(seed);
        let mut dexes: Vec<String> = Vec::new();
        let mut per_dex: HashMap<String, u32> = HashMap::new();
        let mut assets = HashMap::new();
        let mut sims = Vec::new();
        for (i, spec) in markets.into_iter().enumerate() {
            let dex = crate::venue::hyperliquid::info::dex_of(&spec.coin).to_string();
            if !dex.is_empty() && !dexes.contains(&dex) {
                dexes.push(dex.clone());
            }
            let idx = per_dex.entry(dex.clone()).or_insert(0);
            let dex_index = dexes.iter().position(|d| *d == dex).map_or(0, |p| p + 1);
            let asset = if dex_index == 0 {
                *idx
            } else {
                100_000 + dex_index as u32 * 10_000 + *idx
            };
            *idx += 1;
            assets.insert(spec.coin.clone(), (asset, i));
            sims.push(SimMarket::new(spec, &mut rng));
        }
        let mut agents = HashMap::new();
        let mut accts = HashMap::new();
        for a in accounts {
            for ag in &a.agents {
                agents.insert(*ag, a.address);
            }
            let mut acct = Account::new(a.usdc);
            acct.abstraction = a.abstraction;
            if !a.usdc.is_zero() {
                acct.ledger
                    .push(json!({"time": now_ms, "hash": format!("0x{:064x}", now_ms),
                    "delta": {"type": "deposit", "usdc": wire(a.usdc)}}));
            }
            if !a.spot_usdc.is_zero() {
                acct.spot.entry("USDC".into()).or_default().total = a.spot_usdc;
            }
            accts.insert(a.address, acct);
        }
        Exchange {
            markets: sims,
            assets,
            dexes,
            accounts: accts,
            agents,
            agent_names: HashMap::new(),
            rng,
            spot_rng: Rng::new(seed ^ 0x5107),
            spot_pairs: Vec::new(),
            now_ms,
            // The venue's ids are unique for all time; an in-process simulator starts again with
            // every run, so its ids start from its clock: a journal keyed by (venue, tid) never
            // sees a new fill with an old fill's id.
            next_oid: now_ms.saturating_mul(1_000).max(1_000),
            next_tid: now_ms.saturating_mul(1_000).max(1),
            taker_fee_bps: Decimal::new(45, 1),
            maker_fee_bps: Decimal::new(15, 1),
            reject_every: 0,
            orders_seen: 0,
            cloids_seen: HashMap::new(),
            order_log: HashMap::new(),
            order_arrivals: Vec::new(),
            cloid_oid: HashMap::new(),
            tape: history::Tape::default(),
            next_funding_ms: (now_ms / HOUR_MS + 1) * HOUR_MS,
            liquidating: None,
            twap_filling: None,
            builder_fee: None,
            hip3: deploy::Hip3Rules::default(),
            staking: staking::StakingRules::default(),
            dex_meta: BTreeMap::new(),
            auction: deploy::Auction {
                start_ms: now_ms,
                ..Default::default()
            },
            deployed: Vec::new(),
            chain: explorer::Chain::default(),
            signed_by: None,
            validators: BTreeMap::new(),
        }
    }

    /// Cloids received more than once (must stay empty: no order is ever sent twice).
    pub fn duplicate_cloids(&self) -> Vec<String> {
        self.cloids_seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// Orders received in all.
    pub fn orders_received(&self) -> u32 {
        self.orders_seen
    }

    /// Adds a `userNonFundingLedgerUpdates` entry to an account's ledger, now.
    pub(super) fn ledger(&mut self, user: Address, delta: Value) {
        let (time, tid) = (self.now_ms, self.next_tid);
        self.next_tid += 1;
        if let Some(a) = self.accounts.get_mut(&user) {
            a.ledger
                .push(json!({"time": time, "hash": format!("0x{tid:064x}"), "delta": delta}));
            if a.ledger.len() > 2_000 {
                a.ledger.remove(0);
            }
        }
    }

    /// Registers an agent key for an account (the simulator's `approveAgent`).
    /// The account is made when new, with 100,000 USDC and dex abstraction on (the in-process
    /// simulator's account for the host, whose HIP-3 markets then trade on its main balance).
    pub fn approve_agent(&mut self, account: Address, agent: Address) {
        self.agents.insert(agent, account);
        self.accounts.entry(account).or_insert_with(|| {
            let mut a = Account::new(Decimal::from(100_000));
            a.abstraction = Some("dexAbstraction".into());
            a
        });
    }

    pub fn market_index(&self, coin: &str) -> Option<usize> {
        self.assets.get(coin).map(|(_, i)| *i)
    }

    fn spec_of(&self, asset: u32) -> Option<(String, usize, AssetSpec)> {
        let (coin, (_, i)) = self.assets.iter().find(|(_, (a, _))| *a == asset)?;
        Some((
            coin.clone(),
            *i,
            AssetSpec {
                asset,
                sz_decimals: self.markets[*i].spec.sz_decimals,
                is_spot: self.markets[*i].spot,
            },
        ))
    }

    /// Advances every market to `now_ms`, fills resting orders the book now crosses, fires due
    /// scheduled cancels. Returns the pushes that produced.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Push> {
        let pushes = self.tick_inner(now_ms);
        self.new_block();
        self.log_updates(&pushes);
        pushes
    }

    /// Remembers each order's latest status from the orderUpdates frames about to be pushed.
    fn log_updates(&mut self, pushes: &[Push]) {
        for p in pushes {
            if !p.frame.starts_with("{\"channel\":\"orderUpdates\"") {
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&p.frame) else {
                continue;
            };
            for u in v["data"].as_array().into_iter().flatten() {
                let Some(oid) = u["order"]["oid"].as_u64() else {
                    continue;
                };
                if let Some(c) = u["order"]["cloid"].as_str() {
                    self.cloid_oid.insert(c.to_string(), oid);
                }
                self.order_log.insert(oid, (p.user, u.clone()));
            }
        }
    }

    /// A fill for an order that does not exist, on the first market: what a broken or hostile
    /// venue might send. The account does not change.
    pub fn phantom_fill(&mut self, user: Address) -> Push {
        let tid = self.next_tid;
        self.next_tid += 1;
        let m = &self.markets[0];
        let px = m.mid(self.now_ms);
        let sz = Decimal::new(1, m.spec.sz_decimals).max(Decimal::new(1, 3));
        let f = json!({
            "coin": m.spec.coin, "px": wire(px), "sz": wire(sz), "side": "B", "time": self.now_ms,
            "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0",
            "hash": format!("0x{:064x}", tid), "oid": 9_999_999_999u64, "crossed": true,
            "fee": "0.0", "tid": tid, "feeToken": "USDC", "twapId": null,
        });
        Push {
            user,
            frame: json!({"channel":"userFills","data":{"user": user.to_string(), "fills":[f]}})
                .to_string(),
        }
    }

    /// `orderStatus`: the order's latest status, by oid or by cloid (`0x…`).
    pub fn order_status(&self, user: &Address, id: &Value) -> Value {
        let oid = match id {
            Value::Number(n) => n.as_u64(),
            Value::String(c) => self.cloid_oid.get(c).copied(),
            _ => None,
        };
        match oid.and_then(|o| self.order_log.get(&o)) {
            Some((u, entry)) if u == user => json!({"status": "order", "order": entry}),
            _ => json!({"status": "unknownOid"}),
        }
    }

    fn tick_inner(&mut self, now_ms: u64) -> Vec<Push> {
        self.now_ms = self.now_ms.max(now_ms);
        let now_ms = self.now_ms;
        for m in &mut self.markets {
            let rng = if m.spot {
                &mut self.spot_rng
            } else {
                &mut self.rng
            };
            m.step(now_ms, rng);
        }
        let mut pushes = Vec::new();
        self.pay_funding(now_ms, &mut pushes);
        let users: Vec<Address> = self.accounts.keys().copied().collect();
        for user in users {
            self.match_resting(user, &mut pushes);
            self.fire_triggers(user, &mut pushes);
            self.run_twaps(user, &mut pushes);
            self.settle_staking(user);
            self.close_referral_day(user);
            self.liquidate(user, &mut pushes);
            let due = self.accounts[&user]
                .scheduled_cancel
                .is_some_and(|t| t <= now_ms);
            if due {
                let acct = self.accounts.get_mut(&user).expect("account");
                acct.scheduled_cancel = None;
                acct.schedule_triggers += 1;
                let cancelled: Vec<RestingOrder> = acct.orders.drain(..).collect();
                let updates: Vec<Value> = cancelled
                    .iter()
                    .map(|o| json!({"order": o.wire(), "status": "scheduledCancel", "statusTimestamp": now_ms}))
                    .collect();
                if !updates.is_empty() {
                    pushes.push(Push {
                        user,
                        frame: json!({"channel":"orderUpdates","data":updates}).to_string(),
                    });
                }
            }
        }
        pushes
    }

    fn match_resting(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let orders = std::mem::take(&mut self.accounts.get_mut(&user).expect("account").orders);
        let mut keep = Vec::new();
        for mut o in orders {
            let Some(i) = self.market_index(&o.coin) else {
                continue;
            };
            if self.markets[i].stalled {
                keep.push(o);
                continue;
            }
            let (bids, asks) = self.markets[i].levels(now);
            let opposite = if o.is_buy { asks } else { bids };
            let crossed = super::matching::resting_fill(o.is_buy, o.px, o.sz, &opposite);
            if crossed.is_zero() {
                keep.push(o);
                continue;
            }
            let mut sz = crossed;
            if o.reduce_only {
                sz = sz.min(self.reducible(user, &o.coin, o.is_buy));
            }
            if sz > Decimal::ZERO {
                self.builder_fee = o.builder;
                self.fill(
                    user,
                    &o.coin,
                    o.is_buy,
                    o.px,
                    sz,
                    o.oid,
                    o.cloid.clone(),
                    false,
                    pushes,
                );
                self.builder_fee = None;
                o.sz -= sz;
            }
            let status = if o.sz.is_zero() {
                "filled"
            } else if o.reduce_only && self.reducible(user, &o.coin, o.is_buy).is_zero() {
                "reduceOnlyCanceled"
            } else {
                "open"
            };
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": o.wire(), "status": status, "statusTimestamp": now}]}).to_string() });
            if status == "open" {
                keep.push(o);
            }
        }
        self.accounts.get_mut(&user).expect("account").orders = keep;
    }

    /// How much of `coin` an order on this side may reduce.
    fn reducible(&self, user: Address, coin: &str, is_buy: bool) -> Decimal {
        let pos = self.accounts[&user].position(coin);
        if (is_buy && pos < Decimal::ZERO) || (!is_buy && pos > Decimal::ZERO) {
            pos.abs()
        } else {
            Decimal::ZERO
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        user: Address,
        coin: &str,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        oid: u64,
        cloid: Option<String>,
        taker: bool,
        pushes: &mut Vec<Push>,
    ) {
        let fee_bps = match (self.liquidating, taker) {
            (Some((_, true)), _) => Decimal::ZERO,
            (_, true) => self.taker_fee_bps,
            (_, false) => self.maker_fee_bps,
        };
        let base = self.spot_base(coin).map(str::to_string);
        let (fee, fee_token) = match &base {
            // A spot buy pays its fee in the token it receives, as on the venue.
            Some(b) if is_buy => ((sz * fee_bps / BPS).round_dp(8), b.as_str()),
            _ => ((px * sz * fee_bps / BPS).round_dp(6), "USDC"),
        };
        let fee_token = fee_token.to_string();
        // A referred account's discount, and its referrer's reward.
        let volume = self.accounts[&user].volume;
        let fee = self.referral_fee(user, fee, &fee_token, volume);
        // A builder's fee, in USDC, on top of the venue's (`fee` includes it, as on the venue).
        let builder_fee = self
            .builder_fee
            .filter(|_| self.liquidating.is_none())
            .map(|(_, f)| {
                // In the fee's own token: a spot buy's is the token bought.
                let base = if fee_token == "USDC" { px * sz } else { sz };
                (base * Decimal::from(f) / Decimal::from(100_000)).round_dp(6)
            });
        let fee = fee + builder_fee.unwrap_or_default();
        let acct = self.accounts.get_mut(&user).expect("account");
        let applied = match &base {
            Some(b) => acct.apply_spot_fill(b, is_buy, px, sz, fee),
            None => acct.apply_fill(coin, is_buy, px, sz, fee),
        };
        let tid = self.next_tid;
        self.next_tid += 1;
        let dir = match (
            is_buy,
            applied.start.is_sign_positive() && !applied.start.is_zero(),
            applied.start.is_sign_negative(),
        ) {
            (true, _, true) => "Close Short",
            (true, _, _) => "Open Long",
            (false, true, _) => "Close Long",
            (false, _, _) => "Open Short",
        };
        let dir = match (&base, is_buy) {
            (Some(_), true) => "Buy",
            (Some(_), false) => "Sell",
            (None, _) => dir,
        };
        let mut f = json!({
            "coin": coin, "px": wire(px), "sz": wire(sz), "side": if is_buy { "B" } else { "A" },
            "time": self.now_ms, "startPosition": wire(applied.start), "dir": dir,
            "closedPnl": wire(applied.closed_pnl), "hash": format!("0x{:064x}", tid), "oid": oid,
            "crossed": taker, "fee": wire(fee), "tid": tid, "feeToken": fee_token, "twapId": self.twap_filling,
        });
        if let Some(c) = cloid {
            f["cloid"] = json!(c);
        }
        if let Some(b) = builder_fee {
            f["builderFee"] = json!(wire(b));
        }
        if let Some((mark, backstop)) = self.liquidating {
            let method = if backstop { "backstop" } else { "market" };
            f["liquidation"] =
                json!({"liquidatedUser": user.to_string(), "markPx": wire(mark), "method": method});
        }
        self.tape.push(history::Trade {
            coin: coin.to_string(),
            buy: is_buy,
            px,
            sz,
            time: self.now_ms,
            tid,
            user,
        });
        acct.fills.push(f.clone());
        if acct.fills.len() > 2_000 {
            acct.fills.remove(0);
        }
        pushes.push(Push {
            user,
            frame: json!({"channel":"userFills","data":{"user": user.to_string(), "fills":[f]}})
                .to_string(),
        });
    }
}
