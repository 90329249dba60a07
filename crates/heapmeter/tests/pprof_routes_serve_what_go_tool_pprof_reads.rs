//! `heapmeter::axum::pprof_routes()` merged into an axum app on a real
//! socket (127.0.0.1): while sampling is off, one line of plain text that
//! says how to turn it on (503); bad parameters get a 400 and one line;
//! then gzipped pprof for `/debug/pprof/heap` (in-use shown by default) and
//! `/debug/pprof/allocs` (allocated shown by default), which `go tool
//! pprof` reads over HTTP when Go is installed; and `?seconds=N`, the
//! difference over N seconds, holds exactly what a route kept meanwhile
//! (sampling every allocation).
//!
//! Sampling is process-wide: a plain `fn main`.

#[macro_use]
mod common;

use std::hint::black_box;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use common::http::Client;
use heapmeter::sampling;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// What `/keep` keeps, reserved up front so that keeping never reallocates.
static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Keeps 10,000 bytes.
#[inline(never)]
fn keep_ten_thousand_bytes() {
    let block = black_box(vec![7u8; 10_000]);
    KEPT.lock().expect("not poisoned").push(block);
}

fn serve(rt: &tokio::runtime::Runtime) -> SocketAddr {
    let app: Router = Router::new()
        .route(
            "/keep",
            get(|| async {
                keep_ten_thousand_bytes();
                "kept"
            }),
        )
        .merge(heapmeter::axum::pprof_routes());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("address");
    rt.spawn(async move { axum::serve(listener, app).await.expect("server") });
    addr
}

/// `go tool pprof -top URL`, if Go is installed.
fn go_top(url: &str) -> Option<String> {
    let dir = tempfile_dir();
    let out = Command::new("go")
        .args(["tool", "pprof", "-top", url])
        .env("PPROF_TMPDIR", &dir)
        .output()
        .ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "go tool pprof {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("heapmeter-pprof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn main() {
    KEPT.lock().unwrap().reserve_exact(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = serve(&rt);
    let mut client = Client::connect(addr);

    // Sampling off: a one-line error that says how to turn it on.
    let (code, kind, body) = client.get_bytes("/debug/pprof/heap");
    let text = String::from_utf8(body).expect("text");
    assert_eq!(code, 503, "{text}");
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(text.contains("heapmeter::sampling::start("), "{text}");

    let session = sampling::start_seeded(1, 5).expect("CountingAlloc is installed");

    // Bad parameters: 400, one line, naming the value.
    for bad in ["seconds=0", "seconds=abc", "seconds=601", "debug=7"] {
        let (code, kind, body) = client.get_bytes(&format!("/debug/pprof/heap?{bad}"));
        let text = String::from_utf8(body).expect("text");
        assert_eq!(code, 400, "{bad}: {text}");
        assert!(kind.starts_with("text/plain"));
        assert_eq!(text.lines().count(), 1, "{text:?}");
        let value = bad.split('=').nth(1).unwrap_or_default();
        assert!(text.contains(&format!("{value:?}")), "{bad}: {text}");
    }

    for _ in 0..5 {
        assert_eq!(client.get("/keep"), (200, "kept".to_string()));
    }
    // As text: the exact live bytes since sampling started beside the
    // estimate.
    let (code, text) = client.get("/debug/pprof/heap?debug=1");
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("in use since sampling started: estimated "),
        "{text}"
    );
    for route in ["/debug/pprof/heap", "/debug/pprof/allocs"] {
        let (code, kind, body) = client.get_bytes(route);
        assert_eq!(code, 200, "{route}");
        assert_eq!(kind, "application/octet-stream");
        assert_eq!(&body[..2], &[0x1f, 0x8b], "{route}: gzip");
    }

    // The difference over one second: what /keep kept meanwhile, exactly.
    // NOTE: two profiles are symbolised (each reads the test binary's
    // debug info): a loaded machine may take a while.
    let mut other = Client::connect(addr).timeout(Duration::from_secs(300));
    let delta = std::thread::spawn(move || other.get("/debug/pprof/heap?seconds=1&debug=1"));
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        assert_eq!(client.get("/keep"), (200, "kept".to_string()));
    }
    let (code, text) = delta.join().expect("the delta request");
    assert_eq!(code, 200, "{text}");
    let kept_line = text
        .lines()
        .skip_while(|l| !l.starts_with("inuse_space by call site"))
        .find(|l| l.contains("keep_ten_thousand_bytes"))
        .unwrap_or_else(|| panic!("the kept blocks are in the delta:\n{text}"));
    let kept: f64 = kept_line
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a figure");
    assert_eq!(kept, 30_000.0, "three requests of 10,000 B:\n{text}");

    let base = format!("http://{addr}");
    match go_top(&format!("{base}/debug/pprof/heap")) {
        Some(top) => {
            assert!(top.contains("Type: inuse_space"), "{top}");
            assert!(top.contains("keep_ten_thousand_bytes"), "{top}");
            let allocs = go_top(&format!("{base}/debug/pprof/allocs")).expect("go ran once");
            assert!(allocs.contains("Type: alloc_space"), "{allocs}");
            println!("go tool pprof read /debug/pprof/heap and /debug/pprof/allocs over HTTP");
        }
        None => skipped!("SKIPPED: go tool pprof over HTTP (install Debian's golang-go)"),
    }
    drop(session);
    drop(client);
    rt.shutdown_timeout(Duration::from_secs(5));
}
