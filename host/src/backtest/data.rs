//! Reading backtest data, streaming (one line in memory per file): recordings (`record`,
//! `[record]`), the venue archive's hourly `l2Book` files and its daily `asset_ctxs` CSV, plain or
//! LZ4-framed, merged across files in time order. The format of each file is read from its
//! first line, never from its name. Every problem names the file and line.

use super::config::OnBad;
use crate::record::format::{self, Dir, Header};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// An input error: what, where.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

/// What kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A strategy-host recording.
    Recording,
    /// The archive's `market_data/<date>/<hour>/l2Book/<COIN>.lz4`.
    ArchiveBook,
    /// The archive's `asset_ctxs/<date>.csv.lz4`.
    AssetCtxs,
}

/// A `--data` argument: a path, optionally `VENUE=PATH` (which configured venue the archive's
/// coins belong to, when more than one venue trades a coin).
#[derive(Debug, Clone)]
pub struct DataArg {
    pub venue: Option<String>,
    pub path: PathBuf,
}

impl DataArg {
    pub fn parse(s: &str) -> DataArg {
        match s.split_once('=') {
            Some((v, p)) if !v.is_empty() && !v.contains('/') && !Path::new(s).exists() => {
                DataArg {
                    venue: Some(v.to_string()),
                    path: PathBuf::from(p),
                }
            }
            _ => DataArg {
                venue: None,
                path: PathBuf::from(s),
            },
        }
    }
}

/// Expands directories (recursively, sorted) into their data files (`.lz4`, `.jsonl`, `.csv`,
/// `.json`); a file named directly is always read.
pub fn expand(args: &[DataArg]) -> Result<Vec<DataArg>, DataError> {
    let mut out = Vec::new();
    for a in args {
        let meta = std::fs::metadata(&a.path).map_err(|e| DataError::File {
            path: a.path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(&a.path, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(DataError::File {
                    path: a.path.clone(),
                    message: "no data files (.lz4, .jsonl, .csv, .json) in this directory".into(),
                });
            }
            out.extend(files.into_iter().map(|path| DataArg {
                venue: a.venue.clone(),
                path,
            }));
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DataError::File {
        path: dir.to_path_buf(),
        message: format!("cannot list: {e}"),
    })?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if [".lz4", ".jsonl", ".csv", ".json"]
                .iter()
                .any(|x| name.ends_with(x))
            {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Counts the bytes read from the file (compressed), for progress.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];

/// One open data file, positioned on its current line.
pub struct Reader {
    pub path: PathBuf,
    pub kind: Kind,
    /// `VENUE=` of the argument.
    pub venue: Option<String>,
    pub header: Option<Header>,
    lines: Box<dyn BufRead>,
    /// The current line (without its newline).
    pub line: String,
    pub line_no: u64,
    /// Time of the current line (ns).
    pub t_ns: u64,
    last_t: u64,
    pub bytes_read: std::rc::Rc<std::cell::Cell<u64>>,
    pub size: u64,
    /// CSV columns: time, coin, funding, oracle_px, mark_px, mid_px.
    csv: Option<[usize; 6]>,
    /// Lines skipped, by reason (`on_bad_line = "skip"`).
    pub skipped: std::collections::BTreeMap<String, u64>,
    on_bad: OnBad,
    /// `AssetCtxs` files are read whole, sorted by time (the archive does not promise an
    /// order), holding only the configured coins' rows: (time, line number, line).
    sorted: Option<std::collections::VecDeque<(u64, u64, String)>>,
    /// The current line is data not yet handed out (an archive file's first line).
    pending: bool,
    /// The file could not be read further (corrupt compressed data, skipped).
    broken: bool,
    /// The current recording line as `advance` read it (so it is scanned once).
    rec: Option<RecSpans>,
}

/// Where a recording line's parts are, in `Reader::line`.
#[derive(Debug, Clone, Copy)]
pub struct RecSpans {
    venue: (usize, usize),
    payload: (usize, usize),
    dir: Dir,
    unreadable: bool,
}

impl Reader {
    /// Opens a file and reads its first line to learn its format.
    pub fn open(arg: &DataArg, on_bad: OnBad) -> Result<Reader, DataError> {
        let path = arg.path.clone();
        let ferr = |message: String| DataError::File {
            path: path.clone(),
            message,
        };
        let mut f = std::fs::File::open(&path).map_err(|e| ferr(format!("cannot open: {e}")))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut magic = [0u8; 4];
        let n = f
            .read(&mut magic)
            .map_err(|e| ferr(format!("cannot read: {e}")))?;
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| ferr(format!("cannot read: {e}")))?;
        let bytes_read = std::rc::Rc::new(std::cell::Cell::new(0));
        let counted = Counting {
            inner: f,
            read: bytes_read.clone(),
        };
        let lines: Box<dyn BufRead> = if n == 4 && magic == LZ4_MAGIC {
            Box::new(BufReader::with_capacity(
                1 << 16,
                lz4_flex::frame::FrameDecoder::new(BufReader::with_capacity(1 << 16, counted)),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, counted))
        };
        let mut r = Reader {
            path: path.clone(),
            kind: Kind::Recording,
            venue: arg.venue.clone(),
            header: None,
            lines,
            line: String::new(),
            line_no: 0,
            t_ns: 0,
            last_t: 0,
            bytes_read,
            size,
            csv: None,
            skipped: Default::default(),
            on_bad,
            sorted: None,
            pending: false,
            broken: false,
            rec: None,
        };
        if !r.read_raw()? {
            return Err(ferr("empty file".into()));
        }
        let first = r.line.trim_start_matches('\u{feff}');
        if first.starts_with("{\"format\"") {
            let h: Header = serde_json::from_str(first)
                .map_err(|e| ferr(format!("unreadable recording header: {e}")))?;
            if h.format != format::FORMAT {
                return Err(ferr(format!("unknown format `{}`", h.format)));
            }
            if h.version != format::VERSION {
                return Err(ferr(format!(
                    "recording format version {} (this host reads {})",
                    h.version,
                    format::VERSION
                )));
            }
            r.header = Some(h);
            r.kind = Kind::Recording;
            r.line.clear();
        } else if first.starts_with("{\"time\"") {
            r.kind = Kind::ArchiveBook;
            r.pending = true;
        } else if first.starts_with("time,") {
            let cols: Vec<&str> = first.split(',').map(str::trim).collect();
            let col = |name: &str| {
                cols.iter().position(|c| *c == name).ok_or_else(|| {
                    ferr(format!("asset_ctxs header has no `{name}` column: {first}"))
                })
            };
            r.csv = Some([
                col("time")?,
                col("coin")?,
                col("funding")?,
                col("oracle_px")?,
                col("mark_px")?,
                col("mid_px")?,
            ]);
            r.kind = Kind::AssetCtxs;
        } else {
            return Err(ferr(format!(
                "unknown format: the first line is neither a strategy-host recording header, \
                 an archive l2Book line, nor an asset_ctxs CSV header: `{}`",
                crate::logging::cut(first)
            )));
        }
        Ok(r)
    }
}

impl Reader {
    /// Reads the next raw line into `line` (false at the end of the file).
    fn read_raw(&mut self) -> Result<bool, DataError> {
        self.line.clear();
        match self.lines.read_line(&mut self.line) {
            Ok(0) => Ok(false),
            Ok(_) => {
                self.line_no += 1;
                if self.line.ends_with('\n') {
                    self.line.pop();
                    if self.line.ends_with('\r') {
                        self.line.pop();
                    }
                }
                Ok(true)
            }
            Err(e) => {
                self.line_no += 1;
                self.broken = true;
                let message = if e.kind() == std::io::ErrorKind::InvalidData
                    && e.to_string().contains("UTF-8")
                {
                    "not UTF-8 text".to_string()
                } else {
                    format!("unreadable (truncated or corrupt compressed data): {e}")
                };
                self.bad(message).map(|()| false)
            }
        }
    }

    /// A bad line: an error, or a counted skip.
    fn bad(&mut self, message: String) -> Result<(), DataError> {
        match self.on_bad {
            OnBad::Error => Err(DataError::Line {
                path: self.path.clone(),
                line: self.line_no,
                message,
            }),
            OnBad::Skip => {
                let key = message.split(':').next().unwrap_or("bad line").to_string();
                *self.skipped.entry(key).or_default() += 1;
                if self.skipped.values().sum::<u64>() == 1 {
                    tracing::warn!(
                        "{}:{}: {message} (skipped; later ones are counted)",
                        self.path.display(),
                        self.line_no
                    );
                }
                Ok(())
            }
        }
    }

    /// Moves to the next data line (false at the end of the file). `wanted` says which coins an
    /// asset_ctxs file's rows are kept for.
    pub fn advance(&mut self, wanted: &dyn Fn(&str) -> bool) -> Result<bool, DataError> {
        if self.kind == Kind::AssetCtxs {
            return self.advance_csv(wanted);
        }
        loop {
            if self.pending {
                self.pending = false;
            } else if self.broken || !self.read_raw()? {
                return Ok(false);
            }
            if self.line.trim().is_empty() {
                continue;
            }
            let t = match self.kind {
                Kind::Recording => match format::parse_line(&self.line) {
                    Ok(l) => {
                        let base = self.line.as_ptr() as usize;
                        let span = |s: &str| {
                            let at = s.as_ptr() as usize - base;
                            (at, at + s.len())
                        };
                        self.rec = Some(RecSpans {
                            venue: span(l.venue),
                            payload: span(l.payload),
                            dir: l.dir,
                            unreadable: l.unreadable,
                        });
                        Ok(l.t_ns)
                    }
                    Err(e) => Err(e.to_string()),
                },
                _ => archive_time(&self.line),
            };
            match t {
                Ok(t) if t < self.last_t => {
                    let m = format!(
                        "time goes back (this line at {t} ns, the line before at {} ns)",
                        self.last_t
                    );
                    self.bad(m)?;
                }
                Ok(t) => {
                    self.t_ns = t;
                    self.last_t = t;
                    return Ok(true);
                }
                Err(e) => self.bad(format!("corrupt line: {e}"))?,
            }
        }
    }

    fn advance_csv(&mut self, wanted: &dyn Fn(&str) -> bool) -> Result<bool, DataError> {
        if self.sorted.is_none() {
            let cols = self.csv.expect("a CSV file has its columns");
            let mut rows = Vec::new();
            while self.read_raw()? {
                if self.line.trim().is_empty() {
                    continue;
                }
                let fields: Vec<&str> = self.line.split(',').collect();
                if fields.len() <= cols.iter().copied().max().unwrap_or(0) {
                    let m = format!("corrupt line: {} fields, the header has more", fields.len());
                    self.bad(m)?;
                    continue;
                }
                if !wanted(fields[cols[1]].trim()) {
                    continue;
                }
                match crate::timefmt::parse_iso_ns(fields[cols[0]]) {
                    Some(t) => rows.push((t, self.line_no, std::mem::take(&mut self.line))),
                    None => {
                        let m = format!("corrupt line: bad time `{}`", fields[cols[0]]);
                        self.bad(m)?;
                    }
                }
            }
            rows.sort_by_key(|(t, n, _)| (*t, *n));
            self.sorted = Some(rows.into());
        }
        match self.sorted.as_mut().expect("loaded above").pop_front() {
            Some((t, n, line)) => {
                self.t_ns = t;
                self.line_no = n;
                self.line = line;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The current line as an asset context row: (coin, oracle, mark, mid, funding).
    pub fn csv_row(&self) -> Result<CsvRow<'_>, String> {
        let cols = self.csv.expect("a CSV file has its columns");
        let f: Vec<&str> = self.line.split(',').map(str::trim).collect();
        let dec = |i: usize, name: &str| -> Result<Option<rust_decimal::Decimal>, String> {
            let v = f[cols[i]];
            if v.is_empty() || v == "null" {
                return Ok(None);
            }
            v.parse::<rust_decimal::Decimal>()
                .map(Some)
                .map_err(|_| format!("bad {name} `{v}`"))
        };
        Ok(CsvRow {
            coin: f[cols[1]],
            funding: dec(2, "funding")?.unwrap_or_default(),
            oracle: dec(3, "oracle_px")?.ok_or("no oracle_px")?,
            mark: dec(4, "mark_px")?.ok_or("no mark_px")?,
            mid: dec(5, "mid_px")?,
        })
    }

    /// Where the current recording line's parts are, as `advance` read them (for a caller that
    /// takes the line out of the reader: `RecSpans::line`).
    pub fn take_recording_spans(&mut self) -> Option<RecSpans> {
        self.rec.take()
    }

    /// Reports a bad current line (found while decoding it): an error or a counted skip.
    pub fn bad_current(&mut self, message: String) -> Result<(), DataError> {
        self.bad(message)
    }
}

impl RecSpans {
    /// The line's parts in `line` (the text `advance` read), at time `t_ns`.
    pub fn line(self, line: &str, t_ns: u64) -> Option<format::Line<'_>> {
        Some(format::Line {
            t_ns,
            venue: line.get(self.venue.0..self.venue.1)?,
            dir: self.dir,
            payload: line.get(self.payload.0..self.payload.1)?,
            unreadable: self.unreadable,
        })
    }
}

/// One asset_ctxs row.
pub struct CsvRow<'a> {
    pub coin: &'a str,
    pub funding: rust_decimal::Decimal,
    pub oracle: rust_decimal::Decimal,
    pub mark: rust_decimal::Decimal,
    pub mid: Option<rust_decimal::Decimal>,
}

/// The time of an archive l2Book line: `{"time":"2023-09-16T09:00:02.164471989",…`.
fn archive_time(line: &str) -> Result<u64, String> {
    let rest = line
        .strip_prefix("{\"time\":\"")
        .ok_or("not an archive l2Book line")?;
    let end = rest.find('"').ok_or("unterminated time")?;
    crate::timefmt::parse_iso_ns(&rest[..end]).ok_or_else(|| format!("bad time `{}`", &rest[..end]))
}

/// The raw WebSocket message of an archive line (`raw`): the line's usual form
/// (`{"time":"…","ver_num":N,"raw":{…}}`) is cut by hand, any other is read by serde.
pub fn archive_raw(line: &str) -> Result<&str, String> {
    let fast = (|| {
        let rest = line.strip_prefix("{\"time\":\"")?;
        let rest = &rest[rest.find('"')? + 1..];
        let rest = rest.strip_prefix(",\"ver_num\":")?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let raw = rest[digits..]
            .strip_prefix(",\"raw\":")?
            .strip_suffix('}')?;
        raw.starts_with('{').then_some(raw)
    })();
    if let Some(raw) = fast {
        return Ok(raw);
    }
    #[derive(serde::Deserialize)]
    struct ArchiveLine<'a> {
        #[serde(borrow)]
        raw: &'a serde_json::value::RawValue,
    }
    let l: ArchiveLine<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    Ok(l.raw.get())
}
