//! docs/config.md cannot drift from the config structs: for every table it documents, the keys
//! it lists are exactly the keys the host accepts there (read from the host's own error for an
//! unknown key, which lists them), and every table the host knows is documented.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use strategy_host::config::Config;

/// The documented keys, by section heading (`Top level`, `[engine]`, `[[venues.sim.markets]]`…).
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md"))
            .unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = Some(h.trim_matches('`').to_string());
            out.entry(section.clone().unwrap()).or_default();
        } else if let (Some(s), Some(row)) = (&section, line.strip_prefix("| `")) {
            let key = row.split('`').next().unwrap().to_string();
            assert!(
                out.get_mut(s).unwrap().insert(key.clone()),
                "{s}: {key} documented twice"
            );
        }
    }
    out
}

/// The keys the host accepts in a table: what its error for an unknown key lists.
fn accepted(probe: &str) -> BTreeSet<String> {
    let e = Config::parse(Path::new("probe.toml"), probe.to_string())
        .err()
        .unwrap_or_else(|| panic!("the probe parsed: {probe}"))
        .to_string();
    let list = e
        .split_once("expected ")
        .unwrap_or_else(|| panic!("no key list in: {e}"))
        .1;
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

const VENUE: &str = "[[venues]]\nname = \"a\"\nkind = \"hyperliquid\"\nnetwork = \"simulator\"\n";

#[test]
fn every_documented_table_lists_exactly_the_accepted_keys() {
    let docs = documented();
    let with = |extra: &[&str], mut keys: BTreeSet<String>| {
        keys.extend(extra.iter().map(|k| k.to_string()));
        keys
    };
    let probes: Vec<(&str, BTreeSet<String>)> = vec![
        // `venues` is parsed apart (each entry's keys depend on its kind).
        ("Top level", with(&["venues"], accepted("zzz = 1\n"))),
        ("[plugins]", accepted("[plugins]\nzzz = 1\n")),
        ("[engine]", accepted("[engine]\nzzz = 1\n")),
        ("[risk]", accepted("[risk]\nzzz = 1\n")),
        ("[journal]", accepted("[journal]\nzzz = 1\n")),
        ("[record]", accepted("[record]\ndir = \"x\"\nzzz = 1\n")),
        ("[metrics]", accepted("[metrics]\nzzz = 1\n")),
        ("[backtest]", accepted("[backtest]\nzzz = 1\n")),
        ("[paper]", accepted("[paper]\nzzz = 1\n")),
        (
            "[[backtest.markets]]",
            accepted("[[backtest.markets]]\nzzz = 1\n"),
        ),
        ("[[strategies]]", accepted("[[strategies]]\nzzz = 1\n")),
        // `name`, `kind`, `sim` and `mode` are read before the kind's own keys.
        (
            "[[venues]]",
            with(
                &["name", "kind", "sim", "mode"],
                accepted(&format!("{VENUE}zzz = 1\n")),
            ),
        ),
        (
            "[venues.sim]",
            accepted(&format!("{VENUE}[venues.sim]\nzzz = 1\n")),
        ),
        (
            "[[venues.sim.markets]]",
            accepted(&format!(
                "{VENUE}[venues.sim]\n[[venues.sim.markets]]\nzzz = 1\n"
            )),
        ),
        (
            "[[venues.sim.spot]]",
            accepted(&format!(
                "{VENUE}[venues.sim]\n[[venues.sim.spot]]\nzzz = 1\n"
            )),
        ),
        (
            "[[venues.sim.accounts]]",
            accepted(&format!(
                "{VENUE}[venues.sim]\n[[venues.sim.accounts]]\nzzz = 1\n"
            )),
        ),
        (
            "[venues.sim.faults]",
            accepted(&format!(
                "{VENUE}[venues.sim]\n[venues.sim.faults]\nzzz = 1\n"
            )),
        ),
    ];
    let mut checked = BTreeSet::new();
    for (section, keys) in probes {
        let doc = docs
            .get(section)
            .unwrap_or_else(|| panic!("docs/config.md has no `{section}` section"));
        let missing: Vec<_> = keys.difference(doc).collect();
        let extra: Vec<_> = doc.difference(&keys).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "docs/config.md `{section}`: undocumented {missing:?}, not accepted {extra:?}"
        );
        checked.insert(section.to_string());
    }
    let unchecked: Vec<_> = docs.keys().filter(|s| !checked.contains(*s)).collect();
    assert!(
        unchecked.is_empty(),
        "sections the test does not check: {unchecked:?}"
    );
}

/// Every config the repository ships parses (and so uses only documented keys).
#[test]
fn the_shipped_configs_check() {
    for f in ["default.toml", "testnet.toml", "example-plugins.toml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        if let Err(e) = Config::parse(&p, text) {
            // A config naming a key file or env var that is not here is not a key problem.
            let e = e.to_string();
            assert!(!e.contains("unknown field"), "{f}: {e}");
        }
    }
}
