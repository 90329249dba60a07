//! A minimal HTTP/1.1 client over one keep-alive TCP connection: what the
//! soak and the tests need to talk to the service over real sockets, and no
//! more (no TLS, no redirects, `Content-Length` bodies only).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{Result, StagingError};

const CLOSED_BEFORE_ANSWER: &str = "connection closed before an answer";

/// Whether `e` says the connection was gone before any answer arrived.
fn is_stale(e: &StagingError) -> bool {
    match e {
        StagingError::Soak(m) => m.ends_with(CLOSED_BEFORE_ANSWER),
        StagingError::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ),
        _ => false,
    }
}

/// A response: status code and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One connection to one server, reopened when the server closed it.
#[derive(Debug)]
pub struct HttpClient {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

impl HttpClient {
    /// A client of `addr` (connects on first use); each request times out
    /// after `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> HttpClient {
        HttpClient {
            addr,
            conn: None,
            timeout,
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<HttpResponse> {
        self.request("GET", path, None, b"").await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&mut self, path: &str, body: &[u8]) -> Result<HttpResponse> {
        self.request("POST", path, Some("application/json"), body)
            .await
    }

    /// Sends one request and reads its response, within the timeout. On
    /// any error the connection is dropped (the next request reconnects).
    ///
    /// NOTE: a server may close a keep-alive connection at any time after
    /// an answer (hyper does after some error responses). A request that
    /// finds its reused connection closed before a single byte of answer
    /// was never read by the server, so it is sent once more on a new
    /// connection, as HTTP clients do.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse> {
        let timeout = self.timeout;
        let reused = self.conn.is_some();
        let attempt = async {
            match self.exchange(method, path, content_type, body).await {
                Err(e) if reused && is_stale(&e) => {
                    self.conn = None;
                    self.exchange(method, path, content_type, body).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(StagingError::Soak(format!(
                    "{method} {path}: no answer within {timeout:?}"
                )))
            }
        }
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse> {
        let io = |e| StagingError::io(format!("{method} {path}"), e);
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.addr).await.map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str("content-type: ");
            head.push_str(ct);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(body).await.map_err(io)?;

        let mut line = String::new();
        if conn.read_line(&mut line).await.map_err(io)? == 0 {
            return Err(StagingError::Soak(format!(
                "{method} {path}: {CLOSED_BEFORE_ANSWER}"
            )));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| StagingError::Soak(format!("bad status line {line:?}")))?;
        let mut len = 0usize;
        let mut close = false;
        loop {
            line.clear();
            conn.read_line(&mut line).await.map_err(io)?;
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            let Some((name, value)) = h.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                len = value
                    .parse()
                    .map_err(|_| StagingError::Soak(format!("bad content-length {value:?}")))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(StagingError::Soak(format!(
                    "{method} {path}: transfer-encoding {value} is not supported"
                )));
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let mut body = vec![0; len];
        conn.read_exact(&mut body).await.map_err(io)?;
        if close {
            self.conn = None;
        }
        Ok(HttpResponse { status, body })
    }
}
