//! Bounded time: a server that never answers, or answers one byte a second,
//! makes a command fail within its `--timeout`, with exit 1 and a message naming the account and
//! the call still waiting; each exchange has a deadline for the whole exchange (not per read);
//! retries stop at the request's and the command's budget. Loopback stubs only, a few seconds.

use crate::assert_run;
use crate::support::{Convctl, Run};
use convctl::graph::{CommandBudget, GraphClient, GraphConfig, RetryPolicy};
use convctl::model::{AdAccountId, Secret};
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How a stub misbehaves.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Reads the request, then says nothing, connection open.
    Silent,
    /// Answers 200 with a long JSON body, one byte a second.
    Drip,
}

/// A loopback server on its own threads (one per connection); lives as long as the test.
fn stub(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, behaviour));
        }
    });
    base
}

fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    // Read the request head (the GETs under test have no body).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match std::io::Read::read(&mut stream, &mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    match behaviour {
        Behaviour::Silent => std::thread::sleep(Duration::from_secs(60)),
        Behaviour::Drip => {
            let body = format!("{{\"data\": [], \"pad\": \"{}\"}}", "x".repeat(10_000));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            for b in body.bytes() {
                if stream.write_all(&[b]).and_then(|_| stream.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn plan_against(base: &str, timeout: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: a}}\n",
    )
    .unwrap();
    Convctl::new()
        .args(&["--api-base", base, "--timeout", timeout, "plan"])
        .current_dir(dir.path())
        .token("time-test-token")
        .run()
}

/// A plan against the stub fails with the command's budget of 2 s, and not much later.
fn out_of_time(behaviour: Behaviour) -> Run {
    let run = plan_against(&stub(behaviour), "2s");
    // 2 s of budget; the rest is start-up and a loaded machine, never the server's pace.
    assert!(
        run.wall < Duration::from_secs(8),
        "took {:?}: {run}",
        run.wall
    );
    assert!(
        run.wall >= Duration::from_millis(1900),
        "gave up early ({:?}): {run}",
        run.wall
    );
    assert!(!run.stderr.contains("time-test-token"), "{run}");
    run
}

#[test]
fn a_silent_server_fails_a_plan_within_its_timeout() {
    assert_run!(out_of_time(Behaviour::Silent), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_1: cannot list custom conversions: the command's time budget (2s) ran out while waiting for the answer to GET /v27.0/act_1/customconversions
    error: no plan: fix the 1 problem(s) above
    ");
}

#[test]
fn a_server_that_drips_one_byte_a_second_fails_a_plan_within_its_timeout() {
    assert_run!(out_of_time(Behaviour::Drip), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_1: cannot list custom conversions: the command's time budget (2s) ran out while waiting for the answer to GET /v27.0/act_1/customconversions
    error: no plan: fix the 1 problem(s) above
    ");
}

fn client(base: &str, retry: RetryPolicy) -> GraphClient {
    let mut config = GraphConfig::new(base, Secret::new("time-test-token"));
    config.retry = retry;
    GraphClient::new(config).unwrap()
}

/// Without a command budget, each exchange still ends by `request_timeout` as a whole, though
/// the bytes keep coming; and retries end with the request's own budget.
#[tokio::test]
async fn each_exchange_has_a_deadline_for_the_whole_exchange() {
    let base = stub(Behaviour::Drip);
    let retry = RetryPolicy {
        max_attempts: 2,
        request_timeout: Duration::from_millis(1500),
        ..RetryPolicy::fast()
    };
    let started = Instant::now();
    let err = client(&base, retry)
        .list_conversions(&AdAccountId::parse("act_1").unwrap())
        .await
        .unwrap_err();
    let took = started.elapsed();
    insta::assert_snapshot!(err.to_string(), @"act_1: no complete answer to GET /v27.0/act_1/customconversions within 1s 500ms (the whole exchange, not per read) [after 2 attempts]");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The request's own budget ends retries, the attempt in flight included.
    let base = stub(Behaviour::Silent);
    let retry = RetryPolicy {
        max_attempts: 50,
        max_total: Duration::from_millis(1200),
        request_timeout: Duration::from_secs(30),
        ..RetryPolicy::fast()
    };
    let started = Instant::now();
    let err = client(&base, retry)
        .list_conversions(&AdAccountId::parse("act_1").unwrap())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{err}");
    insta::assert_snapshot!(err.to_string(), @"act_1: the request's time budget (1s 200ms, retries included) ran out while waiting for the answer to GET /v27.0/act_1/customconversions");
}

/// The command's budget is shared: once it is spent, nothing more is sent, and the budget knows
/// which calls were waiting while it ran.
#[tokio::test]
async fn a_spent_command_budget_sends_nothing_more_and_names_what_was_waiting() {
    let base = stub(Behaviour::Silent);
    let budget = CommandBudget::new(Duration::from_millis(800));
    let retry = RetryPolicy {
        budget: budget.clone(),
        ..RetryPolicy::fast()
    };
    let client = client(&base, retry);
    let watcher = {
        let budget = budget.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            budget.still_waiting()
        })
    };
    let err = client
        .list_conversions(&AdAccountId::parse("act_7").unwrap())
        .await
        .unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"act_7: the command's time budget (800ms) ran out while waiting for the answer to GET /v27.0/act_7/customconversions");
    assert_eq!(
        watcher.await.unwrap(),
        ["GET /v27.0/act_7/customconversions (act_7)"]
    );
    assert!(budget.still_waiting().is_empty(), "done waiting");
    let started = Instant::now();
    let err = client
        .list_conversions(&AdAccountId::parse("act_8").unwrap())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(200), "{err}");
    insta::assert_snapshot!(err.to_string(), @"act_8: the command's time budget (800ms) ran out before GET /v27.0/act_8/customconversions could be sent; it was not sent");
    // Restarted (after apply's prompt), it allows calls again.
    budget.restart();
    assert!(budget.deadline().unwrap() > tokio::time::Instant::now());
}
