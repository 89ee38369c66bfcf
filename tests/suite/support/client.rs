//! The Graph API client as the library tests use it: a client with a tight retry policy whose
//! verbose lines are captured, and conversion builders.

use convctl::cli::args::SETTING_NAMES;
use convctl::graph::{GraphClient, GraphConfig, LogSink, RetryPolicy};
use convctl::model::NewConversion;
use convctl::model::Secret;
use convctl::model::event_types::CustomEventType;
use convctl::model::ids::{AdAccountId, ObjectId};
use std::sync::{Arc, Mutex};

/// Verbose lines the client wrote.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn sink(&self) -> LogSink {
        let lines = self.0.clone();
        Arc::new(move |line: &str| lines.lock().unwrap().push(line.to_string()))
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

/// A client's settings for `base`: the fast retry policy, verbose lines on, and the settings
/// named as the command line names them (messages read as a convctl user sees them).
pub fn config(base: &str, token: &str) -> GraphConfig {
    let mut config = GraphConfig::new(base, Secret::new(token));
    config.retry = RetryPolicy::fast();
    config.verbose = true;
    config.names = SETTING_NAMES;
    config
}

pub fn client(config: GraphConfig) -> (GraphClient, Captured) {
    let captured = Captured::default();
    let client = GraphClient::with_log_sink(config, captured.sink()).unwrap();
    (client, captured)
}

pub fn account(n: u64) -> AdAccountId {
    AdAccountId::parse(&n.to_string()).unwrap()
}

pub fn new_conversion(name: &str, threshold: u32) -> NewConversion {
    NewConversion {
        name: name.to_string(),
        description: format!("{name} described"),
        rule: Some(format!(
            r#"{{"and":[{{"event":{{"eq":"Purchase"}}}},{{"value":{{"gt":{threshold}}}}}]}}"#
        )),
        advanced_rule: None,
        custom_event_type: Some(CustomEventType::Purchase),
        event_source_id: Some(ObjectId::parse("5550001").unwrap()),
        action_source_type: None,
        default_conversion_value: 12.0,
    }
}
