//! Funding payments and liquidations: what the clock does to open positions.

use super::*;

impl Exchange {
    /// Funding on every hour passed: each open position pays size × oracle × rate (a long pays a
    /// positive rate, a short receives it), from the account's balance.
    pub(super) fn pay_funding(&mut self, now_ms: u64, pushes: &mut Vec<Push>) {
        while now_ms >= self.next_funding_ms {
            let at = self.next_funding_ms;
            for (user, acct) in self.accounts.iter_mut() {
                let mut paid = Vec::new();
                for (coin, p) in acct.positions.iter_mut().filter(|(_, p)| !p.szi.is_zero()) {
                    let Some((_, i)) = self.assets.get(coin) else {
                        continue;
                    };
                    let m = &self.markets[*i];
                    let rate = m.funding_rate();
                    let usdc = -(p.szi * m.oracle * rate).round_dp(6);
                    acct.usdc += usdc;
                    p.funding_since_open += usdc;
                    acct.funding.push(json!({"time": at, "hash": format!("0x{:064x}", at),
                        "delta": {"type": "funding", "coin": coin, "usdc": wire(usdc), "szi": wire(p.szi),
                            "fundingRate": wire(rate), "nSamples": null}}));
                    paid.push(
                        json!({"time": at, "coin": coin, "usdc": wire(usdc), "szi": wire(p.szi),
                        "fundingRate": wire(rate), "nSamples": null}),
                    );
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

    /// Liquidations, as the venue makes them at the mark: every cross position of an account
    /// whose cross equity (balance less isolated margin, plus the cross positions' unrealized
    /// PnL) fell below their maintenance margin (half the initial margin at the market's maximum
    /// leverage); an isolated position whose margin plus unrealized PnL fell below its own.
    pub(super) fn liquidate(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let acct = &self.accounts[&user];
        let mut cross = Vec::new();
        let mut isolated_out = Vec::new();
        let (mut equity, mut maint) = (acct.usdc, Decimal::ZERO);
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
                if margin + upnl < mm {
                    isolated_out.push((coin.clone(), p.szi, mark));
                }
            }
        }
        let mut out = isolated_out;
        if !cross.is_empty() && equity < maint {
            out.extend(cross);
        }
        for (coin, szi, mark) in out {
            let tid = self.next_tid;
            self.liquidating = Some(mark);
            self.next_oid += 1;
            let oid = self.next_oid;
            self.fill(
                user,
                &coin,
                szi.is_sign_negative(),
                mark,
                szi.abs(),
                oid,
                None,
                true,
                pushes,
            );
            self.liquidating = None;
            pushes.push(Push {
                user,
                frame: json!({"channel": "user", "data": {"liquidation": {"lid": tid,
                    "liquidator": history::BOOK_SIDE, "liquidated_user": user.to_string(),
                    "liquidated_ntl_pos": wire((szi.abs() * mark).round_dp(6)),
                    "liquidated_account_value": wire(equity.round_dp(6))}}})
                .to_string(),
            });
        }
    }
}
