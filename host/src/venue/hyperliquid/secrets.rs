//! Where the agent (API wallet) key comes from: an environment variable or a file only its owner
//! can read (mode 0600 or stricter). Never from the config text, never into a log: errors name the
//! source, never the value.

use super::signing::PrivateKey;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "environment variable {0} is not set (it should hold the agent's private key, 0x + 64 hex)"
    )]
    EnvMissing(String),
    #[error("cannot read key file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "key file {path} has mode {mode:o}: others can read it. Run `chmod 600 {path}` and retry"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{source_name}: {reason}")]
    Invalid { source_name: String, reason: String },
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::Env(v) => format!("environment variable {v}"),
            KeySource::File(p) => format!("key file {}", p.display()),
        }
    }

    pub fn load(&self) -> Result<PrivateKey, KeyError> {
        let text = match self {
            KeySource::Env(var) => {
                std::env::var(var).map_err(|_| KeyError::EnvMissing(var.clone()))?
            }
            KeySource::File(path) => read_private_file(path)?,
        };
        PrivateKey::from_hex(text.trim()).map_err(|reason| KeyError::Invalid {
            source_name: self.describe(),
            reason,
        })
    }
}

/// `~/x` → `$HOME/x` (config files name key files that way).
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

fn read_private_file(path: &Path) -> Result<String, KeyError> {
    let path = &expand_home(path);
    let meta = std::fs::metadata(path).map_err(|e| KeyError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::TooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

    fn file(name: &str, text: &str, mode: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sh-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }

    #[test]
    fn a_0600_file_loads_and_a_looser_one_is_refused() {
        let ok = file("ok.key", &format!("{KEY}\n"), 0o600);
        let k = KeySource::File(ok).load().unwrap();
        assert_eq!(
            k.address().to_string(),
            "0x14791697260e4c9a71f18484c9f997b308e59325"
        );
        let open = file("open.key", KEY, 0o644);
        let e = KeySource::File(open.clone()).load().unwrap_err();
        assert_eq!(
            e,
            KeyError::TooOpen {
                path: open,
                mode: 0o644
            }
        );
        assert!(e.to_string().contains("chmod 600"));
    }

    #[test]
    fn home_is_expanded() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_home(Path::new("~/.k")), Path::new(&home).join(".k"));
        assert_eq!(expand_home(Path::new("/etc/k")), PathBuf::from("/etc/k"));
    }

    #[test]
    fn errors_never_contain_the_key() {
        let bad = file(
            "bad.key",
            "0x0123456789012345678901234567890123456789012345678901234567890123ff",
            0o600,
        );
        let e = KeySource::File(bad).load().unwrap_err().to_string();
        assert!(!e.contains("0123456789"), "{e}");
        let e = KeySource::Env("SH_TEST_NO_SUCH_VAR".into())
            .load()
            .unwrap_err();
        assert!(matches!(e, KeyError::EnvMissing(_)));
    }
}
