//! The HTTP client the soak and the tests talk to a service with: hyper's
//! own (`hyper_util`'s pooled client), HTTP/1.1 over loopback, each request
//! bounded by a timeout.
//!
//! The pool keeps connections alive between requests and opens more when
//! every pooled one is busy, so an open-loop soak has as many connections
//! as it has requests in flight (bounded by the soak). A request that finds
//! its pooled connection closed by the server before it was sent is sent
//! again on a new one, as hyper does by default.

use std::error::Error as _;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Why an exchange got no answer. Each variant renders as one line, naming
/// the request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The request could not be built (a bad method, path or header).
    #[error("{method} {url}: {source}")]
    Build {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: hyper::http::Error,
    },
    /// Connecting, sending or receiving the head failed (refused, reset,
    /// closed before an answer).
    #[error("{method} {url}: {}", causes(source))]
    Transport {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The client's error.
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// The body of the answer could not be read to its end.
    #[error("{method} {url}: reading the answer: {source}")]
    Body {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// hyper's error.
        #[source]
        source: hyper::Error,
    },
    /// No whole answer within the client's timeout.
    #[error("{method} {url}: no answer within {after:?}")]
    Timeout {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
}

/// An error and its causes, as one line (hyper_util's own message only
/// names its kind).
fn causes(e: &hyper_util::client::legacy::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(line, ": {cause}");
        source = cause.source();
    }
    line
}

/// An answer: status code and body.
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

/// A pooled client of one server. Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    timeout: Duration,
}

impl HttpClient {
    /// A client of `addr` (connects on first use); each request, its answer
    /// read to the end, times out after `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        HttpClient {
            client,
            addr,
            timeout,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<HttpResponse, HttpError> {
        self.request("GET", path, None, b"").await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &[u8]) -> Result<HttpResponse, HttpError> {
        self.request("POST", path, Some("application/json"), body)
            .await
    }

    /// Sends one request and reads its answer to the end, within the
    /// timeout.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        let url = format!("http://{}{path}", self.addr);
        let built = Method::from_bytes(method.as_bytes())
            .map_err(hyper::http::Error::from)
            .and_then(|m| {
                let mut req = Request::builder().method(m).uri(&url);
                if let Some(ct) = content_type {
                    req = req.header(CONTENT_TYPE, ct);
                }
                req.body(Full::new(Bytes::copy_from_slice(body)))
            });
        let req = match built {
            Ok(req) => req,
            Err(source) => {
                return Err(HttpError::Build {
                    method: method.into(),
                    url,
                    source,
                })
            }
        };
        let exchange = async {
            let response =
                self.client
                    .request(req)
                    .await
                    .map_err(|source| HttpError::Transport {
                        method: method.into(),
                        url: url.clone(),
                        source,
                    })?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|source| HttpError::Body {
                    method: method.into(),
                    url: url.clone(),
                    source,
                })?
                .to_bytes();
            Ok(HttpResponse {
                status,
                body: body.to_vec(),
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(HttpError::Timeout {
                method: method.into(),
                url,
                after: self.timeout,
            }),
        }
    }
}
