//! How a command reaches live state: [`Session`], which builds the Graph API client from the global options and, for
//! `--sandbox[=FILE]`, starts the in-process emulator with that state file (a dummy token, no
//! Meta account needed) and shuts it down at the end, saving its state.
//!
//! It never decides what to change, and never prints or stores the token.

use crate::cli::args::{GlobalOptions, SETTING_NAMES};
use crate::emulator::{EmulatorConfig, RunningEmulator};
use crate::graph::GraphError;
use crate::graph::{CommandBudget, GraphClient, GraphConfig, Halt, RetryPolicy};
use crate::model::Secret;
use crate::model::{AdAccountId, LiveConversion, WriteOp, WriteOutcome};
use crate::reconcile::{LiveApi, Progress};
use jiff::civil::Date;
use std::collections::HashMap;
use std::path::Path;

/// A command's connection to live state: the client, and the in-process emulator behind it
/// when `--sandbox` was given. Call [`Session::finish`] at the end (it saves sandbox state).
pub(crate) struct Session {
    client: GraphClient,
    sandbox: Option<RunningEmulator>,
    budget: CommandBudget,
    halt: Halt,
    /// What the version calendar says about the API version in use, when it expires within
    /// 60 days (or has): said once on stderr, and carried in the plan document.
    version_notice: Option<String>,
}

impl Session {
    /// [`start`](Self::start), with accounts' own tokens (`token_env`, see
    /// [`account_tokens`]); `--sandbox` ignores them.
    pub(crate) async fn start_with(
        global: &GlobalOptions,
        tokens: AccountTokens,
    ) -> Result<Session, String> {
        // The budget started with the command (`--timeout 0`: none): reading its inputs and
        // waiting for a sandbox another command holds count too.
        let budget = match global.timeout.is_zero() {
            true => CommandBudget::unlimited(),
            false => CommandBudget::started_at(global.timeout, global.clock.started()),
        };
        let today = crate::cli::calendar::today()?;
        let version_notice = crate::cli::calendar::version_notice(&global.api_version, today);
        let (config, sandbox) = match &global.sandbox {
            None => {
                let fallback = tokens.fallback.clone();
                let mut config = graph_config_with_env(global, |name| match name {
                    // Every account has a token of its own: no global one is needed.
                    "META_ACCESS_TOKEN" => std::env::var(name)
                        .ok()
                        .filter(|t| !t.trim().is_empty())
                        .or_else(|| fallback.as_ref().map(|s| s.expose().to_string())),
                    _ => std::env::var(name).ok(),
                })
                .map_err(|e| e.to_string())?;
                config.account_tokens = tokens.tokens;
                // The inputs are read (the token file last): the budget bounds the rest.
                global.clock.hand_over();
                (config, None)
            }
            Some(state) => {
                // No token to read; waiting for the state is bounded by the budget itself.
                global.clock.hand_over();
                let emulator = start_sandbox(state, &budget, today).await?;
                let mut config = GraphConfig::new(emulator.base_url(), Secret::new("sandbox"));
                config.api_version = global.api_version.clone();
                config.names = SETTING_NAMES;
                (config, Some(emulator))
            }
        };
        let halt = Halt::default();
        let config = GraphConfig {
            retry: RetryPolicy {
                budget: budget.clone(),
                halt: halt.clone(),
                ..config.retry
            },
            parallelism: global.parallelism as usize,
            per_account_parallelism: config
                .per_account_parallelism
                .min(global.parallelism as usize)
                .max(1),
            batch_size: global.batch_size as usize,
            verbose: global.verbose,
            ..config
        };
        let client = GraphClient::new(config).map_err(|e| e.to_string())?;
        if !global.quiet {
            // Waits for Meta's ad-account limit are told as they start (not only with
            // --verbose): an apply at the development tier waits minutes at a time.
            client.tell_waits_to(std::sync::Arc::new(crate::cli::output::stderr_line));
        }
        if let Some(path) = &global.trace {
            client.trace_to(path).map_err(|e| e.to_string())?;
        }
        Ok(Session {
            client,
            sandbox,
            budget,
            halt,
            version_notice,
        })
    }

    /// What the version calendar says about the API version in use (see the field).
    pub(crate) fn version_notice(&self) -> Option<&str> {
        self.version_notice.as_deref()
    }

    pub(crate) fn client(&self) -> &GraphClient {
        &self.client
    }

    /// The command's time budget (`--timeout`), shared by every request of the client.
    pub(crate) fn budget(&self) -> &CommandBudget {
        &self.budget
    }

    /// The client's halt switch: pulled, nothing more is sent (see `cli::interrupt`).
    pub(crate) fn halt(&self) -> &Halt {
        &self.halt
    }

    /// Stops the sandbox emulator, saving its state; nothing to do against a real API.
    pub(crate) async fn finish(self) -> Result<(), String> {
        match self.sandbox {
            Some(emulator) => emulator
                .shutdown()
                .await
                .map_err(|e| format!("the sandbox could not save its state: {e:#}")),
            None => Ok(()),
        }
    }
}

async fn start_sandbox(
    state: &Path,
    budget: &CommandBudget,
    today: Date,
) -> Result<RunningEmulator, String> {
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the sandbox directory {}: {e}", dir.display()))?;
    }
    // CONVCTL_SANDBOX_STRICT=1: the strict profile (the less convenient reading wherever the
    // real API's behaviour is uncertain), to try a run as the real API might answer it;
    // CONVCTL_SANDBOX_REFUSE_DELETES=1 and CONVCTL_SANDBOX_UNIQUE_RULES=1: the emulator's
    // --refuse-deletes and --unique-rules, as most apps meet the real API.
    let on = |name: &str| std::env::var(name).is_ok_and(|v| v.trim() == "1");
    let config = EmulatorConfig {
        state_file: Some(state.to_path_buf()),
        strict: on("CONVCTL_SANDBOX_STRICT"),
        refuse_deletes: on("CONVCTL_SANDBOX_REFUSE_DELETES"),
        unique_rules: on("CONVCTL_SANDBOX_UNIQUE_RULES"),
        // Another command on the same state is waited for, within this command's budget.
        state_lock_wait: budget
            .left()
            .map_or(crate::emulator::STATE_LOCK_WAIT, |left| {
                left.min(crate::emulator::STATE_LOCK_WAIT)
            }),
        today: Some(today),
        ..EmulatorConfig::default()
    };
    let listen = "127.0.0.1:0".parse().expect("a valid loopback address");
    crate::emulator::start(config, listen).await.map_err(|e| {
        format!(
            "cannot start the sandbox (state {}): {e:#}",
            state.display()
        )
    })
}

impl LiveApi for Session {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        LiveApi::list_many(&self.client, accounts).await
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>> {
        LiveApi::write(&self.client, ops, on_done).await
    }

    fn halted(&self) -> bool {
        self.client.is_halted()
    }

    fn pauses_source(&self) -> crate::reconcile::PauseSource {
        LiveApi::pauses_source(&self.client)
    }
}

impl crate::reconcile::report::StatsApi for Session {
    async fn daily_counts(
        &self,
        targets: &[crate::graph::StatsTarget],
        window: crate::model::stats::StatsWindow,
    ) -> Vec<Result<crate::model::stats::DailyCounts, GraphError>> {
        self.client.daily_counts(targets, window).await
    }
}

/// Accounts' own tokens, read from the variables their manifests name (`token_env`).
#[derive(Default)]
pub(crate) struct AccountTokens {
    pub(crate) tokens: HashMap<AdAccountId, Secret>,
    /// When every account has its own token: one of them stands in for the global token
    /// (which then carries no call about any other account).
    fallback: Option<Secret>,
}

/// Reads the token of every account that names a `token_env`, before any call: a variable
/// that is not set (or empty) is an error naming the account and the variable. `--sandbox`
/// ignores `token_env` (its emulator takes any token).
pub(crate) fn account_tokens<'a>(
    global: &GlobalOptions,
    accounts: impl IntoIterator<Item = (&'a AdAccountId, Option<&'a str>)>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<AccountTokens, String> {
    let mut out = AccountTokens::default();
    if global.sandbox.is_some() {
        return Ok(out);
    }
    let mut all_own = true;
    let mut problems = Vec::new();
    for (account, var) in accounts {
        let Some(var) = var else {
            all_own = false;
            continue;
        };
        match env(var).map(|t| t.trim().to_string()) {
            Some(t) if !t.is_empty() => {
                out.tokens.insert(account.clone(), Secret::new(t));
            }
            _ => problems.push(format!(
                "{account}: its manifest says `token_env: {var}`, but the environment variable {var} is not set (or empty); set it to the token for {account}, or remove `token_env` to use the global token"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "{}; nothing was called",
            problems.join("\nerror: ")
        ));
    }
    if all_own && global.access_token_file.is_none() {
        out.fallback = out.tokens.values().next().cloned();
    }
    Ok(out)
}

/// Token files larger than this are refused: a token is a few hundred characters, so a file
/// this big is the wrong file (or `/dev/zero`), never a token.
const MAX_TOKEN_FILE_BYTES: u64 = 8 << 10;

/// Reads `--access-token-file`: a regular file of at most [`MAX_TOKEN_FILE_BYTES`], UTF-8
/// (a byte-order mark, as Windows editors save, is dropped), the token on its own line. Errors
/// name the file and never show its content.
fn read_token_file(path: &Path) -> Result<Secret, GraphError> {
    use crate::file_io::{InputError, LimitedRead, describe_bytes, read_input};
    let refuse = |why: String| {
        GraphError::config(format!(
            "cannot use the access token file {}: {why}; pass --access-token-file a file holding only the token",
            path.display()
        ))
    };
    let bytes = read_input(path, MAX_TOKEN_FILE_BYTES, true).map_err(|e| match e {
        InputError::Read(LimitedRead::TooLarge { .. }) => refuse(format!(
            "it is larger than {}, and a token is a few hundred characters",
            describe_bytes(MAX_TOKEN_FILE_BYTES)
        )),
        InputError::Read(LimitedRead::Nul { .. }) => {
            refuse("it contains a NUL byte, so it is not a text file".into())
        }
        e => refuse(e.to_string()),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "it is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let token = text.strip_prefix('\u{feff}').unwrap_or(&text).trim();
    if token.is_empty() {
        return Err(GraphError::config(format!(
            "the access token file {} is empty; put the token in it (a single line)",
            path.display()
        )));
    }
    Ok(Secret::new(token))
}

/// [`graph_config`] with the environment given (for tests).
pub(crate) fn graph_config_with_env(
    opts: &GlobalOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<GraphConfig, GraphError> {
    let token = match &opts.access_token_file {
        Some(path) => read_token_file(path)?,
        None => match env("META_ACCESS_TOKEN").map(|t| t.trim().to_string()) {
            Some(t) if !t.is_empty() => Secret::new(t),
            _ => {
                return Err(GraphError::config(
                    "no access token: pass --access-token-file FILE or set META_ACCESS_TOKEN \
                     (a token with ads_management on the accounts), or try convctl without one \
                     against the built-in emulator with --sandbox",
                ));
            }
        },
    };
    let app_secret = env("META_APP_SECRET")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let parallelism = (opts.parallelism as usize).max(1);
    let config = GraphConfig {
        api_base: opts.api_base.clone(),
        api_version: opts.api_version.clone(),
        token,
        account_tokens: HashMap::new(),
        app_secret,
        parallelism,
        per_account_parallelism: crate::graph::default_per_account(parallelism),
        batch_size: (opts.batch_size as usize).clamp(1, 50),
        verbose: opts.verbose,
        retry: RetryPolicy::default(),
        names: SETTING_NAMES,
    };
    config.base_url()?;
    config.checked_version()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use crate::model::Secret;
    use clap::Parser;

    fn options(args: &[&str]) -> GlobalOptions {
        let mut all = vec!["convctl"];
        all.extend_from_slice(args);
        all.push("validate");
        Cli::try_parse_from(all).unwrap().global
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn token_from_env_and_app_secret() {
        let c = graph_config_with_env(
            &options(&["--parallelism", "6", "--batch-size", "7"]),
            env(&[("META_ACCESS_TOKEN", " tok \n"), ("META_APP_SECRET", "sec")]),
        )
        .unwrap();
        assert_eq!(c.token.expose(), "tok");
        assert_eq!(c.app_secret.as_ref().map(Secret::expose), Some("sec"));
        assert_eq!(
            (c.parallelism, c.per_account_parallelism, c.batch_size),
            (6, 3, 7)
        );
        assert!(
            !format!("{c:?}").contains("tok\""),
            "Debug must not show the token"
        );
    }

    #[test]
    fn token_file_wins_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "file-token\n").unwrap();
        let c = graph_config_with_env(
            &options(&["--access-token-file", path.to_str().unwrap()]),
            env(&[("META_ACCESS_TOKEN", "env-token")]),
        )
        .unwrap();
        assert_eq!(c.token.expose(), "file-token");
        std::fs::write(&path, "  \n").unwrap();
        let e = graph_config_with_env(
            &options(&["--access-token-file", path.to_str().unwrap()]),
            env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[test]
    fn missing_token_says_how_to_provide_one() {
        let e = graph_config_with_env(&options(&[]), env(&[])).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("--access-token-file")
                && text.contains("META_ACCESS_TOKEN")
                && text.contains("--sandbox"),
            "{text}"
        );
    }

    #[test]
    fn bad_base_and_version_are_refused() {
        let e = graph_config_with_env(
            &options(&["--api-base", "ftp://x"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.unwrap_err().to_string().contains("--api-base"));
        let e = graph_config_with_env(
            &options(&["--api-base", "http://h/?access_token=x"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.is_err());
        let e = graph_config_with_env(
            &options(&["--api-version", "26"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.unwrap_err().to_string().contains("v27.0"));
        let c = GraphConfig::new("http://127.0.0.1:9/prefix", Secret::new("t"));
        assert_eq!(c.base_url().unwrap().as_str(), "http://127.0.0.1:9/prefix/");
    }
}
