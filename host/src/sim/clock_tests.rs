//! The simulator driven by its own clock: funding on the hour, liquidations, TWAP suborders,
//! and the books' aggregation.

use super::exchange::Exchange;
use super::market::MarketSpec;
use super::tests::{AGENT, KEY, ex, order, raw, signed, status, with_markets};
use crate::venue::hyperliquid::actions::TifWire;
use crate::venue::hyperliquid::signing::PrivateKey;
use rust_decimal::Decimal;
use serde_json::json;

#[test]
fn open_positions_pay_funding_on_the_hour_and_user_funding_lists_it() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    buy(&mut e, "1");
    let before = e.accounts[&owner].usdc;
    let oracle = e.markets[0].oracle;
    // The next hour: a long of 1 pays 1 × oracle × 0.0000125.
    let hour = (e.now_ms / 3_600_000 + 1) * 3_600_000;
    e.tick(hour - 1);
    assert_eq!(e.accounts[&owner].usdc, before, "nothing before the hour");
    let pushes = e.tick(hour);
    assert!(
        pushes
            .iter()
            .any(|p| p.frame.starts_with("{\"channel\":\"userFundings\"")),
        "the payment is pushed to userFundings"
    );
    let oracle_then = e.markets[0].oracle;
    let paid = (oracle_then * Decimal::new(125, 7)).round_dp(6);
    assert_eq!(
        e.accounts[&owner].usdc,
        before - paid,
        "oracle {oracle} then {oracle_then}"
    );
    let f = e
        .info(&json!({"type":"userFunding","user": owner.to_string(),"startTime": 0}))
        .unwrap();
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f[0]["time"], hour);
    assert_eq!(f[0]["delta"]["type"], "funding");
    assert_eq!(
        f[0]["delta"]["usdc"],
        crate::venue::hyperliquid::tick::wire(-paid)
    );
    let state = e
        .info(&json!({"type":"clearinghouseState","user": owner.to_string(),"dex":""}))
        .unwrap();
    assert_eq!(
        state["assetPositions"][0]["position"]["cumFunding"]["sinceOpen"],
        crate::venue::hyperliquid::tick::wire(paid)
    );
    // The HIP-3 market is isolated only: cross leverage is refused, isolated accepted.
    let lev = |e: &mut Exchange, cross: bool| {
        raw(
            e,
            json!({"type": "updateLeverage", "asset": 110000, "isCross": cross, "leverage": 3}),
        )
    };
    let r = lev(&mut e, true);
    assert_eq!(r["status"], "err", "{r}");
    assert!(
        r["response"].as_str().unwrap().contains("isolated only"),
        "{r}"
    );
    assert_eq!(lev(&mut e, false)["status"], "ok");
}

/// Buys `sz` BTC at the ask with the test account's agent.
fn buy(e: &mut Exchange, sz: &str) {
    let (_, ask) = e.markets[0].bbo(e.now_ms);
    let (r, _) = e.exchange(&signed(
        AGENT,
        &order(
            0,
            true,
            &(ask + Decimal::ONE).to_string(),
            sz,
            TifWire::Ioc,
            false,
        ),
        e.now_ms,
    ));
    assert_eq!(status(&r)["filled"]["totalSz"], format!("{sz}.0"), "{r}");
}

#[test]
fn liquidations_are_partial_for_large_positions_then_whole_and_backstop_below_two_thirds() {
    let spec: MarketSpec = toml::from_str(
        "coin = \"BTC\"\nsz_decimals = 3\nprice = 100\ndislocation_every_ms = 0\nvol_bps = 0\nhalf_spread_bps = 0.01\nlevel_size = 100000\nmax_leverage = 20\n",
    )
    .unwrap();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let t0 = 1_700_000_000_000;
    let mut e = with_markets(vec![spec], t0);
    // 1,900 at about 100: 19x on 10,000, worth 190,000 (over the 10,000 of a partial one).
    buy(&mut e, "1900");
    assert!(
        e.tick(t0 + 100)
            .iter()
            .all(|p| !p.frame.contains("liquidation"))
    );
    // At 97 the equity (about 4,300) is under maintenance (1,900 × 97 / 40 = 4,607.5) but over
    // two thirds of it: a market liquidation, of 20% of the position.
    e.markets[0].oracle = Decimal::from(97);
    let pushes = e.tick(t0 + 200);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(1_520));
    let fill = e.accounts[&owner].fills.last().unwrap().clone();
    assert_eq!(fill["liquidation"]["method"], "market", "{fill}");
    assert_eq!(fill["side"], "A");
    assert_eq!(fill["sz"], "380.0");
    assert_eq!(fill["px"], fill["liquidation"]["markPx"]);
    assert_ne!(
        fill["fee"], "0.0",
        "a market liquidation pays the taker fee"
    );
    assert!(
        pushes
            .iter()
            .any(|p| p.frame.starts_with("{\"channel\":\"user\"")
                && p.frame.contains("liquidated_user")),
        "a liquidation event for the user channel"
    );
    // That restored the margin: nothing more is liquidated at this price.
    e.tick(t0 + 300);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(1_520));
    // Within the 30 s cooldown a liquidation takes the whole position.
    e.markets[0].oracle = Decimal::new(965, 1);
    e.tick(t0 + 10_000);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::ZERO);
    let left = e.accounts[&owner].usdc;
    assert!(
        left > Decimal::ZERO && left < Decimal::from(4_000),
        "{left}"
    );

    // A gap to under two thirds of maintenance: the backstop takes the position with no fee,
    // and the maintenance margin is not returned: the account ends at zero.
    e.markets[0].oracle = Decimal::from(100);
    e.tick(t0 + 60_000);
    let sz = (left * Decimal::from(19) / Decimal::from(100)).floor();
    buy(&mut e, &sz.to_string());
    e.markets[0].oracle = Decimal::from(96);
    e.tick(t0 + 60_100);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::ZERO);
    let fill = e.accounts[&owner].fills.last().unwrap().clone();
    assert_eq!(fill["liquidation"]["method"], "backstop", "{fill}");
    assert_eq!(fill["fee"], "0.0", "{fill}");
    assert_eq!(e.accounts[&owner].usdc, Decimal::ZERO);
}

#[test]
fn a_twap_order_executes_in_30_s_suborders_over_its_minutes_and_its_fills_say_so() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let t0 = e.now_ms;
    // 5 BTC (at 100) over 5 minutes: 10 suborders of 0.5, the first at once.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "5", "r": false, "m": 5, "t": false}}),
    );
    let id = r["response"]["data"]["status"]["running"]["twapId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::new(5, 1));
    let mut history = Vec::new();
    for k in 1..=12 {
        let pushes = e.tick(t0 + k * 30_000);
        history.extend(
            pushes
                .into_iter()
                .filter(|p| p.frame.contains("\"channel\":\"userTwapHistory\"")),
        );
    }
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(5));
    let slices = &e.accounts[&owner].twap_slice_fills;
    assert_eq!(slices.len(), 10, "one fill per suborder at this depth");
    assert!(
        slices
            .iter()
            .all(|s| s["twapId"] == id && s["fill"]["twapId"] == id)
    );
    let h = &e.accounts[&owner].twap_history;
    assert_eq!(h[0]["status"]["status"], "activated");
    assert_eq!(h[1]["status"]["status"], "finished");
    assert_eq!(h[1]["state"]["executedSz"], "5.0");
    assert_eq!(history.len(), 1, "the finish was pushed");
    assert!(e.accounts[&owner].twaps.is_empty());

    // A cancelled one keeps what it executed, and says so.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": false, "s": "5", "r": true, "m": 5, "t": false}}),
    );
    let id = r["response"]["data"]["status"]["running"]["twapId"]
        .as_u64()
        .unwrap();
    let r = raw(&mut e, json!({"type": "twapCancel", "a": 0, "t": id}));
    assert_eq!(r["response"]["data"]["status"], "success", "{r}");
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::new(45, 1));
    let last = e.accounts[&owner].twap_history.last().unwrap().clone();
    assert_eq!(last["status"]["status"], "terminated");
    let r = raw(&mut e, json!({"type": "twapCancel", "a": 0, "t": id}));
    assert!(r["response"]["data"]["status"]["error"].is_string(), "{r}");
    // Too small per suborder is refused.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "0.001", "r": false, "m": 60, "t": false}}),
    );
    assert!(r["response"]["data"]["status"]["error"].is_string(), "{r}");
}

#[test]
fn books_aggregate_to_significant_figures_and_mantissa_below_one_too() {
    use crate::sim::exchange::history::aggregate;
    let levels = |v: &[(&str, &str)]| -> Vec<(Decimal, Decimal)> {
        v.iter()
            .map(|(p, s)| (p.parse().unwrap(), s.parse().unwrap()))
            .collect()
    };
    let bids = levels(&[("0.19995", "1"), ("0.19985", "2"), ("0.19875", "4")]);
    // 3 figures of 0.19995 are 0.199 (a step of 0.001), not 0.1.
    assert_eq!(
        aggregate(&bids, 3, 1, true),
        levels(&[("0.199", "3"), ("0.198", "4")])
    );
    let asks = levels(&[("64001", "1"), ("64003", "1"), ("64011", "1")]);
    assert_eq!(aggregate(&asks, 5, 1, false), asks);
    // 5 figures with mantissa 5: a step of 5.
    assert_eq!(
        aggregate(&asks, 5, 5, false),
        levels(&[("64005", "2"), ("64015", "1")])
    );
    assert_eq!(aggregate(&asks, 2, 1, false), levels(&[("65000", "3")]));
}

#[test]
fn a_staking_withdrawal_reaches_the_spot_wallet_after_seven_days() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let t0 = e.now_ms;
    e.accounts
        .get_mut(&owner)
        .unwrap()
        .staking
        .pending
        .push((Decimal::new(2, 1), t0 + 7 * 86_400_000));
    e.tick(t0 + 7 * 86_400_000 - 1);
    assert_eq!(e.accounts[&owner].spot_total("HYPE"), Decimal::ZERO);
    e.tick(t0 + 7 * 86_400_000);
    let a = &e.accounts[&owner];
    assert_eq!(a.spot_total("HYPE"), Decimal::new(2, 1));
    assert!(a.staking.pending.is_empty());
    assert_eq!(
        a.staking.history.last().unwrap()["delta"]["withdrawal"]["phase"],
        "finalized"
    );
}

/// Staking rewards at the venue's rate (2.37% a year at 400M HYPE staked, the simulator's
/// default network), accrued by the minute, distributed at 00:00 UTC and redelegated: the
/// second day's reward is on the first's too.
#[test]
fn staking_rewards_accrue_by_the_minute_and_compound_daily() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let validator =
        crate::venue::hyperliquid::signing::Address::parse(super::exchange::staking::VALIDATOR)
            .unwrap();
    let t0 = e.now_ms;
    let thousand = Decimal::from(1_000);
    e.accounts
        .get_mut(&owner)
        .unwrap()
        .staking
        .delegations
        .insert(validator, (thousand, t0));
    e.tick(t0 + 1);
    let day = 86_400_000u64;
    let midnight = (t0 / day + 1) * day;
    e.tick(midnight + day);
    let q = json!({"type": "delegatorRewards", "user": owner.to_string()});
    let rewards = e.info(&q).unwrap();
    let r = rewards.as_array().unwrap();
    assert_eq!(r.len(), 2, "{rewards}");
    let amount = |x: &serde_json::Value| {
        x["totalAmount"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap()
    };
    // Newest first: the day after the first midnight, then the partial first day.
    assert_eq!(
        (r[0]["time"].as_u64(), r[1]["time"].as_u64()),
        (Some(midnight + day), Some(midnight))
    );
    let per_minute = thousand * Decimal::new(237, 4) / Decimal::from(525_600);
    let first_minutes = Decimal::from((midnight - (t0 / 60_000 + 1) * 60_000) / 60_000 + 1);
    let close = |got: Decimal, want: Decimal| (got - want).abs() < Decimal::new(1, 7);
    assert!(
        close(amount(&r[1]), per_minute * first_minutes),
        "{rewards}"
    );
    let second = per_minute * Decimal::from(1_440) * (thousand + amount(&r[1])) / thousand;
    assert!(close(amount(&r[0]), second), "{rewards}: {second}");
    assert_eq!(
        e.accounts[&owner].staking.delegations[&validator].0,
        thousand + amount(&r[0]) + amount(&r[1]),
        "redelegated"
    );
    let apr =
        e.info(&json!({"type": "validatorSummaries"})).unwrap()[0]["stats"][0][1]["predictedApr"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap();
    assert!(close(apr, Decimal::new(237, 4)), "{apr}");
}

/// A TWAP that fell behind catches up by at most 3 times its standard suborder, as the venue's
/// docs give it; a randomized one varies each suborder's size, by at most ±20% here.
#[test]
fn twap_catch_up_is_capped_at_three_suborders_and_randomize_varies_them() {
    let run = |randomize: bool, stall_slices: u64| {
        let mut e = ex();
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let t0 = e.now_ms;
        e.markets[0].stalled = stall_slices > 0;
        let r = raw(
            &mut e,
            json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "5", "r": false, "m": 5, "t": randomize}}),
        );
        assert_eq!(r["status"], "ok", "{r}");
        for k in 1..=12 {
            if k == stall_slices {
                e.markets[0].stalled = false;
            }
            e.tick(t0 + k * 30_000);
        }
        let sizes: Vec<Decimal> = e.accounts[&owner]
            .twap_slice_fills
            .iter()
            .map(|s| s["fill"]["sz"].as_str().unwrap().parse().unwrap())
            .collect();
        (sizes, e.accounts[&owner].position("BTC"))
    };
    // Stalled for its first 9 suborders: the last one takes 3 × 0.5, not the 5 left.
    let (sizes, pos) = run(false, 9);
    assert_eq!(
        (sizes, pos),
        (vec![Decimal::new(15, 1)], Decimal::new(15, 1))
    );
    let (plain, _) = run(false, 0);
    let (random, pos) = run(true, 0);
    assert!(plain.iter().all(|s| *s == Decimal::new(5, 1)), "{plain:?}");
    assert_ne!(random, plain);
    assert!(
        random
            .iter()
            .all(|s| *s >= Decimal::new(4, 1) && *s <= Decimal::new(15, 1)),
        "{random:?}"
    );
    assert!(pos > Decimal::ZERO);
}
