//! What `AllocLayer` costs under a real HTTP load: the same axum app (one
//! cheap route that answers a constant) served twice on 127.0.0.1, once
//! without the layer and once with it, loaded in turn by `wrk` (paired
//! rounds whose order alternates, medians, one session), or by a bounded
//! keep-alive load loop of this program's own when wrk is absent. Besides
//! throughput, it reads this process's CPU time around each run: CPU per
//! request, server side.
//!
//! ```text
//! cargo run --release -p heapmeter --features axum --example alloc_layer_load -- [ROUNDS] [SECONDS] [--sampling]
//! ```
//!
//! With `--sampling`, heap sampling runs at its default interval for the
//! whole process (both servers), as in a service that serves
//! `heapmeter_route_inuse_bytes`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use heapmeter::prometheus::Metrics;
use heapmeter::tower::AllocLayer;

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

/// The cheapest route there is: a constant answer.
fn app() -> Router {
    Router::new().route("/payments/{id}", get(|| async { "ok" }))
}

/// CPU time this process has used so far (user and system), from
/// `/proc/self/stat`; `None` off Linux.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), in clock ticks.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // NOTE: USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
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
    let sampled = std::env::args().any(|a| a == "--sampling");
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(6);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let _session = sampled.then(|| {
        heapmeter::sampling::start(heapmeter::sampling::DEFAULT_INTERVAL).expect("installed")
    });
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
    // Requests per second and CPU per request (µs) of one run.
    let load = |addr| {
        let cpu = cpu_time();
        let rps = match use_wrk {
            true => wrk(addr, secs).expect("wrk ran before"),
            false => own_loop(addr, secs),
        };
        let cpu = cpu_time()
            .zip(cpu)
            .map(|(b, a)| (b - a).as_secs_f64() * 1e6 / (rps * secs as f64));
        (rps, cpu.unwrap_or(f64::NAN))
    };
    let (mut ratios, mut without, mut with) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_without, mut cpu_with) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Pairs alternate their order, so that a drift of the machine's
        // speed during a pair counts against each side as often.
        let ((a, ca), (b, cb)) = if round % 2 == 1 {
            let a = load(bare);
            (a, load(layered))
        } else {
            let b = load(layered);
            (load(bare), b)
        };
        println!(
            "round {round}: without {a:.0} req/s ({ca:.1} µs CPU/req), with AllocLayer {b:.0} req/s ({cb:.1} µs CPU/req), ratio {:.3}",
            b / a
        );
        ratios.push(b / a);
        without.push(a);
        with.push(b);
        cpu_without.push(ca);
        cpu_with.push(cb);
    }
    let slower = ratios.iter().filter(|&&r| r < 1.0).count();
    println!(
        "{tool}, {rounds} pairs × {secs} s, {}: median without {:.0} req/s, with {:.0} req/s; \
         median ratio with/without {:.3} (with slower in {slower} of {rounds} pairs); \
         CPU per request {:.2} µs without, {:.2} µs with",
        if sampled {
            "sampling at 512 KiB"
        } else {
            "sampling off"
        },
        median(&mut without),
        median(&mut with),
        median(&mut ratios),
        median(&mut cpu_without),
        median(&mut cpu_with),
    );
    let text = metrics.render();
    let count = text
        .lines()
        .find(|l| {
            l.starts_with("heapmeter_requests_total{method=\"GET\",route=\"/payments/{id}\"}")
        })
        .unwrap_or("no request recorded");
    println!("{count}");
}
