//! Settings of the Graph API client: where the API is, which token, how many requests at once,
//! and how patient to be (the retry policy).
//!
//! Owns reading the token (from `--access-token-file` or `META_ACCESS_TOKEN`) and the app
//! secret (`META_APP_SECRET`) into [`Secret`]s. It never prints them and never puts them in an
//! error message; a missing token is an error that says how to provide one.

use super::error::GraphError;
use crate::cli::GlobalOptions;
use crate::secret::Secret;
use std::time::Duration;
use url::Url;

/// Everything the client needs to talk to the Graph API.
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// `https://graph.facebook.com`, or an emulator's address.
    pub api_base: String,
    /// `v26.0`.
    pub api_version: String,
    pub token: Secret,
    /// When set, every call carries `appsecret_proof` = hex HMAC-SHA256(token, key = secret).
    pub app_secret: Option<Secret>,
    /// Requests in flight at once, across all accounts.
    pub parallelism: usize,
    /// Requests in flight at once for one ad account (so that no account is hammered).
    pub per_account_parallelism: usize,
    /// Writes per batch request (at most 50; 1 = plain requests, no batching).
    pub batch_size: usize,
    /// Log every request (method, path, status, usage, retries) to stderr; never secrets.
    pub verbose: bool,
    pub retry: RetryPolicy,
}

/// How patient the client is. Every logical request (one page, one batch, one write) is tried
/// at most `max_attempts` times and for at most `max_total`, waiting between attempts a random
/// time in `[0, min(max_delay, base_delay * 2^attempt)]` ("full jitter"), or what the API's
/// usage headers ask when throttled, whichever is longer.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per logical request, the first included.
    pub max_attempts: u32,
    /// Of which at most this many may fail to connect at all (refused, unknown host): a wrong
    /// `--api-base` fails in seconds, not minutes.
    pub max_connect_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Time budget of a logical request, all waits included. A throttle that asks to wait
    /// beyond it fails at once with [`ErrorKind::Throttled`](super::ErrorKind::Throttled).
    pub max_total: Duration,
    /// Timeout of one HTTP exchange.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Above this usage (percent, from the usage headers) the client paces its calls.
    pub pacing_threshold_pct: f64,
    /// The pause before each call at 100% usage (scaled linearly from the threshold).
    pub pacing_max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_connect_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_total: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            pacing_threshold_pct: 75.0,
            pacing_max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests and local emulators: many quick attempts, short waits, bounded time.
    pub fn fast() -> Self {
        RetryPolicy {
            max_attempts: 30,
            max_connect_attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(40),
            max_total: Duration::from_secs(30),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            pacing_threshold_pct: 75.0,
            pacing_max_delay: Duration::from_millis(20),
        }
    }
}

impl GraphConfig {
    /// A configuration with default limits and policy for `api_base` and `token`.
    pub fn new(api_base: impl Into<String>, token: Secret) -> Self {
        GraphConfig {
            api_base: api_base.into(),
            api_version: crate::DEFAULT_API_VERSION.to_string(),
            token,
            app_secret: None,
            parallelism: 8,
            per_account_parallelism: default_per_account(8),
            batch_size: 50,
            verbose: false,
            retry: RetryPolicy::default(),
        }
    }

    /// From the global CLI options: `--api-base`/`CONVCTL_API_BASE`, `--api-version`, the token
    /// from `--access-token-file` or `META_ACCESS_TOKEN`, `META_APP_SECRET` for
    /// `appsecret_proof`. (`--sandbox` is the caller's business: it overrides base and token.)
    pub fn from_options(opts: &GlobalOptions) -> Result<GraphConfig, GraphError> {
        Self::from_options_with_env(opts, |name| std::env::var(name).ok())
    }

    /// [`from_options`](Self::from_options) with the environment given (for tests).
    pub fn from_options_with_env(
        opts: &GlobalOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GraphConfig, GraphError> {
        let token = match &opts.access_token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    GraphError::config(format!(
                        "cannot read the access token file {}: {e}; pass a readable file to --access-token-file",
                        path.display()
                    ))
                })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(GraphError::config(format!(
                        "the access token file {} is empty; put the token in it (a single line)",
                        path.display()
                    )));
                }
                Secret::new(token)
            }
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
            app_secret,
            parallelism,
            per_account_parallelism: default_per_account(parallelism),
            batch_size: (opts.batch_size as usize).clamp(1, 50),
            verbose: opts.verbose,
            retry: RetryPolicy::default(),
        };
        config.base_url()?;
        config.checked_version()?;
        Ok(config)
    }

    /// The base as a URL: http or https, no query, no fragment; a trailing `/` is added.
    pub(crate) fn base_url(&self) -> Result<Url, GraphError> {
        let bad = |why: &str| {
            GraphError::config(format!(
                "--api-base {:?} {why}; write an http(s) address such as {}",
                self.api_base,
                crate::DEFAULT_API_BASE
            ))
        };
        let mut url =
            Url::parse(self.api_base.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("is not an http(s) address"));
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(bad("must not carry a query, fragment or credentials"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }

    /// `vNN.N`.
    pub(crate) fn checked_version(&self) -> Result<&str, GraphError> {
        let v = self.api_version.trim();
        let ok = v
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major.bytes().all(|b| b.is_ascii_digit())
                    && minor.bytes().all(|b| b.is_ascii_digit())
            });
        if ok {
            Ok(v)
        } else {
            Err(GraphError::config(format!(
                "--api-version {:?} is not a Graph API version; write it like {}",
                self.api_version,
                crate::DEFAULT_API_VERSION
            )))
        }
    }
}

/// Half the global limit, between 1 and 4: enough to keep one account's batches flowing, never
/// the whole pool on one account.
fn default_per_account(parallelism: usize) -> usize {
    (parallelism / 2).clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
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
        let c = GraphConfig::from_options_with_env(
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
        let c = GraphConfig::from_options_with_env(
            &options(&["--access-token-file", path.to_str().unwrap()]),
            env(&[("META_ACCESS_TOKEN", "env-token")]),
        )
        .unwrap();
        assert_eq!(c.token.expose(), "file-token");
        std::fs::write(&path, "  \n").unwrap();
        let e = GraphConfig::from_options_with_env(
            &options(&["--access-token-file", path.to_str().unwrap()]),
            env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[test]
    fn missing_token_says_how_to_provide_one() {
        let e = GraphConfig::from_options_with_env(&options(&[]), env(&[])).unwrap_err();
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
        let e = GraphConfig::from_options_with_env(
            &options(&["--api-base", "ftp://x"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.unwrap_err().to_string().contains("--api-base"));
        let e = GraphConfig::from_options_with_env(
            &options(&["--api-base", "http://h/?access_token=x"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.is_err());
        let e = GraphConfig::from_options_with_env(
            &options(&["--api-version", "26"]),
            env(&[("META_ACCESS_TOKEN", "t")]),
        );
        assert!(e.unwrap_err().to_string().contains("v26.0"));
        let c = GraphConfig::new("http://127.0.0.1:9/prefix", Secret::new("t"));
        assert_eq!(c.base_url().unwrap().as_str(), "http://127.0.0.1:9/prefix/");
    }
}
