//! Heap profiles over HTTP for axum apps (feature `axum`), where Go serves
//! them: `GET /debug/pprof/heap` and `GET /debug/pprof/allocs`.
//!
//! ```no_run
//! # #[global_allocator]
//! # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
//! #     heapmeter::CountingAlloc::system();
//! use axum::{routing::get, Router};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // At startup: sample one allocation per 512 KiB allocated, on average.
//!     let _session = heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL)?;
//!     let app: Router = Router::new()
//!         .route("/", get(|| async { "hello" }))
//!         .merge(heapmeter::axum::pprof_routes());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! ```text
//! go tool pprof -top http://127.0.0.1:8080/debug/pprof/heap            # live bytes by function
//! go tool pprof -top 'http://127.0.0.1:8080/debug/pprof/heap?seconds=30'  # what changed in 30 s
//! curl 'http://127.0.0.1:8080/debug/pprof/heap?debug=1'                  # the same, as text
//! ```
//!
//! | request | answer |
//! |---|---|
//! | `GET /debug/pprof/heap` | gzipped pprof, the four sample types, `inuse_space` shown by default |
//! | `GET /debug/pprof/allocs` | the same profile, `alloc_space` shown by default |
//! | `?seconds=N` (1 to [`MAX_SECONDS`]) | the difference between a profile taken now and one taken N seconds later, as Go's delta profiles |
//! | `?debug=1` | the profile as text: call sites, largest first, beside the exact totals and the exact live bytes since sampling started |
//!
//! Taking a profile symbolises its stacks (the binary's debug info is read
//! and freed again) on a blocking thread, one profile at a time. Errors are
//! one line of plain text: 400 for a bad parameter, 503 while sampling is
//! off (with how to turn it on). Serve these routes where only operators
//! reach them: a profile names the program's functions and files.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use ::axum::extract::RawQuery;
use ::axum::http::{header, StatusCode};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::get;
use ::axum::Router;

use crate::{sampling, Profile, SampleType};

/// The longest `?seconds=` accepted: ten minutes.
pub const MAX_SECONDS: u64 = 600;

/// The routes, to merge into an app of any state type:
/// `Router::new().merge(heapmeter::axum::pprof_routes())`. See the
/// [module](self) docs.
pub fn pprof_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/debug/pprof/heap",
            get(|RawQuery(query): RawQuery| serve(query, SampleType::InuseSpace)),
        )
        .route(
            "/debug/pprof/allocs",
            get(|RawQuery(query): RawQuery| serve(query, SampleType::AllocSpace)),
        )
}

/// Why a profile could not be served; each is one line of text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PprofError {
    /// Heap sampling is off.
    #[error(
        "heapmeter: heap sampling is off; start it when the service starts: \
         let _session = heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL)?;"
    )]
    SamplingOff,
    /// `CountingAlloc` is not the global allocator.
    #[error("{}", not_installed_line())]
    NotInstalled,
    /// `?seconds=` was not a whole number of seconds in range.
    #[error(
        "heapmeter: invalid seconds={value:?}: expected whole seconds from 1 to {MAX_SECONDS}"
    )]
    BadSeconds {
        /// The value given.
        value: String,
    },
    /// `?debug=` was neither 0 nor 1.
    #[error("heapmeter: invalid debug={value:?}: expected 0 (pprof) or 1 (text)")]
    BadDebug {
        /// The value given.
        value: String,
    },
    /// Writing the profile failed.
    #[error("heapmeter: could not write the profile: {0}")]
    Write(#[source] io::Error),
    /// The task that took the profile panicked or was cancelled.
    #[error("heapmeter: the profiling task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl PprofError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            PprofError::BadSeconds { .. } | PprofError::BadDebug { .. } => StatusCode::BAD_REQUEST,
            PprofError::SamplingOff | PprofError::NotInstalled => StatusCode::SERVICE_UNAVAILABLE,
            PprofError::Write(_) | PprofError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PprofError {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}

/// heapmeter's message for a process without `CountingAlloc`, on one line
/// (an HTTP answer).
fn not_installed_line() -> String {
    crate::scope::NOT_INSTALLED
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    seconds: Option<u64>,
    text: bool,
}

impl Request {
    /// Parses the query string; parameters other than `seconds` and
    /// `debug` (Go's `gc`, say) are ignored.
    fn parse(query: Option<&str>) -> Result<Request, PprofError> {
        let mut request = Request {
            seconds: None,
            text: false,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "seconds" => {
                    let n = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=MAX_SECONDS).contains(n))
                        .ok_or_else(|| PprofError::BadSeconds {
                            value: value.to_string(),
                        })?;
                    request.seconds = Some(n);
                }
                "debug" => {
                    request.text = match value {
                        "0" => false,
                        "1" => true,
                        _ => {
                            return Err(PprofError::BadDebug {
                                value: value.to_string(),
                            })
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(request)
    }
}

async fn serve(query: Option<String>, default: SampleType) -> Result<Response, PprofError> {
    let request = Request::parse(query.as_deref())?;
    if sampling::interval().is_none() {
        return Err(if crate::engine::ensure_installed() {
            PprofError::SamplingOff
        } else {
            PprofError::NotInstalled
        });
    }
    let mut profile = take().await?;
    if let Some(seconds) = request.seconds {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let later = take().await?;
        profile = later.diff(&profile);
    }
    let response = if request.text {
        let mut out = Vec::new();
        write_text(&profile, default, &mut out).map_err(PprofError::Write)?;
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], out).into_response()
    } else {
        let mut out = Vec::new();
        profile
            .write_pprof_as(&mut out, default)
            .map_err(PprofError::Write)?;
        (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"profile\"",
                ),
            ],
            out,
        )
            .into_response()
    };
    Ok(response)
}

/// One profile at a time: symbolising reads the binary's debug info, and
/// two at once would hold it twice.
static TAKING: Mutex<()> = Mutex::new(());

/// Takes a profile on a blocking thread.
async fn take() -> Result<Profile, PprofError> {
    tokio::task::spawn_blocking(|| {
        let _one = TAKING.lock().unwrap_or_else(|e| e.into_inner());
        // NOTE: read before the profile is built: the profile itself is
        // live, and made while sampling is paused.
        let exact = u64::try_from(sampling::live_bytes_since_start()).ok();
        let mut profile = sampling::profile();
        profile.exact_inuse_space = exact;
        profile
    })
    .await
    .map_err(PprofError::Task)
}

/// The profile as text: the exact totals, then call sites by `first` and by
/// the other view (in use or allocated), largest first.
fn write_text(profile: &Profile, first: SampleType, out: &mut impl io::Write) -> io::Result<()> {
    writeln!(
        out,
        "heapmeter heap profile: sampled every {} bytes on average, {} live samples, {} dropped",
        profile.interval, profile.live_samples, profile.dropped
    )?;
    let t = &profile.totals;
    writeln!(
        out,
        "exact: {} allocations, {} bytes allocated, {} bytes live",
        t.allocs,
        t.bytes_allocated,
        t.net_bytes()
    )?;
    writeln!(
        out,
        "estimated: {:.0} bytes in use, {:.0} bytes allocated",
        profile.inuse_space(),
        profile.alloc_space()
    )?;
    if let Some(line) = profile.inuse_agreement() {
        writeln!(out, "{line}")?;
    }
    let second = match first {
        SampleType::AllocSpace | SampleType::AllocObjects => SampleType::InuseSpace,
        _ => SampleType::AllocSpace,
    };
    for kind in [first, second] {
        writeln!(out, "\n{kind} by call site:")?;
        let sites = profile.sites(kind);
        if sites.is_empty() {
            writeln!(out, "  (none sampled)")?;
        }
        for site in sites.iter().take(20) {
            writeln!(out, "{:>14.0}  {}", site.value, site.site)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_parsed_or_refused_with_a_typed_error() {
        assert_eq!(
            Request::parse(None).unwrap(),
            Request {
                seconds: None,
                text: false
            }
        );
        assert_eq!(
            Request::parse(Some("seconds=30&gc=1&debug=1")).unwrap(),
            Request {
                seconds: Some(30),
                text: true
            }
        );
        for bad in [
            "seconds=0",
            "seconds=-1",
            "seconds=abc",
            "seconds=601",
            "seconds=",
        ] {
            let err = Request::parse(Some(bad)).unwrap_err();
            assert!(matches!(err, PprofError::BadSeconds { .. }), "{bad}");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
        let err = Request::parse(Some("debug=2")).unwrap_err();
        assert!(matches!(err, PprofError::BadDebug { .. }));
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn the_sampling_off_message_says_how_to_turn_it_on() {
        let text = PprofError::SamplingOff.to_string();
        assert!(!text.contains('\n'));
        assert!(text.contains("heapmeter::sampling::start("), "{text}");
        assert_eq!(
            PprofError::SamplingOff.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
