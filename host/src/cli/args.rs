//! Argument values the commands share: durations people write (`45s`, `1m`, `2h`, `1h30m`,
//! `250ms`, or plain seconds) and output paths checked before any work starts.

use anyhow::bail;
use std::path::Path;
use std::time::Duration;

/// Ten years: anything longer would overflow the clock arithmetic (and is not meant).
const MAX: Duration = Duration::from_secs(315_360_000);

/// Parses a duration: a number of seconds (`90`, `1.5`), or numbers each with a unit `ms`, `s`,
/// `m`, `h`, `d` (`45s`, `1m`, `2h`, `1h30m`). Zero is allowed (callers say what it means).
pub fn duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{s}` is not a duration: write 45s, 1m, 2h, 1h30m, 250ms or a number of seconds")
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let secs = if let Ok(v) = t.parse::<f64>() {
        v
    } else {
        let mut total = 0.0;
        let mut rest = t;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let (num, tail) = rest.split_at(n);
            let v: f64 = num.parse().map_err(|_| bad())?;
            let u = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, next) = tail.split_at(u);
            total += v * match unit {
                "ms" => 0.001,
                "s" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                "d" => 86_400.0,
                _ => return Err(bad()),
            };
            rest = next;
        }
        total
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    let d = Duration::from_secs_f64(secs);
    if d > MAX {
        return Err(format!("`{s}` is longer than ten years"));
    }
    Ok(d)
}

/// A duration that must be more than zero.
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err(format!("`{s}`: must be more than zero")),
        d => Ok(d),
    }
}

/// Fails now, before any work, if `path` (given as `flag`) cannot be written: its directory
/// missing, the path a directory, or no permission. A file that did not exist is not left behind.
pub fn check_output(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("{flag} {}: is a directory", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        bail!(
            "{flag} {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{flag} {}: cannot be written: {e}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_people_write_them() {
        let s = |x| duration(x).unwrap().as_secs_f64();
        assert_eq!(s("45s"), 45.0);
        assert_eq!(s("1m"), 60.0);
        assert_eq!(s("2h"), 7200.0);
        assert_eq!(s("1h30m"), 5400.0);
        assert_eq!(s("250ms"), 0.25);
        assert_eq!(s("90"), 90.0);
        assert_eq!(s("1.5"), 1.5);
        assert_eq!(s("0"), 0.0);
        for bad in ["", "5x", "m", "-3", "1h-2m", "s5", "nan", "1e400"] {
            let e = duration(bad).unwrap_err();
            assert!(
                e.contains("not a duration") || e.contains("ten years"),
                "{bad}: {e}"
            );
        }
        assert!(duration("3650d").is_ok());
        assert!(duration("3651d").unwrap_err().contains("ten years"));
        assert!(
            positive_duration("0s")
                .unwrap_err()
                .contains("more than zero")
        );
    }

    #[test]
    fn outputs_are_checked_and_nothing_is_left_behind() {
        let dir = std::env::temp_dir().join(format!("sh-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.json");
        check_output("--summary-json", &p).unwrap();
        assert!(!p.exists(), "the probe file is removed");
        let e = check_output("--summary-json", &dir.join("no/such/x.json")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = check_output("--out", &dir).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
