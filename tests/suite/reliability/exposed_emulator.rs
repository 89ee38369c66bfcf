//! The emulator as users expose it to their team with `--listen`: a token scoped to some
//! accounts reads no other account's conversions through `GET /?ids=` (code 200, as reading
//! the node alone answers), and a connection whose request head never comes is closed, so
//! that slow or idle clients cannot hold every connection and file descriptor.

use crate::support::{emulator, now};
use convctl::emulator::EmulatorConfig;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn ids_read_answers_code_200_outside_the_token_scope() {
    let rt = emulator::runtime();
    let emu = rt.block_on(emulator::start(EmulatorConfig {
        tokens: vec!["T1:act_1".into(), "ALL".into()],
        ..EmulatorConfig::default()
    }));
    let seed = |account: &str, name: &str| {
        emu.insert_conversion(convctl::emulator::SeedConversion {
            account: account.into(),
            name: name.into(),
            creation_time: Some(now()),
            ..Default::default()
        })
        .unwrap()
    };
    let mine = seed("act_1", "Mine");
    let theirs = seed("act_2", "Theirs");
    let http = reqwest::Client::new();
    let get = |token: &str, ids: &str| -> Value {
        rt.block_on(async {
            http.get(format!("{}/v26.0/?ids={ids}&fields=name", emu.base_url()))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let answer = get("T1", &mine);
    assert_eq!(answer[&mine]["name"], "Mine", "{answer}");
    for ids in [
        theirs.clone(),
        format!("{mine},{theirs}"),
        "act_2".to_string(),
    ] {
        let answer = get("T1", &ids);
        assert_eq!(answer["error"]["code"], 200, "{ids}: {answer}");
        assert!(!answer.to_string().contains("Theirs"), "{answer}");
    }
    // The node alone answers the same.
    let node: Value = rt.block_on(async {
        http.get(format!("{}/v26.0/{theirs}?fields=name", emu.base_url()))
            .bearer_auth("T1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(node["error"]["code"], 200, "{node}");
    // A token for every account reads both.
    let answer = get("ALL", &format!("{mine},{theirs}"));
    assert_eq!(answer[&theirs]["name"], "Theirs", "{answer}");
    assert_eq!(json!(answer[&mine]["name"]), json!("Mine"));
}

/// Reads until the server closes the connection; `false` when it is still open after 20 s.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // An answer (a 408, say) before closing is fine.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn stalled_connections_are_closed() {
    let rt = emulator::runtime();
    let emu = rt.block_on(emulator::start(EmulatorConfig {
        header_timeout: Duration::from_millis(500),
        max_connections: 2,
        ..EmulatorConfig::default()
    }));
    let addr = emu.addr();
    // Two connections take both slots: one sends half a request head, one nothing at all.
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET /v26.0/act_1/customconversions HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    // A third client is served once they are closed.
    let mut third = TcpStream::connect(addr).unwrap();
    third
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert!(
        closed_by_server(&mut half),
        "a half-sent head held its connection"
    );
    assert!(
        closed_by_server(&mut silent),
        "a silent connection was held"
    );
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = String::new();
    third.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("\"requests\""), "{answer}");
    rt.block_on(emu.shutdown()).unwrap();
}
