//! The explorer (`POST /explorer`, the venue's RPC explorer requests): every tick is a block,
//! and every signed action the simulator takes (accepted or refused, but signed by a known user)
//! is a transaction in the next one, with its action, its error (the refusal's text) and the
//! account that signed it. `blockDetails` (the last 100,000 blocks), `txDetails` and
//! `userDetails` (a user's last 200) answer from them.

use super::*;
use std::collections::VecDeque;

const BLOCKS_KEPT: usize = 100_000;
const TXS_KEPT: usize = 20_000;
const USER_TXS: usize = 200;

/// The simulator's chain: its height, recent blocks' times, recent transactions.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Chain {
    pub height: u64,
    /// (height, time ms) of the recent blocks, oldest first.
    pub blocks: VecDeque<(u64, u64)>,
    /// The recent transactions, oldest first.
    pub txs: VecDeque<Tx>,
}

/// One transaction, as the explorer shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tx {
    pub action: Value,
    pub block: u64,
    pub error: Option<String>,
    pub hash: String,
    pub time: u64,
    pub user: Address,
}

impl Tx {
    fn wire(&self) -> Value {
        json!({"action": self.action, "block": self.block, "error": self.error, "hash": self.hash,
            "time": self.time, "user": self.user.to_string()})
    }
}

impl Exchange {
    /// A new block, at the tick's time.
    pub(super) fn new_block(&mut self) {
        let c = &mut self.chain;
        c.height += 1;
        c.blocks.push_back((c.height, self.now_ms));
        if c.blocks.len() > BLOCKS_KEPT {
            c.blocks.pop_front();
        }
    }

    /// Records a signed request and the answer it got, as a transaction of the next block (an
    /// action nobody known signed is not one).
    pub(super) fn record_tx(&mut self, req: &Value, resp: &Value) {
        let Some(user) = self.signed_by.take() else {
            return;
        };
        let bytes = serde_json::to_vec(req).unwrap_or_default();
        let hash = crate::venue::hyperliquid::signing::to_hex(
            &crate::venue::hyperliquid::signing::keccak(&bytes),
        );
        let error = (resp["status"] == "err")
            .then(|| resp["response"].as_str().unwrap_or("error").to_string());
        let c = &mut self.chain;
        c.txs.push_back(Tx {
            action: req["action"].clone(),
            block: c.height + 1,
            error,
            hash,
            time: self.now_ms,
            user,
        });
        if c.txs.len() > TXS_KEPT {
            c.txs.pop_front();
        }
    }

    /// An explorer request: `blockDetails`, `txDetails`, `userDetails`.
    pub fn explorer(&self, req: &Value) -> Result<Value, String> {
        let c = &self.chain;
        match req["type"].as_str().ok_or("missing `type`")? {
            "blockDetails" => {
                let h = req["height"].as_u64().ok_or("missing `height`")?;
                let (_, time) = c
                    .blocks
                    .iter()
                    .find(|(b, _)| *b == h)
                    .ok_or_else(|| format!("Block {h} not found."))?;
                let txs: Vec<Value> = c
                    .txs
                    .iter()
                    .filter(|t| t.block == h)
                    .map(Tx::wire)
                    .collect();
                let hash = crate::venue::hyperliquid::signing::to_hex(
                    &crate::venue::hyperliquid::signing::keccak(
                        &[h.to_be_bytes(), time.to_be_bytes()].concat(),
                    ),
                );
                Ok(
                    json!({"type": "blockDetails", "blockDetails": {"blockTime": time, "hash": hash,
                    "height": h, "numTxs": txs.len(), "proposer": super::staking::VALIDATOR, "txs": txs}}),
                )
            }
            "txDetails" => {
                let hash = req["hash"].as_str().ok_or("missing `hash`")?.to_lowercase();
                let tx = c
                    .txs
                    .iter()
                    .find(|t| t.hash == hash)
                    .ok_or_else(|| format!("Transaction {hash} not found."))?;
                Ok(json!({"type": "txDetails", "tx": tx.wire()}))
            }
            "userDetails" => {
                let user = req["user"]
                    .as_str()
                    .and_then(Address::parse)
                    .ok_or("missing or bad `user`")?;
                let txs: Vec<Value> = c
                    .txs
                    .iter()
                    .rev()
                    .filter(|t| t.user == user)
                    .take(USER_TXS)
                    .map(Tx::wire)
                    .collect();
                Ok(json!({"type": "userDetails", "txs": txs}))
            }
            other => Err(format!("unknown explorer request {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::{KEY, ex, raw};
    use crate::venue::hyperliquid::signing::PrivateKey;

    /// A refused action is a transaction with its error; one nobody known signed is none; a
    /// transaction is in the block after it, which the explorer finds by height.
    #[test]
    fn every_signed_action_is_a_transaction_in_the_next_block() {
        let mut e = ex();
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let h = e.chain.height;
        raw(&mut e, json!({"type": "noop"}));
        let r = raw(
            &mut e,
            json!({"type": "updateLeverage", "asset": 0, "isCross": true, "leverage": 500}),
        );
        assert_eq!(r["status"], "err");
        let forged = json!({"action": {"type": "noop"}, "nonce": 1, "signature": {"r": "0x1", "s": "0x1", "v": 27}});
        e.exchange(&forged);
        e.tick(e.now_ms + 100);
        let q = json!({"type": "userDetails", "user": owner.to_string()});
        let txs = e.explorer(&q).unwrap()["txs"].as_array().unwrap().clone();
        assert_eq!(txs.len(), 2, "{txs:?}");
        assert_eq!(
            txs[0]["error"], r["response"],
            "newest first, with its refusal"
        );
        assert_eq!(
            (txs[1]["action"]["type"].as_str(), &txs[1]["error"]),
            (Some("noop"), &Value::Null)
        );
        let block = txs[0]["block"].as_u64().unwrap();
        assert_eq!(block, h + 1);
        let b = e
            .explorer(&json!({"type": "blockDetails", "height": block}))
            .unwrap();
        assert_eq!(b["blockDetails"]["numTxs"], 2);
        let t = e
            .explorer(&json!({"type": "txDetails", "hash": txs[1]["hash"]}))
            .unwrap();
        assert_eq!(t["tx"]["action"]["type"], "noop");
        assert!(
            e.explorer(&json!({"type": "blockDetails", "height": block + 1}))
                .is_err(),
            "not made yet"
        );
    }
}
