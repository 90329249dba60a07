//! What `AllocLayer` costs under a real HTTP load: the same axum app served
//! twice on 127.0.0.1, once without the layer and once with it, loaded in
//! turn by `wrk` (several alternations, medians, one session), or by a
//! bounded keep-alive load loop of this program's own when wrk is absent.
//!
//! ```text
//! cargo run --release -p heapmeter --features axum --example alloc_layer_load -- [ROUNDS] [SECONDS]
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use heapmeter::prometheus::Metrics;
use heapmeter::tower::AllocLayer;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// A small handler that allocates, like a JSON answer would.
async fn payment(Path(id): Path<u64>) -> String {
    format!("{{\"id\":{id},\"risky\":{}}}", id % 7 == 0)
}

fn app() -> Router {
    Router::new().route("/payments/{id}", get(payment))
}

/// Requests per second that wrk measured, or `None` if wrk is absent.
fn wrk(addr: SocketAddr, secs: u64) -> Option<f64> {
    let out = Command::new("wrk")
        .args(["-t1", "-c16", &format!("-d{secs}s")])
        .arg(format!("http://{addr}/payments/1234"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Requests per second of 8 keep-alive connections for `secs` seconds.
fn own_loop(addr: SocketAddr, secs: u64) -> f64 {
    let end = Instant::now() + Duration::from_secs(secs);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                let mut done = 0u64;
                let mut line = String::new();
                while Instant::now() < end {
                    writer
                        .write_all(b"GET /payments/1234 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .expect("send");
                    let mut len = 0;
                    loop {
                        line.clear();
                        reader.read_line(&mut line).expect("read");
                        let l = line.trim_end().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().expect("length");
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).expect("body");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().expect("client")).sum();
    total as f64 / secs as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let metrics = Arc::new(Metrics::new());
    let serve = |app: Router| {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move { axum::serve(listener, app).await.expect("serve") });
        addr
    };
    let bare = serve(app());
    let layered = serve(app().layer(AllocLayer::new(Arc::clone(&metrics))));

    let use_wrk = wrk(bare, 1).is_some();
    let tool = if use_wrk {
        "wrk -t1 -c16"
    } else {
        "own loop, 8 connections"
    };
    let load = |addr| match use_wrk {
        true => wrk(addr, secs).expect("wrk ran before"),
        false => own_loop(addr, secs),
    };
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let a = load(bare);
        let b = load(layered);
        println!("round {round}: without {a:.0} req/s, with AllocLayer {b:.0} req/s");
        without.push(a);
        with.push(b);
    }
    let (a, b) = (median(&mut without), median(&mut with));
    println!(
        "{tool}, {rounds} × {secs} s each, alternated: median without {a:.0} req/s, \
         with {b:.0} req/s, ratio with/without {:.3}",
        b / a
    );
    let text = metrics.render();
    let count = text
        .lines()
        .find(|l| l.starts_with("heapmeter_requests_total{route=\"/payments/{id}\"}"))
        .unwrap_or("no request recorded");
    println!("{count}");
}
