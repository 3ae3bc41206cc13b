//! A strategy's state across restarts, as JSON through serde: what `snapshot_state` and
//! `restore_state` usually are.
//!
//! ```
//! use plugin_api::state;
//! #[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
//! struct State { entries: u64, last_entry_ns: Vec<u64> }
//!
//! let s = State { entries: 3, last_entry_ns: vec![42] };
//! let saved = state::save(&s);
//! let back: State = state::load(&saved).unwrap();
//! assert_eq!(back, s);
//! assert!(state::load::<State>("not json").unwrap_err().starts_with("unreadable state:"));
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The state as JSON (empty, "nothing to keep", if it cannot be serialized).
pub fn save<T: Serialize>(state: &T) -> String {
    serde_json::to_string(state).unwrap_or_default()
}

/// The state `save` made. An error says why; the host then starts the strategy fresh and logs it.
pub fn load<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable state: {e}"))
}
