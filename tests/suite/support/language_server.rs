//! A minimal Language Server Protocol client, to see manifests as an editor does: it starts a
//! language server on stdio (yaml-language-server), opens files, and collects the diagnostics
//! the server publishes for them. It answers the server's requests (`workspace/configuration`
//! with the settings given, anything else with `null`); every wait is bounded in time.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long the server may take to answer or to publish the diagnostics of every file.
const LIMIT: Duration = Duration::from_secs(60);

/// The diagnostics `server` (started with `--stdio`) publishes for each of `files`, with
/// `settings` as its workspace configuration (keyed by section, e.g. `{"yaml": {...}}`).
#[track_caller]
pub fn diagnostics(
    server: &Path,
    settings: Value,
    files: &[PathBuf],
) -> BTreeMap<PathBuf, Vec<Value>> {
    let mut session = Session::start(server, settings);
    session.request(
        "initialize",
        json!({"processId": std::process::id(), "rootUri": null,
               "capabilities": {"workspace": {"configuration": true}}}),
    );
    session.notify("initialized", json!({}));
    let settings = session.settings.clone();
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": settings}),
    );
    let mut waiting: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let file = file.canonicalize().unwrap();
        let uri = format!("file://{}", file.display());
        let text = std::fs::read_to_string(&file).unwrap();
        session.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        waiting.insert(uri, file);
    }
    let mut published = BTreeMap::new();
    while !waiting.is_empty() {
        let message = session.next();
        if message["method"] == "textDocument/publishDiagnostics"
            && let Some(file) = waiting.remove(message["params"]["uri"].as_str().unwrap_or(""))
        {
            let found = message["params"]["diagnostics"].as_array().cloned();
            published.insert(file, found.unwrap_or_default());
        }
    }
    published
}

struct Session {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    settings: Value,
    next_id: u64,
    deadline: Instant,
}

impl Session {
    fn start(server: &Path, settings: Value) -> Session {
        let mut child = Command::new(server)
            .arg("--stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", server.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = stdout;
            while let Some(message) = read_message(&mut stdout) {
                if send.send(message).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            stdin,
            messages,
            settings,
            next_id: 1,
            deadline: Instant::now() + LIMIT,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer (answering the server's requests meanwhile).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message["id"] == id && message.get("method").is_none() {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    /// The next message that is not a request of the server's (those are answered here).
    fn next(&mut self) -> Value {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let message = match self.messages.recv_timeout(left) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => panic!("the language server took over {LIMIT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the language server exited"),
            };
            let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) else {
                return message;
            };
            let result = match method {
                "workspace/configuration" => Value::Array(
                    message["params"]["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|item| self.settings[item["section"].as_str().unwrap_or("")].clone())
                        .collect(),
                ),
                _ => Value::Null,
            };
            let id = id.clone();
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Our own child, stopped by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message: `Content-Length` headers, a blank line, then that many bytes of JSON.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
