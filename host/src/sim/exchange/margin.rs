//! Margin: `updateLeverage` and `updateIsolatedMargin`, and what the clock does to open
//! positions: funding payments and liquidations.

use super::transfers::ok;
use super::*;

impl Exchange {
    /// `updateLeverage`: cross or isolated, 1 to the market's maximum.
    pub(super) fn update_leverage(&mut self, user: Address, action: &Value) -> Value {
        let Some((coin, _, _)) = action["asset"]
            .as_u64()
            .and_then(|a| self.spec_of(a as u32))
        else {
            return err("Unknown asset.");
        };
        let i = self.market_index(&coin).expect("a market of the table");
        let max = self.markets[i].spec.max_leverage;
        let cross = action["isCross"].as_bool().unwrap_or(true);
        let lev = action["leverage"].as_u64().unwrap_or(0);
        if lev == 0 || lev > u64::from(max) {
            return err(format!(
                "Invalid leverage value: {lev} (1 to {max} on {coin})"
            ));
        }
        if cross && coin.contains(':') {
            return err(format!(
                "{coin} is isolated only: cross margin is not allowed"
            ));
        }
        self.accounts
            .get_mut(&user)
            .expect("account")
            .leverage
            .insert(coin, (cross, lev as u32));
        ok()
    }

    /// `updateIsolatedMargin`: `ntli` (USDC × 1e6) added to an isolated position's margin, or
    /// taken from it (never below what its leverage needs).
    pub(super) fn update_isolated_margin(&mut self, user: Address, action: &Value) -> Value {
        let Some((coin, _, _)) = action["asset"]
            .as_u64()
            .and_then(|a| self.spec_of(a as u32))
        else {
            return err("Unknown asset.");
        };
        let Some(ntli) = action["ntli"].as_i64() else {
            return err("missing ntli");
        };
        let amount = Decimal::new(ntli, 6);
        let acct = &self.accounts[&user];
        let (cross, _) = self.leverage_of(acct, &coin);
        let Some(p) = acct.positions.get(&coin).filter(|p| !p.szi.is_zero()) else {
            return err(format!("No position on {coin} to update its margin."));
        };
        if cross {
            return err(format!(
                "{coin} is cross margin: set isolated with updateLeverage first."
            ));
        }
        if p.margin_extra + amount < Decimal::ZERO {
            return err("Insufficient margin: cannot remove more than was added.");
        }
        if amount > Decimal::ZERO && !self.margin_free_for(&user, &coin, amount) {
            return err("Insufficient margin to add to the position.");
        }
        self.add_isolated_margin(user, &coin, amount)
    }

    /// Whether `amount` more margin for a position in `coin` is free: on a HIP-3 dex, in the
    /// collateral it holds beyond its positions' and orders' margin, or, under dex abstraction,
    /// on the main dex too; on the main dex, in what it could withdraw.
    fn margin_free_for(&self, user: &Address, coin: &str, amount: Decimal) -> bool {
        let a = &self.accounts[user];
        if !crate::venue::hyperliquid::info::dex_of(coin).is_empty() {
            if self.dex_margin_ok(a, coin, amount) {
                return true;
            }
            if !a.dex_abstraction() {
                return false;
            }
        }
        self.perp_free(user) >= amount
    }

    /// `topUpIsolatedOnlyMargin`: adds margin to an isolated position until its leverage (its
    /// notional at the mark over its margin) is `leverage`; it only adds.
    pub(super) fn top_up_isolated_margin(&mut self, user: Address, action: &Value) -> Value {
        let (Some(asset), Some(target)) = (
            action["asset"].as_u64(),
            action["leverage"]
                .as_str()
                .and_then(|s| Decimal::from_str(s).ok())
                .filter(|l| *l >= Decimal::ONE),
        ) else {
            return err("Invalid asset or leverage.");
        };
        let Some((coin, i, _)) = self.spec_of(asset as u32) else {
            return err(format!("Unknown asset {asset}."));
        };
        let a = &self.accounts[&user];
        let (cross, lev) = self.leverage_of(a, &coin);
        let Some(p) = a
            .positions
            .get(&coin)
            .filter(|p| !p.szi.is_zero() && !cross)
        else {
            return err("No isolated position to top up.");
        };
        let notional = p.szi.abs() * self.markets[i].mid(self.now_ms);
        let add = (notional / target - p.isolated_margin(lev)).round_dp(6);
        if add <= Decimal::ZERO {
            return err("The position's leverage is already at or under the target.");
        }
        if !self.margin_free_for(&user, &coin, add) {
            return err("Insufficient margin to top up.");
        }
        self.add_isolated_margin(user, &coin, add)
    }

    /// Adds `amount` (negative: takes it back) to an open isolated position's margin.
    fn add_isolated_margin(&mut self, user: Address, coin: &str, amount: Decimal) -> Value {
        let acct = self.accounts.get_mut(&user).expect("account");
        acct.positions.get_mut(coin).expect("position").margin_extra += amount;
        ok()
    }

    /// Funding on every hour passed: each open position pays size × oracle × rate (a long pays a
    /// positive rate, a short receives it), from the account's balance.
    pub(super) fn pay_funding(&mut self, now_ms: u64, pushes: &mut Vec<Push>) {
        while now_ms >= self.next_funding_ms {
            let at = self.next_funding_ms;
            for (user, acct) in self.accounts.iter_mut() {
                let mut paid = Vec::new();
                let mut settled = Vec::new();
                for (coin, p) in acct.positions.iter_mut().filter(|(_, p)| !p.szi.is_zero()) {
                    let Some((_, i)) = self.assets.get(coin) else {
                        continue;
                    };
                    let m = &self.markets[*i];
                    let rate = m.funding_rate();
                    let usdc = -(p.szi * m.oracle * rate).round_dp(6);
                    acct.usdc += usdc;
                    p.funding_since_open += usdc;
                    settled.push((coin.clone(), usdc));
                    acct.funding.push(json!({"time": at, "hash": format!("0x{:064x}", at),
                        "delta": {"type": "funding", "coin": coin, "usdc": wire(usdc), "szi": wire(p.szi),
                            "fundingRate": wire(rate), "nSamples": null}}));
                    paid.push(
                        json!({"time": at, "coin": coin, "usdc": wire(usdc), "szi": wire(p.szi),
                        "fundingRate": wire(rate), "nSamples": null}),
                    );
                }
                for (coin, usdc) in settled {
                    acct.settle_on_dex(&coin, usdc);
                }
                if !paid.is_empty() {
                    pushes.push(Push {
                        user: *user,
                        frame: json!({"channel": "userFundings", "data": {"user": user.to_string(), "fundings": paid}})
                            .to_string(),
                    });
                }
                if acct.funding.len() > 2_000 {
                    let extra = acct.funding.len() - 2_000;
                    acct.funding.drain(..extra);
                }
            }
            self.next_funding_ms += HOUR_MS;
        }
    }

    /// Liquidations, as the venue makes them (its docs, "Liquidations"), checked on every tick
    /// at the mark. Maintenance margin is half the initial margin at the market's maximum
    /// leverage. Cross positions are liquidated together when the cross equity (balance less
    /// isolated margin, plus the cross positions' unrealized PnL) falls below their maintenance;
    /// an isolated position when its margin plus unrealized PnL falls below its own.
    /// - Market liquidation: the position is closed by a market order at the mark; any collateral
    ///   left stays with the trader. A position worth more than `PARTIAL_LIQUIDATION_USD` has only
    ///   20% of it sent; for 30 s after a partial liquidation, the account's liquidations are for
    ///   whole positions.
    /// - Backstop liquidation, when the equity is below 2/3 of the maintenance margin: the
    ///   positions go to the liquidator at the mark, with no fee, and the maintenance margin is
    ///   not returned: the cross account (or the isolated position's margin) ends at zero.
    pub(super) fn liquidate(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let acct = &self.accounts[&user];
        let mut cross = Vec::new();
        let mut isolated = Vec::new();
        // A HIP-3 dex's idle collateral is that dex's, not the cross account's.
        let (mut equity, mut maint) = (acct.usdc - self.idle_dex_collateral(acct), Decimal::ZERO);
        for (coin, p) in acct.positions.iter().filter(|(_, p)| !p.szi.is_zero()) {
            let Some(i) = self.market_index(coin) else {
                continue;
            };
            let m = &self.markets[i];
            let mark = m.mid(now);
            let upnl = p.szi * (mark - p.entry_px);
            let mm = p.szi.abs() * mark / Decimal::from(2 * m.spec.max_leverage);
            let (is_cross, lev) = self.leverage_of(acct, coin);
            if is_cross {
                equity += upnl;
                maint += mm;
                cross.push((coin.clone(), p.szi, mark));
            } else {
                let margin = p.isolated_margin(lev);
                equity -= margin;
                let own = margin + upnl;
                if own < mm {
                    let backstop = own * Decimal::from(3) < mm * Decimal::TWO;
                    isolated.push((vec![(coin.clone(), p.szi, mark)], own, backstop, false));
                }
            }
        }
        let mut out = isolated;
        if !cross.is_empty() && equity < maint {
            let backstop = equity * Decimal::from(3) < maint * Decimal::TWO;
            out.push((cross, equity, backstop, true));
        }
        let whole = self.accounts[&user].partial_liquidation_until > now;
        for (positions, left, backstop, cross_group) in out {
            let mut partial = false;
            let mut ntl = Decimal::ZERO;
            let mut liquidated = Vec::new();
            for (coin, szi, mark) in positions {
                let lot = Decimal::new(
                    1,
                    self.market_index(&coin)
                        .map_or(0, |i| self.markets[i].spec.sz_decimals),
                );
                let sz = if !backstop && !whole && szi.abs() * mark > PARTIAL_LIQUIDATION_USD {
                    partial = true;
                    ((szi.abs() / Decimal::from(5)) / lot)
                        .floor()
                        .max(Decimal::ONE)
                        * lot
                } else {
                    szi.abs()
                };
                ntl += sz * mark;
                liquidated.push(json!({"coin": coin, "szi": wire(szi)}));
                self.liquidation_fill(user, &coin, szi, sz, mark, left, backstop, pushes);
            }
            let kind = if cross_group { "Cross" } else { "Isolated" };
            self.ledger(
                user,
                json!({"type": "liquidation", "liquidatedNtlPos": wire(ntl.round_dp(6)),
                    "accountValue": wire(left.round_dp(6)), "leverageType": kind,
                    "liquidatedPositions": liquidated}),
            );
            if partial {
                self.accounts
                    .get_mut(&user)
                    .expect("account")
                    .partial_liquidation_until = now + 30_000;
            }
            if backstop {
                // What was left of the liquidated margin goes with the positions.
                let a = self.accounts.get_mut(&user).expect("account");
                a.usdc -= left.max(Decimal::ZERO);
            }
        }
    }

    /// One liquidation fill at the mark, and the `user` channel's liquidation event.
    #[allow(clippy::too_many_arguments)]
    fn liquidation_fill(
        &mut self,
        user: Address,
        coin: &str,
        szi: Decimal,
        sz: Decimal,
        mark: Decimal,
        account_value: Decimal,
        backstop: bool,
        pushes: &mut Vec<Push>,
    ) {
        let tid = self.next_tid;
        self.liquidating = Some((mark, backstop));
        self.next_oid += 1;
        let oid = self.next_oid;
        self.fill(
            user,
            coin,
            szi.is_sign_negative(),
            mark,
            sz,
            oid,
            None,
            true,
            pushes,
        );
        self.liquidating = None;
        let liquidator = if backstop {
            LIQUIDATOR_VAULT
        } else {
            history::BOOK_SIDE
        };
        pushes.push(Push {
            user,
            frame: json!({"channel": "user", "data": {"liquidation": {"lid": tid,
                "liquidator": liquidator, "liquidated_user": user.to_string(),
                "liquidated_ntl_pos": wire((sz * mark).round_dp(6)),
                "liquidated_account_value": wire(account_value.round_dp(6))}}})
            .to_string(),
        });
    }
}

/// A liquidatable position worth more than this has only 20% of it sent to the book at a time:
/// the venue's testnet figure (its mainnet's is 100,000), as the simulator signs as testnet.
pub const PARTIAL_LIQUIDATION_USD: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// The simulated liquidator vault that takes backstop liquidations.
pub const LIQUIDATOR_VAULT: &str = "0x00000000000000000000000000000000000000ff";
