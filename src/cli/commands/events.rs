//! `convctl events send` and the live half of `convctl test --live`: Conversions API server
//! events, checked offline first (the Conversions API's rules, `crate::events`, the same code
//! the emulator answers with), then sent with the Graph client (token in the header, never in a URL).
//!
//! Nothing is sent when any event of a request is invalid: the API would reject the whole
//! request anyway, and saying so before the network names the event and the fix. A request
//! that may have reached the API is never resent blindly (identical server events are counted
//! twice); the error says so.

use crate::cli::args::{CheckFormat, EventsSendArgs, GlobalOptions, LiveTestArgs};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::steps::with_session;
use crate::events;
use crate::graph::EventsReceipt;
use crate::model::ids::ObjectId;
use crate::reconcile::test_events::{self, LiveEvent};
use crate::render::findings::plural;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `convctl events send`.
pub(crate) fn send(global: &GlobalOptions, args: &EventsSendArgs) -> Outcome {
    let pixel = ObjectId::parse(&args.pixel).map_err(|e| Failure::new(format!("--pixel: {e}")))?;
    let items = read_events(&args.file).map_err(Failure::new)?;
    if let Err(e) = events::validate_batch(&items, now()) {
        return Err(Failure::new(format!(
            "{}: {e}; nothing was sent",
            display_path(&args.file)
        )));
    }
    if args.dry_run {
        println!(
            "{} valid for pixel {pixel}; nothing sent (--dry-run)",
            plural(items.len(), "event")
        );
        return Ok(exit::SUCCESS);
    }
    if args.test_event_code.is_none() {
        eprintln!(
            "warning: no --test-event-code: these events are processed as real events, not only shown in Test Events"
        );
    }
    with_session(global, async |session| {
        let receipt = session
            .client()
            .send_events(&pixel, &items, args.test_event_code.as_deref())
            .await
            .map_err(|e| Failure::new(format!("sending events to pixel {pixel}: {e}")))?;
        println!(
            "{}",
            describe(&pixel, &receipt, args.test_event_code.as_deref())
        );
        Ok(exit::SUCCESS)
    })
}

/// `convctl test --live`, after the offline tests passed: sends every `match` example.
/// With `--format json` the report goes to stderr, so stdout stays one JSON document.
pub(crate) fn test_live(
    global: &GlobalOptions,
    paths: &[PathBuf],
    format: CheckFormat,
    args: &LiveTestArgs,
) -> Outcome {
    let report = move |line: &str| {
        if format == CheckFormat::Json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    if args.test_event_code.is_none() && global.sandbox.is_none() {
        return Err(Failure::new(
            "--live needs --test-event-code CODE (Events Manager → Test Events shows it): \
             without a code the test events would count as real conversions",
        ));
    }
    let manifests = crate::manifest::load(paths)
        .map_err(|_| Failure::new("the manifests are invalid: run `convctl validate`"))?;
    let (events, skipped) = test_events::build(&manifests, global.shard, now());
    let mut failed: Vec<String> = skipped
        .iter()
        .map(|s| {
            format!(
                "error: {} \"{}\": cannot be tested live: {}",
                s.account, s.conversion, s.reason
            )
        })
        .collect();
    if events.is_empty() {
        report(
            "live: no rule test to send (no conversion with `tests.match` examples and a pixel)",
        );
        return match failed.is_empty() {
            true => Ok(exit::SUCCESS),
            false => Err(Failure::with_details(
                failed,
                "some rule tests cannot be tested live",
            )),
        };
    }
    let requests = requests_by_pixel(events);
    for (pixel, chunk) in &requests {
        let payloads: Vec<Value> = chunk.iter().map(|e| e.payload.clone()).collect();
        if let Err(e) = events::validate_batch(&payloads, now()) {
            return Err(Failure::with_details(
                failed,
                format!("the test events for pixel {pixel} are invalid: {e}; nothing was sent"),
            ));
        }
    }
    let code = args.test_event_code.clone();
    let send_failures = with_session(global, async |session| {
        let mut send_failures = Vec::new();
        for (pixel, chunk) in &requests {
            let payloads: Vec<Value> = chunk.iter().map(|e| e.payload.clone()).collect();
            match session
                .client()
                .send_events(pixel, &payloads, code.as_deref())
                .await
            {
                Ok(receipt) => {
                    for event in chunk {
                        report(&format!(
                            "sent  {} \"{}\" match[{}] → pixel {pixel}",
                            event.account, event.conversion, event.index
                        ));
                    }
                    report(&describe(pixel, &receipt, code.as_deref()));
                }
                Err(e) => {
                    send_failures.push(format!("error: sending test events to pixel {pixel}: {e}"));
                }
            }
        }
        Ok(send_failures)
    });
    failed.extend(send_failures?);
    match failed.is_empty() {
        true => Ok(exit::SUCCESS),
        false => Err(Failure::with_details(
            failed,
            "not every rule test was sent",
        )),
    }
}

/// Groups events by pixel, in requests of at most `events::MAX_EVENTS`.
fn requests_by_pixel(events: Vec<LiveEvent>) -> Vec<(ObjectId, Vec<LiveEvent>)> {
    let mut by_pixel: BTreeMap<ObjectId, Vec<LiveEvent>> = BTreeMap::new();
    for event in events {
        by_pixel.entry(event.pixel.clone()).or_default().push(event);
    }
    let mut requests = Vec::new();
    for (pixel, events) in by_pixel {
        for chunk in events.chunks(events::MAX_EVENTS) {
            requests.push((pixel.clone(), chunk.to_vec()));
        }
    }
    requests
}

/// An events file larger than this is refused: 1,000 events (the most one request takes) are
/// a few MB.
const MAX_EVENTS_FILE_BYTES: u64 = 32 << 20;

/// Reads a JSON array of events, or an object with a `data` array (items may be JSON strings,
/// as the Python SDK sends them). `-` is stdin.
fn read_events(path: &Path) -> Result<Vec<Value>, String> {
    use crate::file_io::{InputError, LimitedRead, describe_bytes, read_input, read_limited};
    let name = display_path(path);
    // Bounded by what is read (stdin reports no size); a file must be a regular one, stdin
    // (`-`) is read as it comes, within --timeout.
    let bytes = if path.as_os_str() == "-" {
        read_limited(std::io::stdin().lock(), MAX_EVENTS_FILE_BYTES, true)
    } else {
        match read_input(path, MAX_EVENTS_FILE_BYTES, true) {
            Ok(bytes) => Ok(bytes),
            Err(InputError::Read(LimitedRead::Io(e))) => {
                return Err(format!("{name}: cannot read: {e}"));
            }
            Err(e @ InputError::NotRegular(_)) => {
                return Err(format!("{name}: {e}, or pass `--file -` to read stdin"));
            }
            Err(InputError::Read(e)) => Err(e),
        }
    }
    .map_err(|e| {
        format!(
            "{name}: {e}; events are a JSON text of at most {} ({} events per request)",
            describe_bytes(MAX_EVENTS_FILE_BYTES),
            events::MAX_EVENTS
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{name}:{}:{}: not JSON: {e}; write a JSON array of events, or {{\"data\": [...]}}",
            e.line(),
            e.column()
        )
    })?;
    let data = match value {
        Value::Array(_) => value,
        Value::Object(mut map) => match map.remove("data") {
            Some(data @ Value::Array(_)) => data,
            _ => {
                return Err(format!(
                    "{name}: an object must have a `data` array of events (the Conversions API request shape)"
                ));
            }
        },
        _ => {
            return Err(format!(
                "{name}: write a JSON array of events, or {{\"data\": [...]}}"
            ));
        }
    };
    events::parse_data(&data.to_string()).map_err(|e| format!("{name}: {e}"))
}

fn describe(pixel: &ObjectId, receipt: &EventsReceipt, code: Option<&str>) -> String {
    let mut line = format!(
        "pixel {pixel}: {} received",
        plural(receipt.events_received as usize, "event")
    );
    if let Some(code) = code {
        line.push_str(&format!(
            " (test event code {code}: see Events Manager → Test Events)"
        ));
    }
    if let Some(trace) = &receipt.fbtrace_id {
        line.push_str(&format!("; fbtrace_id {trace}"));
    }
    for message in &receipt.messages {
        line.push_str(&format!("\n  message: {message}"));
    }
    line
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn display_path(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}
