//! `strategy-host hl sign` through the real binary, against the reference's vector 2.

use std::process::Command;
use strategy_host_e2e::{host_binary, scratch_dir, write_file};

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn key_file(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
    let p = write_file(dir, &format!("agent-{mode:o}.key"), &format!("{KEY}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    p
}

fn sign(args: &[&str]) -> std::process::Output {
    Command::new(host_binary())
        .arg("hl")
        .arg("sign")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn hl_sign_reproduces_the_reference_vector_on_both_networks() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "hl-sign");
    let key = key_file(&dir, 0o600);
    let action = write_file(
        &dir,
        "dummy.json",
        r#"{"type": "dummy", "num": 100000000000}"#,
    );
    let out = sign(&[
        "--key-file",
        key.to_str().unwrap(),
        "--nonce",
        "0",
        action.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["connectionId"],
        "0xf528daee6a0bd11407b483cfcd9a48c56884180b70ee86f124053e5fc1bf4d57"
    );
    assert_eq!(
        v["r"],
        "0x053749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298"
    );
    assert_eq!(
        v["s"],
        "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8"
    );
    assert_eq!(v["v"], 27);
    let out = sign(&[
        "--key-file",
        key.to_str().unwrap(),
        "--nonce",
        "0",
        "--testnet",
        action.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["r"],
        "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510"
    );
    assert_eq!(v["v"], 28);
    let vault = sign(&[
        "--key-file",
        key.to_str().unwrap(),
        "--nonce",
        "0",
        "--vault",
        "0x1719884eb866cb12b2287399b15f7db5e7d775ea",
        action.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&vault.stdout).unwrap();
    assert_eq!(
        v["s"],
        "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c"
    );
}

#[test]
fn hl_sign_refuses_open_keys_floats_and_bad_input_clearly() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "hl-sign-bad");
    let open = key_file(&dir, 0o644);
    let action = write_file(&dir, "a.json", r#"{"type": "dummy", "num": 1}"#);
    let out = sign(&[
        "--key-file",
        open.to_str().unwrap(),
        "--nonce",
        "1",
        action.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains("0123456789"), "the key never appears: {err}");

    let key = key_file(&dir, 0o600);
    let float = write_file(
        &dir,
        "f.json",
        r#"{"type": "order", "orders": [{"p": 1670.1}]}"#,
    );
    let out = sign(&[
        "--key-file",
        key.to_str().unwrap(),
        "--nonce",
        "1",
        float.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("orders[0].p") && err.contains("non-integer"),
        "{err}"
    );

    let out = sign(&["--nonce", "1", action.to_str().unwrap()]);
    assert!(!out.status.success(), "a key source is required");
}
