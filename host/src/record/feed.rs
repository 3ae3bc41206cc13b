//! `strategy-host record`'s own connections: one per venue, subscribed to the market channels of
//! every coin the config trades there (`bbo`, `l2Book`, `activeAssetCtx`), every frame handed to
//! the recorder. A dropped connection is recorded (`down`) and re-made with backoff; no account
//! is needed and nothing is ever sent but subscriptions and pings.

use super::Tap;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// One venue to record.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    pub name: String,
    pub ws_url: String,
    pub coins: Vec<String>,
}

/// What one venue's connection did.
#[derive(Debug, Clone, Default)]
pub struct FeedStats {
    pub sessions: u64,
    pub frames: u64,
    /// The last connection error, if any.
    pub last_error: Option<String>,
}

/// The subscriptions of one venue (the channels a backtest replays).
pub fn subscriptions(coins: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for coin in coins {
        for kind in ["bbo", "l2Book", "activeAssetCtx"] {
            out.push(
                serde_json::json!({"method":"subscribe","subscription":{"type":kind,"coin":coin}})
                    .to_string(),
            );
        }
    }
    out
}

/// Records `spec`'s feed until `stop` turns true.
pub async fn record_feed(spec: FeedSpec, tap: Tap, mut stop: watch::Receiver<bool>) -> FeedStats {
    let mut stats = FeedStats::default();
    let mut backoff = Duration::from_millis(500);
    loop {
        if *stop.borrow() {
            return stats;
        }
        match session(&spec, &tap, &mut stop, &mut stats).await {
            Ok(()) => return stats,
            Err(e) => {
                tap.session("down");
                tracing::warn!(venue = %spec.name, "recording connection: {e}; reconnecting");
                stats.last_error = Some(e);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return stats,
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn session(
    spec: &FeedSpec,
    tap: &Tap,
    stop: &mut watch::Receiver<bool>,
    stats: &mut FeedStats,
) -> Result<(), String> {
    let connect = tokio_tungstenite::connect_async(spec.ws_url.as_str());
    let (ws, _) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| format!("connecting to {}: timed out", spec.ws_url))?
        .map_err(|e| format!("connecting to {}: {e}", spec.ws_url))?;
    stats.sessions += 1;
    tap.session("connected");
    let (mut sink, mut stream) = ws.split();
    for s in subscriptions(&spec.coins) {
        let frame = Utf8Bytes::from(s);
        tap.frame_out(&frame);
        sink.send(Message::Text(frame))
            .await
            .map_err(|e| e.to_string())?;
    }
    tap.session("ready");
    // The venue closes a connection idle for 60 s: a ping every 30 s keeps it.
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                None => return Err("end of stream".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(Message::Text(t))) => {
                    stats.frames += 1;
                    tap.frame_in(&t);
                }
                Some(Ok(Message::Close(c))) => return Err(format!("close frame {c:?}")),
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                sink.send(Message::text(r#"{"method":"ping"}"#)).await.map_err(|e| e.to_string())?;
            }
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                tap.session("down");
                return Ok(());
            }
        }
    }
}
