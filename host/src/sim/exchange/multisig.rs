//! Multi-sig users, as the venue's docs give them (HyperCore, "Multi-sig"): a user becomes one
//! with `convertToMultiSigUser` (its authorized users, at most 10, each an existing user and not
//! an agent, and how many must sign); from then on all its actions come wrapped in `multiSig`,
//! which carries the authorized users' signatures over (multi-sig user, outer signer, action)
//! and is sent, and signed as `HyperliquidTransaction:SendMultiSig`, by the outer signer: an
//! authorized user or one of its agents, whose nonce is the one checked. A `multiSig` wrapping
//! `convertToMultiSigUser` changes the signers, or, with none, makes the user normal again. The
//! info request `userToMultiSigSigners`.

use super::transfers::{ok, user_signed, user_signed_digest_for};
use super::*;

/// The most authorized users a multi-sig user may have.
const MAX_SIGNERS: usize = 10;

/// The answer to an action a multi-sig user signs itself.
pub const DIRECT: &str = "This user is a multi-sig user: its actions must be sent with multiSig.";

/// Who may sign for a multi-sig user, and how many must.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiSig {
    pub authorized: Vec<Address>,
    pub threshold: usize,
}

impl Exchange {
    /// `convertToMultiSigUser` for `user` (sent by the user, or through `multiSig` when it is one
    /// already): `signers` is JSON, `{"authorizedUsers": [...], "threshold": n}`, or `null` (or
    /// no users) to make a multi-sig user normal again.
    pub(super) fn convert_to_multi_sig(&mut self, user: Address, action: &Value) -> Value {
        let Some(signers) = action["signers"]
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            return err("Invalid signers: expected JSON.");
        };
        let users: Vec<Option<Address>> = signers["authorizedUsers"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|u| u.as_str().and_then(Address::parse))
                    .collect()
            })
            .unwrap_or_default();
        let is_multi = self.accounts[&user].multi_sig.is_some();
        if users.is_empty() {
            if !is_multi {
                return err("User is not a multi-sig user.");
            }
            self.accounts.get_mut(&user).expect("account").multi_sig = None;
            return ok();
        }
        let Some(mut authorized) = users.into_iter().collect::<Option<Vec<Address>>>() else {
            return err("Invalid signers: an authorized user is not an address.");
        };
        authorized.sort();
        authorized.dedup();
        let threshold = signers["threshold"].as_u64().unwrap_or(0) as usize;
        if authorized.len() > MAX_SIGNERS {
            return err(format!(
                "A multi-sig user has at most {MAX_SIGNERS} authorized users."
            ));
        }
        if threshold == 0 || threshold > authorized.len() {
            return err("Invalid threshold: between 1 and the number of authorized users.");
        }
        if let Some(a) = authorized
            .iter()
            .find(|a| **a == user || !self.accounts.contains_key(a) || self.agents.contains_key(a))
        {
            return err(format!(
                "Authorized user {a} must be an existing user, not an agent or the multi-sig user itself."
            ));
        }
        self.accounts.get_mut(&user).expect("account").multi_sig = Some(MultiSig {
            authorized,
            threshold,
        });
        ok()
    }

    /// `multiSig`: checks the outer signature, the outer signer's nonce and the authorized users'
    /// signatures, then runs the wrapped action as the multi-sig user.
    pub(super) fn multi_sig(
        &mut self,
        action: &Value,
        nonce: u64,
        vault: Option<Address>,
        expires: Option<u64>,
        sig: &Signature,
        pushes: &mut Vec<Push>,
    ) -> Value {
        let payload = &action["payload"];
        let (Some(user), Some(outer)) = (
            payload["multiSigUser"].as_str().and_then(Address::parse),
            payload["outerSigner"].as_str().and_then(Address::parse),
        ) else {
            return err("Invalid multiSig payload: multiSigUser and outerSigner are addresses.");
        };
        let inner = &payload["action"];
        // The outer signer signs the action's hash (the action less its type) as a user-signed
        // SendMultiSig.
        let mut rest = action.clone();
        if let Some(m) = rest.as_object_mut() {
            m.shift_remove("type");
        }
        let mut buf = Vec::new();
        if msgpack_into(&rest, &mut buf).is_err() {
            return err("unencodable action");
        }
        let hash = action_hash(&buf, nonce, vault.as_ref(), expires);
        let envelope = json!({"signatureChainId": action["signatureChainId"], "hyperliquidChain": "Testnet",
            "multiSigActionHash": crate::venue::hyperliquid::signing::to_hex(&hash), "nonce": nonce});
        let fields = [
            ("hyperliquidChain", "string"),
            ("multiSigActionHash", "bytes32"),
            ("nonce", "uint64"),
        ];
        let Some(digest) = crate::venue::hyperliquid::signing::user_signed_digest(
            "HyperliquidTransaction:SendMultiSig",
            &fields,
            &envelope,
        ) else {
            return err("Invalid multiSig: signatureChainId missing.");
        };
        if sig.recover(&digest) != Some(outer) {
            return err("Invalid multiSig: the signature is not the outer signer's.");
        }
        let leader = if self.accounts.contains_key(&outer) {
            outer
        } else if let Some(owner) = self.agents.get(&outer) {
            *owner
        } else {
            return err(format!("User or API Wallet {outer} does not exist."));
        };
        self.signed_by = Some(leader);
        if expires.is_some_and(|t| t < self.now_ms) {
            return err("Action expired");
        }
        let Some(ms) = self.accounts.get(&user).and_then(|a| a.multi_sig.clone()) else {
            return err(format!("User {user} is not a multi-sig user."));
        };
        if !ms.authorized.contains(&leader) {
            return err(format!(
                "The outer signer {outer} is not an authorized user of {user} or its agent."
            ));
        }
        let now = self.now_ms;
        if let Err(e) = self
            .accounts
            .get_mut(&leader)
            .expect("account")
            .check_nonce(nonce, now)
        {
            return err(e);
        }
        // Each authorized user signed (multi-sig user, outer signer, action): an L1 action as a
        // list of the three, a user-signed one with the two addresses among its fields.
        let kind = inner["type"].as_str().unwrap_or_default();
        let inner_digest = if user_signed(kind).is_some() {
            match user_signed_digest_for(inner, Some((user, outer))) {
                Ok((d, _)) => d,
                Err(e) => return err(e),
            }
        } else {
            let mut buf = Vec::new();
            let signed = json!([user.to_string(), outer.to_string(), inner]);
            if msgpack_into(&signed, &mut buf).is_err() {
                return err("unencodable action");
            }
            agent_digest(&action_hash(&buf, nonce, vault.as_ref(), expires), false)
        };
        let mut signed_by = std::collections::BTreeSet::new();
        for s in action["signatures"].as_array().into_iter().flatten() {
            let Some(signer) =
                super::actions::parse_signature(s).and_then(|s| s.recover(&inner_digest))
            else {
                return err("Invalid multiSig: a signature is malformed.");
            };
            if !ms.authorized.contains(&signer) {
                return err(format!(
                    "Invalid multiSig: {signer} is not an authorized user of {user} (or signed something else)."
                ));
            }
            signed_by.insert(signer);
        }
        if signed_by.len() < ms.threshold {
            return err(format!(
                "Invalid multiSig: {} of the {} authorized signatures needed.",
                signed_by.len(),
                ms.threshold
            ));
        }
        if kind == "convertToMultiSigUser" {
            self.convert_to_multi_sig(user, inner)
        } else if user_signed(kind).is_some() {
            self.user_action(user, inner)
        } else {
            self.run_l1(user, inner, nonce, vault, pushes)
        }
    }

    /// `userToMultiSigSigners`: a multi-sig user's authorized users and threshold, or null.
    pub(super) fn multi_sig_signers(&self, user: &Address) -> Value {
        match self.accounts.get(user).and_then(|a| a.multi_sig.as_ref()) {
            Some(ms) => {
                json!({"authorizedUsers": ms.authorized.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "threshold": ms.threshold})
            }
            None => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::{AGENT, KEY, ex, raw, user, user_raw};
    use crate::venue::hyperliquid::signing::PrivateKey;

    /// What `convertToMultiSigUser` refuses, and that once converted the user's own key and
    /// its agent's are refused until it is normal again.
    #[test]
    fn conversion_rules_and_the_users_own_key_refused() {
        let mut e = ex();
        let friends: Vec<Address> = (1..=11u8).map(|i| Address([i; 20])).collect();
        for f in &friends {
            e.accounts.insert(*f, Account::new(Decimal::ONE));
        }
        let signers = |users: &[Address], threshold: usize| {
            let users: Vec<String> = users.iter().map(|a| a.to_string()).collect();
            json!({"type": "convertToMultiSigUser", "signers": json!({"authorizedUsers": users, "threshold": threshold}).to_string()})
        };
        let agent = PrivateKey::from_hex(AGENT).unwrap().address();
        let refused = [
            (signers(&friends[..2], 0), "Invalid threshold"),
            (signers(&friends[..2], 3), "Invalid threshold"),
            (signers(&friends, 2), "at most 10"),
            (
                signers(&[friends[0], Address([99; 20])], 1),
                "existing user",
            ),
            (signers(&[friends[0], agent], 1), "existing user"),
            (
                json!({"type": "convertToMultiSigUser", "signers": "null"}),
                "not a multi-sig user",
            ),
        ];
        for (action, why) in refused {
            let r = user_raw(&mut e, action.clone());
            assert!(
                r["response"].as_str().unwrap().contains(why),
                "{action}: {r}"
            );
        }
        user(&mut e, signers(&friends[..3], 2));
        let owner = PrivateKey::from_hex(KEY).unwrap().address().to_string();
        let q = json!({"type": "userToMultiSigSigners", "user": owner});
        assert_eq!(e.info(&q).unwrap()["threshold"], 2);
        assert_eq!(raw(&mut e, json!({"type": "noop"}))["response"], DIRECT);
        let send = json!({"type": "usdSend", "destination": friends[0].to_string(), "amount": "1", "time": e.now_ms + 99});
        assert_eq!(user_raw(&mut e, send)["response"], DIRECT);
    }
}
