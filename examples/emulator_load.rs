//! Load and memory figures of the emulator (docs/BENCHMARKS.md, `## emulator`).
//!
//! `cargo run --release --example emulator_load -- throughput [SECONDS] [CONNECTIONS] [LIMIT]`
//!   starts the emulator in-process (2 worker threads), seeds 20 accounts with 100 conversions
//!   each, and drives list requests (`fields` = the ones convctl asks for) over keep-alive
//!   loopback connections from a separate client thread with a minimal HTTP/1.1 client, so
//!   that the figure measures the server rather than a heavy client. Prints requests/s.
//! `cargo run --release --example emulator_load -- memory [CONVERSIONS]`
//!   inserts CONVERSIONS (default 50,000) conversions, 100 per account, with realistic rules,
//!   lists every account once, and prints the process's resident memory (VmRSS, VmHWM).

use convctl::emulator::{self, EmulatorConfig, SeedConversion};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const FIELDS: &str = "id,name,description,rule,custom_event_type,default_conversion_value,data_sources,creation_time,last_fired_time,is_archived";
/// The version asked for: convctl's default, the newest the emulator serves.
const VERSION: &str = convctl::DEFAULT_API_VERSION;

/// The emulator with Meta's limits out of this load's way: the score's window at its shortest
/// (10 ms) decays 9000 points in 10 ms, so thousands of lists a second per account are never
/// refused. This measures the emulator, not Meta's limits.
fn unlimited() -> EmulatorConfig {
    EmulatorConfig {
        score_window: Duration::from_millis(10),
        ..EmulatorConfig::default()
    }
}

fn seed(account: usize, i: usize) -> SeedConversion {
    SeedConversion {
        account: format!("act_{}", 1_000_000 + account),
        name: format!("Conversion {i} of account {account}: purchases over {i}"),
        description: format!("Generated for the load test, number {i}"),
        rule: Some(json!({"and": [
            {"event": {"eq": "Purchase"}},
            {"value": {"gt": i}},
            {"url": {"i_contains": format!("/checkout/thank-you-{i}.html")}}
        ]})),
        custom_event_type: Some("PURCHASE".into()),
        event_source_id: Some("998877665544".into()),
        default_conversion_value: i as f64,
        ..SeedConversion::default()
    }
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "n/a".into())
}

/// One keep-alive connection sending list requests until `stop`.
async fn client_loop(
    addr: SocketAddr,
    accounts: usize,
    limit: usize,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    offset: usize,
) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut n = offset;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let request = format!(
            "GET /{VERSION}/act_{}/customconversions?fields={FIELDS}&limit={limit} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer load-test\r\n\r\n",
            1_000_000 + n % accounts
        );
        write.write_all(request.as_bytes()).await.expect("write");
        let mut length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            reader.read_line(&mut line).await.expect("read");
            if first {
                assert!(
                    line.starts_with("HTTP/1.1 200"),
                    "unexpected answer: {line}"
                );
                first = false;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().expect("content-length");
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body).await.expect("body");
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// CPU seconds used so far by this process's threads named `name` (Linux, 100 ticks/s).
fn thread_cpu_seconds(name: &str) -> f64 {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with(name) {
            continue;
        }
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        ticks += rest
            .get(11)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        ticks += rest
            .get(12)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
    }
    ticks as f64 / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn throughput(seconds: u64, connections: usize, limit: usize) {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("emu-server")
        .enable_all()
        .build()
        .unwrap();
    let accounts = 20;
    let running = server.block_on(async {
        let running = emulator::start(unlimited(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        for a in 0..accounts {
            for i in 0..100 {
                running.insert_conversion(seed(a, i)).unwrap();
            }
        }
        running
    });
    let addr = running.addr();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (requests, elapsed, server_cpu) = client.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                tokio::spawn(client_loop(
                    addr,
                    accounts,
                    limit,
                    stop.clone(),
                    done.clone(),
                    c * 7,
                ))
            })
            .collect();
        // Warm up one second, then measure.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start_count = done.load(Ordering::Relaxed);
        let cpu_before = thread_cpu_seconds("emu-server");
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let requests = done.load(Ordering::Relaxed) - start_count;
        let elapsed = started.elapsed();
        let server_cpu = thread_cpu_seconds("emu-server") - cpu_before;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        (requests, elapsed, server_cpu)
    });
    let stats = running.stats();
    server.block_on(running.shutdown()).unwrap();
    println!(
        "throughput: {requests} list requests in {:.2} s = {:.0} requests/s ({connections} connections, limit={limit}, 100 conversions/account, {} requests served in total)",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        stats["requests"]
    );
    // The machine is shared: also report what the server costs per request, which does not
    // depend on how much CPU other processes took during the run.
    println!(
        "  server CPU: {server_cpu:.2} s for {requests} requests = {:.0} requests per CPU-second ({:.1} µs/request); load average {}",
        requests as f64 / server_cpu.max(0.01),
        server_cpu * 1e6 / requests.max(1) as f64,
        load_average()
    );
}

fn memory(conversions: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let before = proc_status("VmRSS:");
    runtime.block_on(async {
        let running = emulator::start(unlimited(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let started = Instant::now();
        for n in 0..conversions {
            running.insert_conversion(seed(n / 100, n % 100)).unwrap();
        }
        let inserted = started.elapsed();
        // Every account listed once over HTTP (all fields), so the answer path has run too.
        let client = reqwest::Client::new();
        for a in 0..conversions.div_ceil(100) {
            let r = client
                .get(format!("{}/{VERSION}/act_{}/customconversions?fields={FIELDS}&limit=100", running.base_url(), 1_000_000 + a))
                .bearer_auth("t")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await.unwrap();
        }
        println!(
            "memory: {} conversions inserted in {:.2} s; VmRSS before {before}, after {}; peak VmHWM {}",
            running.stats()["conversions"],
            inserted.as_secs_f64(),
            proc_status("VmRSS:"),
            proc_status("VmHWM:")
        );
        running.shutdown().await.unwrap();
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("memory") => memory(number(1, 50_000) as usize),
        Some("throughput") | None => {
            throughput(number(1, 5), number(2, 32) as usize, number(3, 25) as usize);
        }
        Some(other) => {
            eprintln!(
                "unknown mode `{other}`: use `throughput [SECONDS] [CONNECTIONS] [LIMIT]` or `memory [CONVERSIONS]`"
            );
            std::process::exit(1);
        }
    }
}
