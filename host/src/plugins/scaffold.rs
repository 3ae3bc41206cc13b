//! `strategy-host plugin new`: a standalone strategy crate that builds where it is made: its own
//! `[workspace]`, plugin-api by path from this checkout, this checkout's `Cargo.lock` (the same
//! dependency versions as the host, so it builds offline once the host has), params with
//! unknown-key checking, a serde state snapshot and restore, unit tests on
//! `MarketSnapshot::quoted`, a README and a config snippet.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Entry,
    Exit,
}

/// What `new` made.
#[derive(Debug)]
pub struct Made {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The library `cargo build --release` leaves (for `plugin check` and `[plugins] dir`).
    pub library: PathBuf,
}

/// The checkout this binary was built from: its `plugin-api` and `Cargo.lock` (None when the
/// binary has been moved away from it).
pub fn checkout() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    root.join("plugin-api/Cargo.toml").is_file().then_some(root)
}

/// Checks a plugin name: lowercase letters, digits and `-`, starting with a letter.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "plugin name `{name}`: use lowercase letters, digits and `-`, starting with a letter (e.g. `my-entry`)"
        );
    }
    Ok(())
}

fn camel(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Makes `dir/name`, which must not exist. `plugin_api`: the plugin-api crate to depend on
/// (by path); `lock`: a `Cargo.lock` to start from.
pub fn new(
    name: &str,
    role: Role,
    dir: &Path,
    plugin_api: &Path,
    lock: Option<&Path>,
) -> anyhow::Result<Made> {
    check_name(name)?;
    let root = dir.join(name);
    if root.exists() {
        bail!(
            "{} already exists: choose another name or --dir",
            root.display()
        );
    }
    if !plugin_api.join("Cargo.toml").is_file() {
        bail!(
            "no plugin-api crate at {} (pass --plugin-api PATH to this checkout's plugin-api)",
            plugin_api.display()
        );
    }
    let plugin_api = plugin_api
        .canonicalize()
        .with_context(|| format!("plugin-api at {}", plugin_api.display()))?;
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("cannot create {}", root.display()))?;
    let lib = name.replace('-', "_");
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{lib}}", &lib)
            .replace("{{Struct}}", &camel(name))
            .replace("{{plugin_api}}", &plugin_api.display().to_string())
            .replace("{{dir}}", &root.display().to_string())
    };
    let (code, params) = match role {
        Role::Entry => (ENTRY_RS, ENTRY_PARAMS),
        Role::Exit => (EXIT_RS, EXIT_PARAMS),
    };
    let role_name = match role {
        Role::Entry => "entry",
        Role::Exit => "exit",
    };
    let files = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(code)),
        ("README.md", fill(README).replace("{{role}}", role_name)),
        (
            "config-snippet.toml",
            fill(SNIPPET)
                .replace("{{role}}", role_name)
                .replace("{{params}}", params)
                .replace(
                    "{{how}}",
                    match role {
                        Role::Entry => {
                            "replace its `dislocation` [[strategies]] entry with the one below (one entry strategy per market)"
                        }
                        Role::Exit => {
                            "add the [[strategies]] entry below (exit strategies may share markets)"
                        }
                    },
                ),
        ),
        ("params.toml", params.to_string()),
        (".gitignore", "/target\n".to_string()),
    ];
    let mut made = Vec::new();
    for (f, text) in files {
        let p = root.join(f);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        made.push(p);
    }
    if let Some(lock) = lock.filter(|l| l.is_file()) {
        let p = root.join("Cargo.lock");
        std::fs::copy(lock, &p).with_context(|| format!("cannot copy {}", lock.display()))?;
        made.push(p);
    }
    Ok(Made {
        library: root.join("target/release").join(format!(
            "{}{lib}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )),
        dir: root,
        files: made,
    })
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"
publish = false

# A strategy plugin: the host loads the cdylib; the rlib lets tests link the logic directly.
[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
# The host's ABI: plugin-api's version is the ABI version; rebuild when the host's changes.
plugin-api = { path = "{{plugin_api}}" }
serde = { version = "1", features = ["derive"] }

# Its own workspace: it builds where it is, outside the host's.
[workspace]

# Keep unwinding: with panic = "abort" the host's panic guard cannot catch a panic of this
# plugin, and the panic takes the host down.
[profile.release]
panic = "unwind"
"#;

const ENTRY_PARAMS: &str = "threshold_bps = 40\nnotional = 100\ncooldown_ms = 2000\n";
const EXIT_PARAMS: &str = "max_holding_ms = 5000\n";

const SNIPPET: &str = r#"# To trade {{name}} on the default simulator, in a copy of config/default.toml:
#
#   1. add to its [plugins] table (searched before the directories next to the host binary):
#        dir = "{{dir}}/target/release"
#   2. {{how}}
#
# then `strategy-host run --config <the copy> --duration 1m`.

[[strategies]]
name = "{{name}}"
plugin = "{{name}}"
role = "{{role}}"
markets = ["simA/BTC", "simA/xyz:TSLA"]
[strategies.params]
{{params}}"#;

const README: &str = r#"# {{name}}

A strategy plugin for strategy-host ({{role}} role), made by `strategy-host plugin new`.

```sh
cargo test                      # the unit tests (no host needed)
cargo build --release           # target/release/lib{{lib}}.so
strategy-host plugin check target/release/lib{{lib}}.so --params params.toml
```

Then follow `config-snippet.toml`: in a copy of the host's `config/default.toml`, set `[plugins]
dir` to this crate's `target/release` (searched before the host's own directory) and add the
strategy entry; run it:

```sh
strategy-host run --config my.toml --duration 1m
```

- `Params` is the `[strategies.params]` table; unknown keys are refused, errors name the key.
- `State` is saved by the host (JSON, after fills and every `[journal] snapshot_every_secs`) and
  given back after a restart; a state that no longer fits is refused and the strategy starts fresh.
- Time is `ctx.now_ns` (engine time): never read the system clock, or backtests stop matching.
- Everything it asks for is an intent the host's gates may refuse (`on_reject` says why).

The host's docs: `docs/plugins.md` and the `plugin-api` crate's documentation (`cargo doc -p
plugin-api --open` in the host's checkout).
"#;

const ENTRY_RS: &str = r#"//! `{{name}}`: an entry strategy. Buys when the ask is `threshold_bps` below the oracle price and
//! sells when the bid is that far above it; one position and one order in flight per market, and
//! a cooldown after each entry. Made by `strategy-host plugin new`: edit freely.

use plugin_api::{
    Ctx, Decimal, Intents, Logger, MarketIdx, MarketSnapshot, PlaceIntent, Refusal, Role, Side,
    StrategyLogic, Tif,
};
use serde::{Deserialize, Serialize};

/// The `[strategies.params]` table. Unknown keys are an error: a typo is not a silent default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Dislocation from the oracle that triggers an entry, in basis points.
    pub threshold_bps: Decimal,
    /// Order notional, in the quote currency (USDC).
    pub notional: Decimal,
    /// How long to wait after an entry before the next one in the same market.
    #[serde(default = "default_cooldown_ms")]
    pub cooldown_ms: u64,
}

fn default_cooldown_ms() -> u64 {
    5_000
}

/// What survives a restart: the host journals it as JSON and gives it back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Engine time (ns) of the last entry, per market index (0: none).
    pub last_entry_ns: Vec<u64>,
    pub entries: u64,
}

/// The decision alone: which side to take at which price, if any.
pub fn signal(snap: &MarketSnapshot, threshold_bps: Decimal) -> Option<(Side, Decimal)> {
    // The host says whether the book and the oracle are recent and the venue is live.
    if !snap.fresh {
        return None;
    }
    let oracle = snap.oracle()?;
    let bps = Decimal::from(10_000);
    if let Some(ask) = snap.ask_px()
        && (oracle - ask) / oracle * bps >= threshold_bps
    {
        return Some((Side::Buy, ask));
    }
    if let Some(bid) = snap.bid_px()
        && (bid - oracle) / oracle * bps >= threshold_bps
    {
        return Some((Side::Sell, bid));
    }
    None
}

pub struct {{Struct}} {
    params: Params,
    state: State,
    log: Logger,
}

impl StrategyLogic for {{Struct}} {
    fn create(params: &str, markets: &[String], log: Logger) -> Result<Self, String> {
        plugin_api::params::markets(markets, 1..=usize::MAX)?;
        let params: Params = plugin_api::params::parse(params)?;
        if params.threshold_bps <= Decimal::ZERO {
            return Err(format!(
                "params.threshold_bps: must be > 0, got {}",
                params.threshold_bps
            ));
        }
        if params.notional <= Decimal::ZERO {
            return Err(format!("params.notional: must be > 0, got {}", params.notional));
        }
        log.info(format_args!("{{name}} on {markets:?}"));
        Ok({{Struct}} {
            params,
            state: State {
                last_entry_ns: vec![0; markets.len()],
                entries: 0,
            },
            log,
        })
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        // One position and one order in flight per market: the host's gates would refuse the
        // rest anyway, but asking costs a refusal per tick.
        let Some(pos) = ctx.position(m) else { return };
        if !pos.is_flat() || pos.has_pending {
            return;
        }
        let last = self.state.last_entry_ns[m.index()];
        if last != 0 && ctx.now_ns.saturating_sub(last) < self.params.cooldown_ms * 1_000_000 {
            return;
        }
        let Some(snap) = ctx.market(m) else { return };
        let Some((side, px)) = signal(snap, self.params.threshold_bps) else {
            return;
        };
        let sz = self.params.notional / px;
        if out.place(PlaceIntent::new(m, side, px, sz, Tif::Ioc)) {
            self.state.last_entry_ns[m.index()] = ctx.now_ns;
            self.state.entries += 1;
        }
    }

    fn on_reject(&mut self, _ctx: &Ctx<'_>, r: &Refusal, _out: &mut Intents) {
        self.log
            .debug(format_args!("entry refused: {}", r.reason.name()));
    }

    fn snapshot_state(&self) -> String {
        plugin_api::state::save(&self.state)
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        let s: State = plugin_api::state::load(state)?;
        if s.last_entry_ns.len() != self.state.last_entry_ns.len() {
            return Err("the saved state is for another number of markets".into());
        }
        self.state = s;
        Ok(())
    }
}

plugin_api::export_strategy!({{Struct}}, role = Role::Entry);

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn buys_below_and_sells_above_the_oracle_past_the_threshold() {
        let m = MarketIdx(0);
        // Ask 0.5% under the oracle: 50 bps ≥ 40.
        let cheap = MarketSnapshot::quoted(m, Some(d("99.4")), Some(d("99.5")), d("100"));
        assert_eq!(signal(&cheap, d("40")), Some((Side::Buy, d("99.5"))));
        let rich = MarketSnapshot::quoted(m, Some(d("100.5")), Some(d("100.6")), d("100"));
        assert_eq!(signal(&rich, d("40")), Some((Side::Sell, d("100.5"))));
        let calm = MarketSnapshot::quoted(m, Some(d("99.9")), Some(d("100.1")), d("100"));
        assert_eq!(signal(&calm, d("40")), None);
        let stale = MarketSnapshot {
            fresh: false,
            ..cheap
        };
        assert_eq!(signal(&stale, d("40")), None, "never on stale data");
        let no_oracle = MarketSnapshot::quoted(m, Some(d("99")), Some(d("99.5")), Decimal::ZERO);
        assert_eq!(signal(&no_oracle, d("40")), None);
    }

    #[test]
    fn params_are_checked_and_errors_name_the_key() {
        assert!({{Struct}}::create("threshold_bps = 40\nnotional = 10\n", &[], Logger::discard())
            .err()
            .unwrap_or_default()
            .starts_with("markets:"));
        let create = |p: &str| {
            {{Struct}}::create(p, &["sim/BTC".into()], Logger::discard()).err().unwrap_or_default()
        };
        assert!(create("threshold_bps = 40\nnotional = 0\n").contains("params.notional"));
        assert!(create("threshold_bps = 40\nnotional = 10\nthreshhold = 3\n").contains("threshhold"));
        assert!(create("threshold_bps = 40\n").contains("notional"));
        assert!(create("threshold_bps = 40\nnotional = 10\n").is_empty());
    }

    #[test]
    fn state_survives_a_restart_and_a_mismatch_is_refused() {
        let mut a = {{Struct}}::create("threshold_bps = 40\nnotional = 10\n", &["sim/BTC".into()], Logger::discard()).unwrap();
        a.state.last_entry_ns[0] = 42;
        a.state.entries = 3;
        let saved = a.snapshot_state();
        let mut b = {{Struct}}::create("threshold_bps = 40\nnotional = 10\n", &["sim/BTC".into()], Logger::discard()).unwrap();
        b.restore_state(&saved).unwrap();
        assert_eq!(b.state, a.state);
        let mut two = {{Struct}}::create(
            "threshold_bps = 40\nnotional = 10\n",
            &["sim/BTC".into(), "sim/ETH".into()],
            Logger::discard(),
        )
        .unwrap();
        assert!(two.restore_state(&saved).is_err());
    }
}
"#;

const EXIT_RS: &str = r#"//! `{{name}}`: an exit strategy. Flattens a position once it has been held `max_holding_ms`.
//! The host makes every intent of an exit reduce-only. Made by `strategy-host plugin new`: edit
//! freely.

use plugin_api::{
    Ctx, FlattenKind, FlattenReason, Intents, Logger, MarketIdx, PositionView, Role,
    StrategyLogic,
};
use serde::{Deserialize, Serialize};

/// The `[strategies.params]` table. Unknown keys are an error: a typo is not a silent default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Flatten a position held this long.
    pub max_holding_ms: u64,
}

/// What survives a restart: the host journals it as JSON and gives it back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub exits: u64,
}

/// The decision alone: whether this position has been held too long.
pub fn expired(pos: &PositionView, now_ns: u64, max_holding_ms: u64) -> bool {
    !pos.is_flat() && !pos.flattening && pos.held_ms(now_ns) >= max_holding_ms
}

pub struct {{Struct}} {
    params: Params,
    state: State,
    log: Logger,
}

impl {{Struct}} {
    fn check(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        let Some(pos) = ctx.position(m) else { return };
        if !expired(pos, ctx.now_ns, self.params.max_holding_ms) {
            return;
        }
        let held = pos.held_ms(ctx.now_ns);
        if out.flatten(m, FlattenReason::new(FlattenKind::TIME_STOP, held)) {
            self.state.exits += 1;
            self.log.info(format_args!("held {held} ms: flatten"));
        }
    }
}

impl StrategyLogic for {{Struct}} {
    fn create(params: &str, markets: &[String], log: Logger) -> Result<Self, String> {
        let params: Params = plugin_api::params::parse(params)?;
        if params.max_holding_ms == 0 {
            return Err("params.max_holding_ms: must be > 0".into());
        }
        log.info(format_args!("{{name}} on {markets:?}"));
        Ok({{Struct}} {
            params,
            state: State::default(),
            log,
        })
    }

    // The timer (the backup path) calls on_market for every market too: a market with no
    // updates still has its positions watched.
    fn timer_visits_markets(&self) -> bool {
        true
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        self.check(ctx, m, out);
    }

    fn snapshot_state(&self) -> String {
        plugin_api::state::save(&self.state)
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        self.state = plugin_api::state::load(state)?;
        Ok(())
    }
}

plugin_api::export_strategy!({{Struct}}, role = Role::Exit);

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::Decimal;

    fn held_since(size: i64, entry_ms: u64) -> PositionView {
        PositionView {
            size: Decimal::from(size).into(),
            entry_time_ns: entry_ms * 1_000_000,
            ..PositionView::flat(MarketIdx(0))
        }
    }

    #[test]
    fn expires_at_the_limit_and_never_when_flat() {
        assert!(!expired(&held_since(1, 1_000), 5_999 * 1_000_000, 5_000));
        assert!(expired(&held_since(1, 1_000), 6_000 * 1_000_000, 5_000));
        assert!(expired(&held_since(-2, 0), 5_000 * 1_000_000, 5_000));
        assert!(!expired(&held_since(0, 0), u64::MAX, 5_000));
    }

    #[test]
    fn params_are_checked_and_state_round_trips() {
        let e = {{Struct}}::create("max_holding = 5\n", &[], Logger::discard()).err().unwrap();
        assert!(e.contains("max_holding"), "{e}");
        let mut a = {{Struct}}::create("max_holding_ms = 5\n", &[], Logger::discard()).unwrap();
        a.state.exits = 4;
        let mut b = {{Struct}}::create("max_holding_ms = 5\n", &[], Logger::discard()).unwrap();
        b.restore_state(&a.snapshot_state()).unwrap();
        assert_eq!(b.state, a.state);
    }
}
"#;
