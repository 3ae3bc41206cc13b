//! One WebSocket session with the simulator: subscriptions, posts (info and actions), pings,
//! and the faults that act on a connection.

use super::*;

pub(super) async fn ws_session(ws: WebSocketStream<TcpStream>, state: Arc<Mutex<State>>) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (conn, mut drop_rx) = {
        let mut s = state.lock().expect("sim state");
        let c = s.next_conn;
        s.next_conn += 1;
        s.sessions += 1;
        (c, s.drop_tx.subscribe())
    };
    let _ = sink
        .send(Message::text("Websocket connection established."))
        .await;
    loop {
        tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(p))) => { let _ = sink.send(Message::Pong(p)).await; continue; }
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                for reply in on_message(&state, conn, &tx, text.as_str()).await {
                    if sink.send(Message::text(reply)).await.is_err() {
                        break;
                    }
                }
            }
            out = rx.recv() => match out {
                Some(frame) => if sink.send(Message::text(frame)).await.is_err() { break },
                None => break,
            },
            _ = drop_rx.changed() => {
                // Injected disconnect: close the TCP connection without a goodbye.
                break;
            }
        }
    }
    state
        .lock()
        .expect("sim state")
        .subs
        .retain(|s| s.conn != conn);
}

/// The subscription as the venue acknowledges it (reference §1, and its recorded frames): an
/// `l2Book` one with `nSigFigs` and `mantissa` filled in as null, a `userFills` one with
/// `aggregateByTime` false; every other one as it was sent.
fn acked(sub: &Value) -> Value {
    let mut sub = sub.clone();
    let defaults: &[(&str, Value)] = match sub["type"].as_str() {
        Some("l2Book") => &[("nSigFigs", Value::Null), ("mantissa", Value::Null)],
        Some("userFills") => &[("aggregateByTime", Value::Bool(false))],
        _ => &[],
    };
    if let Some(o) = sub.as_object_mut() {
        for (k, v) in defaults {
            o.entry(*k).or_insert(v.clone());
        }
    }
    sub
}

async fn on_message(
    state: &Arc<Mutex<State>>,
    conn: u64,
    tx: &mpsc::UnboundedSender<String>,
    text: &str,
) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return vec![json!({"channel":"error","data": format!("Error parsing JSON into valid websocket request: {text}")}).to_string()];
    };
    match v["method"].as_str() {
        Some("ping") => vec![r#"{"channel":"pong"}"#.to_string()],
        Some("subscribe") | Some("unsubscribe") => {
            let sub = &v["subscription"];
            // A coin the venue does not list is an invalid subscription, as on the venue.
            let known = |c: &str| {
                state
                    .lock()
                    .expect("sim state")
                    .exchange
                    .market_index(c)
                    .is_some()
            };
            let coin = || {
                sub["coin"]
                    .as_str()
                    .filter(|c| known(c))
                    .map(str::to_string)
            };
            let user = || sub["user"].as_str().and_then(Address::parse);
            let dex = || sub["dex"].as_str().unwrap_or_default().to_string();
            let topic = match sub["type"].as_str() {
                Some("bbo") => coin().map(Topic::Bbo),
                Some("activeAssetCtx") => coin().map(Topic::Ctx),
                Some("l2Book") => coin().and_then(|c| {
                    let mantissa = match &sub["mantissa"] {
                        Value::Null => Some(1),
                        m => m
                            .as_u64()
                            .filter(|m| *m == 1 || ((*m == 2 || *m == 5) && sub["nSigFigs"] == 5)),
                    }?;
                    match &sub["nSigFigs"] {
                        Value::Null => Some(Topic::Book(c, None)),
                        n => n
                            .as_u64()
                            .filter(|n| (2..=5).contains(n))
                            .map(|n| Topic::Book(c, Some((n as u32, mantissa as u32)))),
                    }
                }),
                Some("trades") => coin().map(Topic::Trades),
                Some("allMids") => Some(Topic::AllMids),
                Some("candle") => coin().and_then(|c| {
                    let i = sub["interval"].as_str()?;
                    crate::sim::exchange::history::interval_ms(i)?;
                    Some(Topic::Candle(c, i.to_string()))
                }),
                Some("orderUpdates") => user().map(Topic::OrderUpdates),
                Some("userFills") => user().map(Topic::UserFills),
                Some("userEvents") => user().map(Topic::UserEvents),
                Some("userFundings") => user().map(Topic::UserFundings),
                Some("webData2") => user().map(Topic::WebData2),
                Some("webData3") => user().map(Topic::WebData3),
                Some("twapStates") => user().map(Topic::TwapStates),
                Some("openOrders") => user().map(|u| Topic::OpenOrders(u, dex())),
                Some("clearinghouseState") => user().map(|u| Topic::ClearinghouseState(u, dex())),
                Some("spotState") => user().map(Topic::SpotState),
                Some("assetCtxs") => Some(Topic::AssetCtxs(dex())),
                Some("allDexsAssetCtxs") => Some(Topic::AllDexsAssetCtxs),
                Some("allDexsClearinghouseState") => user().map(Topic::AllDexsClearinghouseState),
                Some("activeAssetData") => {
                    user().and_then(|u| coin().map(|c| Topic::AssetData(u, c)))
                }
                Some("userTwapSliceFills") => user().map(Topic::TwapSliceFills),
                Some("userTwapHistory") => user().map(Topic::TwapHistory),
                _ => None,
            };
            let Some(topic) = topic else {
                return vec![
                    json!({"channel":"error","data": format!("Invalid subscription {sub}")})
                        .to_string(),
                ];
            };
            let mut s = state.lock().expect("sim state");
            if v["method"] == "unsubscribe" {
                let before = s.subs.len();
                s.subs.retain(|x| !(x.conn == conn && x.topic == topic));
                if s.subs.len() == before {
                    return vec![
                        json!({"channel":"error","data": format!("Already unsubscribed: {sub}")})
                            .to_string(),
                    ];
                }
                return vec![json!({"channel":"subscriptionResponse","data":{"method":"unsubscribe","subscription":acked(sub)}}).to_string()];
            }
            if s.subs.iter().any(|x| x.conn == conn && x.topic == topic) {
                return vec![
                    json!({"channel":"error","data": format!("Already subscribed: {sub}")})
                        .to_string(),
                ];
            }
            let mut out = vec![json!({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":acked(sub)}}).to_string()];
            if let Topic::UserFundings(u) = &topic {
                let fundings: Vec<Value> = s
                    .exchange
                    .accounts
                    .get(u)
                    .map(|a| {
                        a.funding
                            .iter()
                            .map(|f| {
                                let mut d = f["delta"].clone();
                                d["time"] = f["time"].clone();
                                d.as_object_mut().map(|o| o.shift_remove("type"));
                                d
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(json!({"channel":"userFundings","data":{"isSnapshot": true, "user": u.to_string(), "fundings": fundings}}).to_string());
            }
            if let Some(f) = super::publish::user_state_frame(&s.exchange, &topic) {
                out.push(f);
            }
            match &topic {
                Topic::TwapSliceFills(u) | Topic::TwapHistory(u) => {
                    let a = s.exchange.accounts.get(u);
                    let (key, channel, list) = match &topic {
                        Topic::TwapSliceFills(_) => (
                            "twapSliceFills",
                            "userTwapSliceFills",
                            a.map(|a| a.twap_slice_fills.clone()),
                        ),
                        _ => (
                            "history",
                            "userTwapHistory",
                            a.map(|a| a.twap_history.clone()),
                        ),
                    };
                    out.push(json!({"channel": channel, "data": {"isSnapshot": true, "user": u.to_string(), key: list.unwrap_or_default()}}).to_string());
                }
                _ => {}
            }
            if let Topic::UserFills(u) = &topic {
                out.push(s.exchange.fills_snapshot(u));
                if s.faults.resend_fills_on_reconnect {
                    let recent: Vec<Value> = s
                        .exchange
                        .accounts
                        .get(u)
                        .map(|a| a.fills.iter().rev().take(5).cloned().collect())
                        .unwrap_or_default();
                    if !recent.is_empty() {
                        out.push(json!({"channel":"userFills","data":{"user": u.to_string(), "fills": recent}}).to_string());
                    }
                }
            }
            s.subs.push(Sub {
                conn,
                topic,
                tx: tx.clone(),
            });
            out
        }
        Some("post") => {
            let id = v["id"].clone();
            let req = &v["request"];
            let response = match req["type"].as_str() {
                Some("info") => match info(state, &req["payload"]) {
                    Ok(data) => {
                        json!({"type":"info","payload":{"type": req["payload"]["type"], "data": data}})
                    }
                    Err(e) => json!({"type":"error","payload": e}),
                },
                Some("action") => {
                    json!({"type":"action","payload": exchange(state, &req["payload"]).await})
                }
                _ => json!({"type":"error","payload":"unknown request type"}),
            };
            vec![json!({"channel":"post","data":{"id": id, "response": response}}).to_string()]
        }
        _ => vec![json!({"channel":"error","data": format!("Unknown method: {text}")}).to_string()],
    }
}
