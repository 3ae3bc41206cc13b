//! UTC calendar arithmetic for file names and the venue archive's timestamps, without a date
//! crate: days ↔ civil date (Howard Hinnant's algorithm), ISO-8601 → ns since the epoch.

/// (year, month, day) of day `z` since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYYMMDD` and the hour (0–23) of a time in ns since the epoch (UTC).
pub fn date_hour(ns: u64) -> (String, u32) {
    let secs = (ns / 1_000_000_000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    (
        format!("{y:04}{m:02}{d:02}"),
        (secs.rem_euclid(86_400) / 3_600) as u32,
    )
}

/// Wall-clock now, ms since the epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// ISO-8601 UTC with milliseconds: `2026-12-02T03:04:05.678Z`.
pub fn iso_ms(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3600,
        t / 60 % 60,
        t % 60,
        ms % 1000
    )
}

/// Parses the archive's times: `2023-09-16T09:00:02.164471989`, `2025-01-01T00:00:00Z`,
/// `2025-10-24 20:00:00.000` (UTC; a trailing `Z` or `+00:00` accepted, other offsets refused).
pub fn parse_iso_ns(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut frac_ns = 0u64;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 || b.len() > 29 {
            return None;
        }
        let digits = &s[20..];
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        frac_ns = digits.parse::<u64>().ok()? * 10u64.pow(9 - digits.len() as u32);
    }
    let days = days_from_civil(y as i64, mo, d);
    if days < 0 {
        return None;
    }
    let secs = days as u64 * 86_400 + h as u64 * 3_600 + mi as u64 * 60 + se as u64;
    Some(secs * 1_000_000_000 + frac_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        for z in [-1_000_000, -1, 0, 59, 11_016, 19_616, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        // 2023-09-16T09:00:02.164471989 (the archive's example; its raw time is 1694854802069 ms).
        let t = parse_iso_ns("2023-09-16T09:00:02.164471989").unwrap();
        assert_eq!(t, 1_694_854_802_164_471_989);
        assert_eq!(date_hour(t), ("20230916".to_string(), 9));
        assert_eq!(iso_ms(t / 1_000_000), "2023-09-16T09:00:02.164Z");
        assert_eq!(
            parse_iso_ns(&iso_ms(1_735_689_600_007)),
            Some(1_735_689_600_007_000_000)
        );
        assert_eq!(
            parse_iso_ns("2025-01-01T00:00:00Z"),
            Some(1_735_689_600_000_000_000)
        );
        assert_eq!(
            parse_iso_ns("2025-10-24 20:00:00.000"),
            Some(1_761_336_000_000_000_000)
        );
        for bad in [
            "",
            "2025-13-01T00:00:00",
            "2025-01-01T00:00",
            "2025-01-01T00:00:00+02:00",
            "2025-01-01T00:00:00.",
            "x025-01-01T00:00:00",
        ] {
            assert_eq!(parse_iso_ns(bad), None, "{bad}");
        }
    }
}
