//! Delivering user pushes to their channels, and the channels published on the tick that are
//! not one market's: allMids, trades, candle,
//! webData2, twapStates, and the user-state channels.

use super::*;

/// The public and per-user channels not tied to one market tick: allMids (every tick), new
/// trades and the candles they change, webData2 (every 10th tick, about a second).
pub(super) fn publish(s: &mut State) {
    let mids = s
        .exchange
        .info(&json!({"type": "allMids"}))
        .unwrap_or_default();
    let mids = json!({"channel": "allMids", "data": {"mids": mids}}).to_string();
    let fresh = std::mem::take(&mut s.exchange.tape.fresh);
    let web = s.ticks % 10 == 1;
    let subs = std::mem::take(&mut s.subs);
    let mut kept = Vec::with_capacity(subs.len());
    for sub in subs {
        let frames: Vec<String> = match &sub.topic {
            Topic::AllMids => vec![mids.clone()],
            Topic::Trades(c) => {
                let t: Vec<Value> = fresh
                    .iter()
                    .filter(|t| t.coin == *c)
                    .map(|t| t.wire())
                    .collect();
                if t.is_empty() {
                    vec![]
                } else {
                    vec![json!({"channel": "trades", "data": t}).to_string()]
                }
            }
            Topic::Candle(c, i) if fresh.iter().any(|t| t.coin == *c) => s
                .exchange
                .current_candle(c, i)
                .map(|k| json!({"channel": "candle", "data": k}).to_string())
                .into_iter()
                .collect(),
            Topic::WebData2(u) if web => {
                vec![json!({"channel": "webData2", "data": s.exchange.web_data2(u)}).to_string()]
            }
            t @ (Topic::OpenOrders(..)
            | Topic::ClearinghouseState(..)
            | Topic::SpotState(_)
            | Topic::AssetData(..)
            | Topic::AssetCtxs(_)
            | Topic::AllDexsAssetCtxs
            | Topic::AllDexsClearinghouseState(_)
            | Topic::WebData3(_))
                if web =>
            {
                user_state_frame(&s.exchange, t).into_iter().collect()
            }
            Topic::TwapStates(u) if web => {
                let states: Vec<Value> = s
                    .exchange
                    .accounts
                    .get(u)
                    .map(|a| a.twaps.iter().map(|t| json!([t.id, t.state(u)])).collect())
                    .unwrap_or_default();
                vec![json!({"channel": "twapStates", "data": {"dex": "", "user": u.to_string(), "states": states}}).to_string()]
            }
            _ => vec![],
        };
        if frames.into_iter().all(|f| sub.tx.send(f).is_ok()) {
            kept.push(sub);
        }
    }
    s.subs = kept;
}

/// The frame of a state channel (`openOrders`, `clearinghouseState`, `spotState`,
/// `activeAssetData`, `assetCtxs`, `allDexsAssetCtxs`, `allDexsClearinghouseState`): sent when
/// subscribed, then about once a second.
pub(super) fn user_state_frame(ex: &Exchange, topic: &Topic) -> Option<String> {
    let (channel, data) = match topic {
        Topic::OpenOrders(u, dex) => (
            "openOrders",
            json!({"dex": dex, "user": u.to_string(), "orders": ex
                .info(&json!({"type": "frontendOpenOrders", "user": u.to_string(), "dex": dex}))
                .unwrap_or_default()}),
        ),
        Topic::ClearinghouseState(u, dex) => (
            "clearinghouseState",
            json!({"dex": dex, "user": u.to_string(), "clearinghouseState": ex
                .info(&json!({"type": "clearinghouseState", "user": u.to_string(), "dex": dex}))
                .unwrap_or_default()}),
        ),
        Topic::SpotState(u) => (
            "spotState",
            json!({"user": u.to_string(), "spotState": ex
                .info(&json!({"type": "spotClearinghouseState", "user": u.to_string()}))
                .unwrap_or_default()}),
        ),
        Topic::AssetData(u, coin) => ("activeAssetData", ex.active_asset_data(u, coin).ok()?),
        Topic::AssetCtxs(dex) => (
            "assetCtxs",
            json!({"dex": dex, "ctxs": ex.info(&json!({"type": "metaAndAssetCtxs", "dex": dex})).ok()?[1]}),
        ),
        Topic::AllDexsAssetCtxs => {
            let ctxs: Vec<Value> = ex
                .dex_names()
                .into_iter()
                .map(|d| {
                    let c = ex
                        .info(&json!({"type": "metaAndAssetCtxs", "dex": d}))
                        .unwrap_or_default();
                    json!([d, c[1]])
                })
                .collect();
            ("allDexsAssetCtxs", json!({"ctxs": ctxs}))
        }
        Topic::WebData3(u) => ("webData3", ex.web_data3(u)),
        Topic::AllDexsClearinghouseState(u) => {
            let states: Vec<Value> = ex
                .dex_names()
                .into_iter()
                .map(|d| {
                    let st = ex
                        .info(
                            &json!({"type": "clearinghouseState", "user": u.to_string(), "dex": d}),
                        )
                        .unwrap_or_default();
                    json!([d, st])
                })
                .collect();
            (
                "allDexsClearinghouseState",
                json!({"user": u.to_string(), "clearinghouseStates": states}),
            )
        }
        _ => return None,
    };
    Some(json!({"channel": channel, "data": data}).to_string())
}

/// Routes user pushes to the subscribers of that user's channel (losing every Nth fill frame
/// under the `drop_fill_every` fault).
pub(super) fn deliver(s: &mut State, pushes: Vec<Push>) {
    for p in pushes {
        let channel = p
            .frame
            .strip_prefix("{\"channel\":\"")
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_string();
        let fills = channel == "userFills";
        if !fills && channel != "orderUpdates" {
            // A `user` event (a liquidation), a funding payment, a TWAP's slice fills and
            // history go to their own channel alone, as they are.
            s.subs.retain(|sub| {
                let mine = match (&sub.topic, channel.as_str()) {
                    (Topic::UserEvents(u), "user")
                    | (Topic::UserFundings(u), "userFundings")
                    | (Topic::TwapSliceFills(u), "userTwapSliceFills")
                    | (Topic::TwapHistory(u), "userTwapHistory") => *u == p.user,
                    _ => false,
                };
                !mine || sub.tx.send(p.frame.clone()).is_ok()
            });
            continue;
        }
        if fills && s.faults.drop_fill_every > 0 {
            s.fill_frames += 1;
            if s.fill_frames % u64::from(s.faults.drop_fill_every) == 0 {
                s.fills_dropped += 1;
                continue;
            }
        }
        let frame = s.maybe_truncate(p.frame);
        // The `user` channel carries the same fills.
        let user_event = fills.then(|| {
            let v: Value = serde_json::from_str(&frame).unwrap_or_default();
            json!({"channel": "user", "data": {"fills": v["data"]["fills"]}}).to_string()
        });
        s.subs.retain(|sub| {
            let frame = match &sub.topic {
                Topic::OrderUpdates(u) if !fills && *u == p.user => &frame,
                Topic::UserFills(u) if fills && *u == p.user => &frame,
                Topic::UserEvents(u) if *u == p.user => match &user_event {
                    Some(f) => f,
                    None => return true,
                },
                _ => return true,
            };
            sub.tx.send(frame.clone()).is_ok()
        });
    }
}
