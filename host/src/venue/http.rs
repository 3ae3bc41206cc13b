//! A minimal HTTP/1.1 client for the venue's `/info` (and `/exchange`) JSON endpoints: one
//! request per connection (`Connection: close`), plain TCP for the simulator, TLS (rustls, web
//! PKI roots) for the real venue. Bodies by Content-Length, chunked, or until close. This is all
//! the host needs of HTTP, without an HTTP stack in the build.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("bad URL {0:?} (want http://host[:port][/path] or https://…)")]
    BadUrl(String),
    #[error("{url}: {reason}")]
    Io { url: String, reason: String },
    #[error("{url}: timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("{url}: malformed response: {reason}")]
    Malformed { url: String, reason: String },
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
}

/// A parsed base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash ("" for the root).
    pub prefix: String,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<BaseUrl, HttpError> {
        let bad = || HttpError::BadUrl(url.to_string());
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
            None => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad());
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("/{}", path.trim_end_matches('/'))
        };
        Ok(BaseUrl {
            tls,
            host: host.to_string(),
            port,
            prefix,
        })
    }

    pub fn display(&self, path: &str) -> String {
        format!(
            "{}://{}:{}{}{}",
            if self.tls { "https" } else { "http" },
            self.host,
            self.port,
            self.prefix,
            path
        )
    }
}

/// A client for one base URL.
#[derive(Clone)]
pub struct HttpClient {
    base: BaseUrl,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpClient({})", self.base.display(""))
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

impl HttpClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<HttpClient, HttpError> {
        let base = BaseUrl::parse(base_url)?;
        let tls = base.tls.then(tls_config);
        Ok(HttpClient { base, timeout, tls })
    }

    /// POSTs JSON to `path` and returns the body of a 200 answer.
    pub async fn post_json(&self, path: &str, body: &str) -> Result<String, HttpError> {
        let url = self.base.display(path);
        match tokio::time::timeout(self.timeout, self.exchange(path, body, &url)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout {
                url,
                after: self.timeout,
            }),
        }
    }

    /// POSTs a JSON value to `/info` and deserializes the answer.
    pub async fn info<T: serde::de::DeserializeOwned>(
        &self,
        request: &serde_json::Value,
    ) -> Result<T, HttpError> {
        let body = self.post_json("/info", &request.to_string()).await?;
        serde_json::from_str(&body).map_err(|e| HttpError::Malformed {
            url: self.base.display("/info"),
            reason: format!("{e} (request {request})"),
        })
    }

    async fn exchange(&self, path: &str, body: &str, url: &str) -> Result<String, HttpError> {
        let io = |e: std::io::Error| HttpError::Io {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let tcp = TcpStream::connect((self.base.host.as_str(), self.base.port))
            .await
            .map_err(io)?;
        tcp.set_nodelay(true).map_err(io)?;
        let request = format!(
            "POST {}{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.base.prefix,
            path,
            self.base.host,
            body.len(),
            body
        );
        match &self.tls {
            None => roundtrip(tcp, &request, url).await,
            Some(cfg) => {
                let name = rustls::pki_types::ServerName::try_from(self.base.host.clone())
                    .map_err(|_| HttpError::BadUrl(url.to_string()))?;
                let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(io)?;
                roundtrip(stream, &request, url).await
            }
        }
    }
}

async fn roundtrip<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    request: &str,
    url: &str,
) -> Result<String, HttpError> {
    let io = |e: std::io::Error| HttpError::Io {
        url: url.to_string(),
        reason: e.to_string(),
    };
    s.write_all(request.as_bytes()).await.map_err(io)?;
    s.flush().await.map_err(io)?;
    let mut raw = Vec::with_capacity(4096);
    // Read to the end (Connection: close); a TLS peer that closes without close_notify is fine
    // once the body is complete, so keep what was read.
    if let Err(e) = s.read_to_end(&mut raw).await
        && raw.is_empty()
    {
        return Err(io(e));
    }
    parse_response(&raw, url)
}

/// Parses a full HTTP/1.1 response; returns the body of a 200.
pub fn parse_response(raw: &[u8], url: &str) -> Result<String, HttpError> {
    let malformed = |reason: &str| HttpError::Malformed {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| malformed("no header end"))?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| malformed("non-UTF-8 headers"))?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| malformed("no status line"))?;
    let mut content_length = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                content_length = v.parse::<usize>().ok();
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(rest).ok_or_else(|| malformed("bad chunked body"))?
    } else if let Some(n) = content_length {
        rest.get(..n)
            .ok_or_else(|| malformed("body shorter than Content-Length"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    let body = String::from_utf8(body).map_err(|_| malformed("non-UTF-8 body"))?;
    if status != 200 {
        return Err(HttpError::Status {
            url: url.to_string(),
            status,
            body: body.chars().take(300).collect(),
        });
    }
    Ok(body)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = BaseUrl::parse("https://api.hyperliquid-testnet.xyz").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.prefix.as_str()),
            (true, "api.hyperliquid-testnet.xyz", 443, "")
        );
        let u = BaseUrl::parse("http://127.0.0.1:3001/api/").unwrap();
        assert_eq!((u.tls, u.port, u.prefix.as_str()), (false, 3001, "/api"));
        assert!(BaseUrl::parse("ftp://x").is_err());
        assert!(BaseUrl::parse("http://:80").is_err());
    }

    #[test]
    fn responses_by_length_chunked_and_close() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}trailing";
        assert_eq!(parse_response(r, "u").unwrap(), "{}");
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n";
        assert_eq!(parse_response(r, "u").unwrap(), "[1,2]");
        let r = b"HTTP/1.1 200 OK\r\n\r\n[null]";
        assert_eq!(parse_response(r, "u").unwrap(), "[null]");
        let r = b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 4\r\n\r\nslow";
        assert!(matches!(
            parse_response(r, "u"),
            Err(HttpError::Status { status: 429, .. })
        ));
        assert!(parse_response(b"garbage", "u").is_err());
    }
}
