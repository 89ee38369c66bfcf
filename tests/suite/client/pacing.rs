//! The client paced by an account's ad-account score (`graph::score`) against the emulator at
//! the development tier: more writes than the score allows are spread over time, in batches
//! no larger than the score can take, each wait told, and the API never refuses one.

use crate::support::{TOKEN, client::*, emulator::start};
use convctl::emulator::EmulatorConfig;
use convctl::model::access_tier::AccessTier;
use convctl::model::{WriteOp, WriteOutcome};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 60 creates in one account (180 points, a score of 60 decaying in a second): every one is
/// created, none is refused (`throttled` 0), the batches hold at most 19 and are settled one by
/// one (progress moves with each), and the waits were told with the tier's limit.
#[tokio::test]
async fn writes_beyond_the_score_are_spread_and_never_refused() {
    let emu = start(EmulatorConfig {
        tier: AccessTier::Development,
        score_window: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    let (client, log) = client(config(&emu.base_url(), TOKEN));
    let told = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = told.clone();
    client.tell_waits_to(Arc::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_string());
    }));
    let acc = account(77);
    assert!(client.list_conversions(&acc).await.unwrap().is_empty());
    assert_eq!(
        client.pacing(&acc, 60).map(|p| p.tier),
        Some(AccessTier::Development)
    );
    let creates: Vec<WriteOp> = (0..60)
        .map(|i| WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion(&format!("c{i}"), i),
        })
        .collect();
    // Each write is counted done as its batch is answered, not when the account's last
    // paced batch is: the first is seen while most writes are still to be sent.
    let emu = Arc::new(emu);
    let seen_at: Arc<Mutex<Vec<u64>>> = Arc::default();
    let observer = {
        let (emu, seen_at) = (emu.clone(), seen_at.clone());
        Arc::new(move |_: &WriteOp, _: &_| {
            let sent = emu.stats()["writes"].as_u64().unwrap_or(0);
            seen_at.lock().unwrap().push(sent);
        })
    };
    let results = tokio::time::timeout(
        Duration::from_secs(30),
        client.write_observed(creates, observer),
    )
    .await
    .expect("bounded");
    let first_seen = seen_at.lock().unwrap()[0];
    assert!(
        first_seen <= 19,
        "writes sent when the first was counted: {first_seen}"
    );
    for r in &results {
        assert!(
            matches!(r, Ok(WriteOutcome::Created(_))),
            "{r:?}\n{}",
            log.text()
        );
    }
    let stats = emu.stats();
    assert_eq!(stats["throttled"], 0, "{stats}\n{}", log.text());
    assert_eq!(stats["writes"], 60);
    let text = log.text();
    assert!(
        !text.contains("batch of 20") && text.contains("batch of 19"),
        "{text}"
    );
    let told = told.lock().unwrap().clone();
    assert!(told.len() >= 2, "{told:?}");
    // Every wait is told the same way but for its length (when the batches went), once each.
    let length = regex::Regex::new(r"^(act_77: waiting )[0-9]+[a-z]+( [0-9]+[a-z]+)?").unwrap();
    let mut told: Vec<String> = told
        .iter()
        .map(|line| length.replace(line, "${1}[duration]").into_owned())
        .collect();
    told.dedup();
    insta::assert_snapshot!(told.join("\n"), @"act_77: waiting [duration] for Meta's ad-account limit, development access tier: about 20 writes per second");
    assert!(client.waits().score_waits >= 2);
    assert_eq!(client.waits().blocks, 0);
    let emu = Arc::into_inner(emu).expect("the observer is gone with the writes");
    emu.shutdown().await.unwrap();
}
