//! Known-answer tests: every vector of reference §4.1 (Python SDK `signing_test.py`), mainnet and
//! testnet, plus the intermediate values of §4.4 (msgpack bytes, connectionId, EIP-712 digest) so a
//! failure points at its layer. r and s are compared as 256-bit integers (the SDK drops leading
//! zeros when it prints them).

use super::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, TpSl, WireStr, msgpack_into,
};
use super::signing::{
    Address, PrivateKey, Signature, action_hash, agent_digest, domain_separator, parse_hex, to_hex,
    user_signed_digest,
};
use serde::Serialize;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn key() -> PrivateKey {
    PrivateKey::from_hex(KEY).unwrap()
}

/// A 256-bit integer from hex of any length (leading zeros optional).
fn u256(hex: &str) -> [u8; 32] {
    let h = hex.trim_start_matches("0x");
    let padded = format!("{h:0>64}");
    parse_hex(&padded).unwrap().try_into().unwrap()
}

fn msgpack<T: Serialize + ?Sized>(a: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    msgpack_into(a, &mut buf).unwrap();
    buf
}

fn sign<T: Serialize + ?Sized>(a: &T, vault: Option<&str>, nonce: u64, mainnet: bool) -> Signature {
    let vault = vault.map(|v| Address::parse(v).unwrap());
    key().sign_l1(&msgpack(a), nonce, vault.as_ref(), None, mainnet)
}

fn check(sig: Signature, r: &str, s: &str, v: u8) {
    assert_eq!(to_hex(&sig.r), to_hex(&u256(r)), "r");
    assert_eq!(to_hex(&sig.s), to_hex(&u256(s)), "s");
    assert_eq!(sig.v, v, "v");
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

fn order(asset: u32, px: &str, sz: &str, t: OrderTypeWire, cloid: Option<&str>) -> Action {
    Action::Order {
        orders: vec![OrderWire {
            a: asset,
            b: true,
            p: WireStr::new(px).unwrap(),
            s: WireStr::new(sz).unwrap(),
            r: false,
            t,
            c: cloid.map(|c| WireStr::new(c).unwrap()),
        }],
        grouping: Grouping::Na,
        builder: None,
    }
}

const GTC: OrderTypeWire = OrderTypeWire::Limit { tif: TifWire::Gtc };

#[test]
fn the_test_key_has_the_reference_address() {
    assert_eq!(
        key().address().to_string(),
        "0x14791697260e4c9a71f18484c9f997b308e59325"
    );
    let dbg = format!("{:?}", key());
    assert!(
        !dbg.contains("0123456789"),
        "Debug must not show the key: {dbg}"
    );
    assert!(dbg.contains("redacted"));
}

#[test]
fn eip712_constants() {
    let zero = Address([0; 20]);
    assert_eq!(
        to_hex(&domain_separator("Exchange", "1", 1337, &zero)),
        "0xd79297fcdf2ffcd4ae223d01edaa2ba214ff8f401d7c9300d995d17c82aa4040"
    );
}

#[test]
fn v1_phantom_agent_connection_id_matches_production() {
    let a = order(
        4,
        "1670.1",
        "0.0147",
        OrderTypeWire::Limit { tif: TifWire::Ioc },
        None,
    );
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        r#"{"type":"order","orders":[{"a":4,"b":true,"p":"1670.1","s":"0.0147","r":false,"t":{"limit":{"tif":"Ioc"}}}],"grouping":"na"}"#
    );
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 1677777606040, None, None)),
        "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    );
}

#[test]
fn v2_l1_action_dummy() {
    let a = json(r#"{"type": "dummy", "num": 100000000000}"#);
    assert_eq!(
        to_hex(&msgpack(&a)),
        "0x82a474797065a564756d6d79a36e756dcf000000174876e800"
    );
    let cid = action_hash(&msgpack(&a), 0, None, None);
    assert_eq!(
        to_hex(&cid),
        "0xf528daee6a0bd11407b483cfcd9a48c56884180b70ee86f124053e5fc1bf4d57"
    );
    assert_eq!(
        to_hex(&agent_digest(&cid, true)),
        "0xe0aabfac88a47d3e7028b6ba6a94b30c8afcfffac26cbce788cf362b1312eafa"
    );
    assert_eq!(
        to_hex(&agent_digest(&cid, false)),
        "0xc05ce2df9d9d18fab3570746cc27e1136a4020a28561171a24f60c2258989224"
    );
    check(
        sign(&a, None, 0, true),
        "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
        "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
        27,
    );
    check(
        sign(&a, None, 0, false),
        "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
        "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613",
        28,
    );
}

#[test]
fn v3_order() {
    let a = order(1, "100", "100", GTC, None);
    assert_eq!(
        to_hex(&msgpack(&a)),
        "0x83a474797065a56f72646572a66f72646572739186a16101a162c3a170a3313030a173a3313030a172c2a17481a56c696d697481a3746966a3477463a867726f7570696e67a26e61"
    );
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 0, None, None)),
        "0x884f2c32bb6dbdd65f6033e32fb28c0cb6f5b345db0f6471fd3366d85c9252c1"
    );
    check(
        sign(&a, None, 0, true),
        "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        28,
    );
    check(
        sign(&a, None, 0, false),
        "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
        "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
        27,
    );
}

#[test]
fn v4_order_with_cloid() {
    let a = order(
        1,
        "100",
        "100",
        GTC,
        Some("0x00000000000000000000000000000001"),
    );
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 0, None, None)),
        "0x0ba500cedd8f4ba6ded620a0b1cd04f124d9ba745e2e2893fcc763bcc1444af5"
    );
    check(
        sign(&a, None, 0, true),
        "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
        "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
        27,
    );
    check(
        sign(&a, None, 0, false),
        "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
        "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988",
        28,
    );
}

#[test]
fn v5_dummy_with_vault() {
    let a = json(r#"{"type": "dummy", "num": 100000000000}"#);
    let vault = Address::parse("0x1719884eb866cb12b2287399b15f7db5e7d775ea").unwrap();
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 0, Some(&vault), None)),
        "0xde9e09a7a3da45cc694096d4bfdcd89bc1b892d05497c5ecc1f56c335945184c"
    );
    let v = Some("0x1719884eb866cb12b2287399b15f7db5e7d775ea");
    check(
        sign(&a, v, 0, true),
        "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
        "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
        28,
    );
    check(
        sign(&a, v, 0, false),
        "0xe281d2fb5c6e25ca01601f878e4d69c965bb598b88fac58e475dd1f5e56c362b",
        "0x7ddad27e9a238d045c035bc606349d075d5c5cd00a6cd1da23ab5c39d4ef0f60",
        27,
    );
}

#[test]
fn v6_tpsl_order() {
    let t = OrderTypeWire::Trigger {
        is_market: true,
        trigger_px: "103".into(),
        tpsl: TpSl::Sl,
    };
    let a = order(1, "100", "100", t, None);
    assert!(
        serde_json::to_string(&a)
            .unwrap()
            .contains(r#""t":{"trigger":{"isMarket":true,"triggerPx":"103","tpsl":"sl"}}"#)
    );
    check(
        sign(&a, None, 0, true),
        "0x98343f2b5ae8e26bb2587daad3863bc70d8792b09af1841b6fdd530a2065a3f9",
        "0x6b5bb6bb0633b710aa22b721dd9dee6d083646a5f8e581a20b545be6c1feb405",
        27,
    );
    check(
        sign(&a, None, 0, false),
        "0x971c554d917c44e0e1b6cc45d8f9404f32172a9d3b3566262347d0302896a2e4",
        "0x206257b104788f80450f8e786c329daa589aa0b32ba96948201ae556d5637eac",
        28,
    );
}

#[test]
fn v7_create_sub_account() {
    let a = json(r#"{"type": "createSubAccount", "name": "example"}"#);
    check(
        sign(&a, None, 0, true),
        "0x51096fe3239421d16b671e192f574ae24ae14329099b6db28e479b86cdd6caa7",
        "0xb71f7d293af92d3772572afb8b102d167a7cef7473388286bc01f52a5c5b423",
        27,
    );
    check(
        sign(&a, None, 0, false),
        "0xa699e3ed5c2b89628c746d3298b5dc1cca604694c2c855da8bb8250ec8014a5b",
        "0x53f1b8153a301c72ecc655b1c315d64e1dcea3ee58921fd7507e35818fcc1584",
        28,
    );
}

#[test]
fn v8_sub_account_transfer() {
    let a = json(
        r#"{"type": "subAccountTransfer", "subAccountUser": "0x1d9470d4b963f552e6f671a81619d395877bf409", "isDeposit": true, "usd": 10}"#,
    );
    check(
        sign(&a, None, 0, true),
        "0x43592d7c6c7d816ece2e206f174be61249d651944932b13343f4d13f306ae602",
        "0x71a926cb5c9a7c01c3359ec4c4c34c16ff8107d610994d4de0e6430e5cc0f4c9",
        28,
    );
    check(
        sign(&a, None, 0, false),
        "0xe26574013395ad55ee2f4e0575310f003c5bb3351b5425482e2969fa51543927",
        "0xefb08999196366871f919fd0e138b3a7f30ee33e678df7cfaf203e25f0a4278",
        28,
    );
}

#[test]
fn v9_schedule_cancel_with_and_without_time() {
    let a = Action::ScheduleCancel { time: None };
    assert_eq!(
        to_hex(&msgpack(&a)),
        "0x81a474797065ae7363686564756c6543616e63656c"
    );
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 0, None, None)),
        "0xa2887a3147b6542306b61d311a056fd1753913d63cc904f30cba61712a98f4ae"
    );
    check(
        sign(&a, None, 0, true),
        "0x6cdfb286702f5917e76cd9b3b8bf678fcc49aec194c02a73e6d4f16891195df9",
        "0x6557ac307fa05d25b8d61f21fb8a938e703b3d9bf575f6717ba21ec61261b2a0",
        27,
    );
    check(
        sign(&a, None, 0, false),
        "0xc75bb195c3f6a4e06b7d395acc20bbb224f6d23ccff7c6a26d327304e6efaeed",
        "0x342f8ede109a29f2c0723bd5efb9e9100e3bbb493f8fb5164ee3d385908233df",
        28,
    );

    let a = Action::ScheduleCancel {
        time: Some(123456789),
    };
    assert_eq!(
        to_hex(&msgpack(&a)),
        "0x82a474797065ae7363686564756c6543616e63656ca474696d65ce075bcd15"
    );
    assert_eq!(
        to_hex(&action_hash(&msgpack(&a), 0, None, None)),
        "0x4be18e445114437c5d1d9dd35a09f5601a3cc34ed4ac94a0281251b9bd8f6832"
    );
    check(
        sign(&a, None, 0, true),
        "0x609cb20c737945d070716dcc696ba030e9976fcf5edad87afa7d877493109d55",
        "0x16c685d63b5c7a04512d73f183b3d7a00da5406ff1f8aad33f8ae2163bab758b",
        28,
    );
    check(
        sign(&a, None, 0, false),
        "0x4e4f2dbd4107c69783e251b7e1057d9f2b9d11cee213441ccfa2be63516dc5bc",
        "0x706c656b23428c8ba356d68db207e11139ede1670481a9e01ae2dfcdb0e1a678",
        27,
    );
}

#[test]
fn typed_and_generic_encodings_agree_and_signatures_recover_the_signer() {
    let typed = order(
        1,
        "100",
        "100",
        GTC,
        Some("0x00000000000000000000000000000001"),
    );
    let generic = serde_json::to_value(&typed).unwrap();
    assert_eq!(msgpack(&typed), msgpack(&generic));
    let cid = action_hash(&msgpack(&typed), 42, None, Some(1_700_000_000_000));
    let digest = agent_digest(&cid, false);
    let sig = key().sign_digest(&digest);
    assert_eq!(sig.recover(&digest), Some(key().address()));
    let mut bad = sig;
    bad.s[31] ^= 1;
    assert_ne!(bad.recover(&digest), Some(key().address()));
}

/// A user-signed action (EIP-712 `HyperliquidTransaction:UsdClassTransfer`): the digest and the
/// signature eth_account gives for it (the Python SDK's `user_signed_payload`, signed with the
/// test key), as the simulator checks them.
#[test]
fn v6_user_signed_usd_class_transfer() {
    let action = json(
        r#"{"type":"usdClassTransfer","amount":"12.5","toPerp":false,"nonce":1700000000000,"signatureChainId":"0x66eee","hyperliquidChain":"Testnet"}"#,
    );
    let fields = [
        ("hyperliquidChain", "string"),
        ("amount", "string"),
        ("toPerp", "bool"),
        ("nonce", "uint64"),
    ];
    let digest =
        user_signed_digest("HyperliquidTransaction:UsdClassTransfer", &fields, &action).unwrap();
    assert_eq!(
        digest,
        u256("8fdc344478f61cb8d60acbf4848bc91606b1a8728c752b0309b6ef24d8bbfdeb")
    );
    check(
        key().sign_digest(&digest),
        "b8d60c16a6217ce9ee37516a816599e2262f8e95bd81c640863f0d5043198b6a",
        "32f5dd4c5e4455d25123a6e1b9c383bade1590e0a9f55ec5fb25ff929c5135fc",
        27,
    );
    let mut other = action.clone();
    other["toPerp"] = serde_json::json!(true);
    assert_ne!(
        user_signed_digest("HyperliquidTransaction:UsdClassTransfer", &fields, &other),
        Some(digest)
    );
    other["signatureChainId"] = serde_json::json!("zz");
    assert_eq!(
        user_signed_digest("HyperliquidTransaction:UsdClassTransfer", &fields, &other),
        None
    );
}

proptest::proptest! {
    /// The table-driven hex of r and s equals the formatted one, byte for byte.
    #[test]
    fn to_hex_equals_formatted_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
        let formatted: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        proptest::prop_assert_eq!(to_hex(&bytes), format!("0x{formatted}"));
    }
}
