//! The recording format (docs/backtest.md, "Recording format"): LZ4 frames of JSON lines. The
//! first line of every file is a header; each line after it is one frame or session event:
//!
//! ```text
//! {"format":"strategy-host-recording","version":1,"venues":[{"name":"simA","markets":[{"coin":"BTC","sz_decimals":5}]}]}
//! {"t":1764633600123456789,"v":"simA","d":"in","f":{"channel":"bbo","data":{…}}}
//! {"t":1764633600123999000,"v":"simA","d":"out","f":{"method":"post",…}}
//! {"t":1764633600200000000,"v":"simA","d":"session","f":"ready"}
//! {"t":1764633600300000000,"v":"simA","d":"in","s":"{\"channel\":\"bbo\",\"da"}
//! ```
//!
//! `t` is the receive (or send) time in ns since the epoch, `v` the venue's name in the config,
//! `d` the direction (`in` from the venue, `out` to it, `session` the connection's state), `f`
//! the frame exactly as it came, or `s` the frame as a JSON string when it was not valid JSON (a
//! truncated frame is recorded as it was, not dropped). Lines are in time order within a file.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "strategy-host-recording";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub venues: Vec<VenueHeader>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueHeader {
    pub name: String,
    pub markets: Vec<MarketHeader>,
}

/// A recorded market: its coin and, when known (a simulated venue), its size decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketHeader {
    pub coin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sz_decimals: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    Session,
}

impl Dir {
    pub fn name(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
            Dir::Session => "session",
        }
    }
}

/// One line after the header, borrowed from the line's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub t_ns: u64,
    pub venue: &'a str,
    pub dir: Dir,
    /// The frame's JSON text (`f`), or the JSON string holding an unreadable frame (`s`).
    pub payload: &'a str,
    /// `s`: the frame was not valid JSON when it arrived.
    pub unreadable: bool,
}

/// Appends one line (with its newline) to `out`. `frame` is written as is when it is valid JSON,
/// as a JSON string otherwise.
pub fn write_line(out: &mut Vec<u8>, t_ns: u64, venue: &str, dir: Dir, frame: &str) {
    out.extend_from_slice(b"{\"t\":");
    out.extend_from_slice(t_ns.to_string().as_bytes());
    out.extend_from_slice(b",\"v\":");
    serde_json::to_writer(&mut *out, venue).expect("a string serializes");
    out.extend_from_slice(b",\"d\":\"");
    out.extend_from_slice(dir.name().as_bytes());
    let valid =
        !frame.contains('\n') && serde_json::from_str::<serde::de::IgnoredAny>(frame).is_ok();
    if valid {
        out.extend_from_slice(b"\",\"f\":");
        out.extend_from_slice(frame.as_bytes());
    } else {
        out.extend_from_slice(b"\",\"s\":");
        serde_json::to_writer(&mut *out, frame).expect("a string serializes");
    }
    out.extend_from_slice(b"}\n");
}

/// Reads one line of the layout `write_line` writes (without its newline): a scan of the fixed
/// prefix, no JSON parse (the frame is parsed once, by the venue's decoder).
pub fn parse_line(line: &str) -> Result<Line<'_>, &'static str> {
    let rest = line.strip_prefix("{\"t\":").ok_or("not a recording line")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 20 {
        return Err("bad time");
    }
    let t_ns: u64 = rest[..digits].parse().map_err(|_| "bad time")?;
    let rest = rest[digits..]
        .strip_prefix(",\"v\":\"")
        .ok_or("missing venue")?;
    let end = rest.find('"').ok_or("unterminated venue")?;
    let venue = &rest[..end];
    if venue.contains('\\') {
        return Err("escaped venue name");
    }
    let rest = rest[end..]
        .strip_prefix("\",\"d\":\"")
        .ok_or("missing direction")?;
    let end = rest.find('"').ok_or("unterminated direction")?;
    let dir = match &rest[..end] {
        "in" => Dir::In,
        "out" => Dir::Out,
        "session" => Dir::Session,
        _ => return Err("unknown direction"),
    };
    let rest = &rest[end..];
    let (payload, unreadable) = if let Some(p) = rest.strip_prefix("\",\"f\":") {
        (p, false)
    } else if let Some(p) = rest.strip_prefix("\",\"s\":") {
        (p, true)
    } else {
        return Err("missing frame");
    };
    let payload = payload.strip_suffix('}').ok_or("truncated line")?;
    if payload.is_empty() {
        return Err("empty frame");
    }
    Ok(Line {
        t_ns,
        venue,
        dir,
        payload,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_bad_frames_are_kept_as_strings() {
        let mut out = Vec::new();
        write_line(
            &mut out,
            12,
            "simA",
            Dir::In,
            r#"{"channel":"bbo","data":{}}"#,
        );
        write_line(&mut out, 13, "simA", Dir::In, r#"{"channel":"bb"#);
        write_line(&mut out, 14, "simB", Dir::Session, r#""ready""#);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(lines[0].payload, r#"{"channel":"bbo","data":{}}"#);
        assert!(!lines[0].unreadable);
        assert!(lines[1].unreadable);
        let s: String = serde_json::from_str(lines[1].payload).unwrap();
        assert_eq!(s, r#"{"channel":"bb"#);
        assert_eq!(
            (lines[2].t_ns, lines[2].venue, lines[2].dir),
            (14, "simB", Dir::Session)
        );
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).expect("every line is JSON");
        }
        for bad in [
            "",
            "{\"t\":x",
            "{\"t\":1,\"v\":\"a\",\"d\":\"up\",\"f\":1}",
            "{\"t\":1,\"v\":\"a\",\"d\":\"in\",\"f\":{\"channel\"",
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }
}
