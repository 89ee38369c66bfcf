//! The command line (spec section 3), parsed with clap. It only describes and parses: the
//! commands in `commands` wire parsed options to library operations.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "convctl",
    version = concat!(env!("CARGO_PKG_VERSION"), " (Graph API ", "v26.0", ")"),
    about = "Meta custom conversions as code: validate, plan, apply and watch for drift",
    propagate_version = true,
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Shown by `--help` and as the last section of the man page: what a pipeline branches on.
const AFTER_LONG_HELP: &str = "\
Exit codes:
  0  success: valid, tests pass, plan made, apply done, no drift
  1  error: bad input, API failure, refused plan, partial apply
  2  changes present (plan --detailed-exitcode, drift)

Environment:
  META_ACCESS_TOKEN    access token (unless --access-token-file)
  META_APP_SECRET      app secret: adds appsecret_proof to every call
  CONVCTL_API_BASE     Graph API base URL (--api-base)
  CONVCTL_API_VERSION  Graph API version (--api-version)";

#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Graph API base URL.
    #[arg(long, global = true, env = "CONVCTL_API_BASE", default_value = crate::DEFAULT_API_BASE)]
    pub api_base: String,
    /// Graph API version.
    #[arg(long, global = true, env = "CONVCTL_API_VERSION", default_value = crate::DEFAULT_API_VERSION)]
    pub api_version: String,
    /// File holding the access token (else the META_ACCESS_TOKEN environment variable).
    #[arg(long, global = true, value_name = "FILE")]
    pub access_token_file: Option<PathBuf>,
    /// Use the built-in emulator in-process, state in STATE_FILE; no token needed.
    #[arg(long, global = true, value_name = "STATE_FILE", num_args = 0..=1,
          default_missing_value = ".convctl/sandbox.json", require_equals = true)]
    pub sandbox: Option<PathBuf>,
    /// Requests in flight at once, across accounts.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallelism: u32,
    /// Writes, and accounts' first list pages, per batch request (1 = no batching; the API
    /// takes at most 50).
    #[arg(long, global = true, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub batch_size: u32,
    /// Only the accounts whose id hashes to share K of N (K in 1..=N).
    /// Checked at parse time (`crate::reconcile::shard::Shard::parse`), kept as text; commands turn it into
    /// a `Shard` with `Shard::from_option`.
    #[arg(long, global = true, value_name = "K/N", value_parser = check_shard)]
    pub shard: Option<String>,
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More detail on stderr (never secrets).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only results and errors; no progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Rejects a malformed `--shard` while parsing, so the message comes before any work.
fn check_shard(text: &str) -> Result<String, String> {
    crate::reconcile::shard::Shard::parse(text).map(|shard| shard.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Output of `validate` and `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// `::error file=...,line=...,col=...::message` workflow annotations.
    Github,
}

impl CheckFormat {
    /// How findings are written as lines in this format (JSON documents are built whole).
    pub fn line_style(self) -> crate::render::findings::LineStyle {
        match self {
            CheckFormat::Github => crate::render::findings::LineStyle::Github,
            CheckFormat::Text | CheckFormat::Json => crate::render::findings::LineStyle::Text,
        }
    }
}

/// Output of `plan` and `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: 0 valid, 1 invalid.
    Validate {
        #[arg(default_value = "conversions")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Run the manifests' rule tests offline: 0 all pass, 1 otherwise.
    Test {
        #[arg(default_value = "conversions")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        #[command(flatten)]
        live: LiveTestArgs,
    },
    /// Show what apply would change.
    Plan {
        #[arg(default_value = "conversions")]
        paths: Vec<PathBuf>,
        /// Only these accounts (repeatable).
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
        /// Save the plan document for `apply --plan`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Exit 2 when there are changes (0 none, 1 error).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Make the live accounts match the manifests.
    Apply {
        #[arg(default_value = "conversions")]
        paths: Vec<PathBuf>,
        /// Execute exactly this saved plan (refused when live state changed since).
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// Allow a plan that deletes or replaces more than 10 conversions and 30% of an account.
        #[arg(long)]
        allow_mass_delete: bool,
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
    },
    /// Compare live accounts with the manifests: 0 in sync, 2 drift, 1 error.
    Drift {
        #[arg(default_value = "conversions")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
    },
    /// Write manifests for live accounts, ids pinned (or as uses of a set, with --use).
    Import {
        #[arg(required = true, value_name = "ACT")]
        accounts: Vec<String>,
        #[arg(long, default_value = "conversions")]
        out: PathBuf,
        /// Write each account as a `use` of this set (parameters inferred from its live
        /// conversions), plus own entries for what the set does not cover.
        #[arg(long = "use", value_name = "SET")]
        use_set: Option<String>,
        /// The file or folder that holds the set (with --use).
        #[arg(long, value_name = "PATH", requires = "use_set")]
        from: Option<PathBuf>,
    },
    /// Run a local Graph API.
    Emulator(EmulatorArgs),
    /// Send Conversions API server events, to watch a conversion fire.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Print a shell completion script to stdout.
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into DIR.
    Man {
        /// Write convctl.1 and convctl-<command>.1 into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// `test --live`: also send the `match` examples as Conversions API test events.
#[derive(Debug, Clone, Default, Args)]
pub struct LiveTestArgs {
    /// After the offline tests pass, send each `match` example to its conversion's pixel.
    #[arg(long)]
    pub live: bool,
    /// Test Events code (Events Manager → Test Events); required with --live unless --sandbox.
    #[arg(long, value_name = "CODE", requires = "live")]
    pub test_event_code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Validate events offline, then send them to a pixel / dataset: 0 accepted, 1 refused.
    Send(EventsSendArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EventsSendArgs {
    /// The pixel / dataset id the events go to.
    #[arg(long, value_name = "ID")]
    pub pixel: String,
    /// A JSON array of events, or an object with a `data` array; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Show the events in Events Manager → Test Events under this code.
    #[arg(long, value_name = "CODE")]
    pub test_event_code: Option<String>,
    /// Validate offline only; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Shells `convctl completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Load state from FILE at start (when it exists) and save it there atomically.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Accepted tokens (repeatable); without any, every non-empty token is accepted.
    /// `T:act_1,act_2` accepts T for those accounts only (code 200 on others).
    #[arg(long = "token", value_name = "T[:ACCOUNTS]")]
    pub tokens: Vec<String>,
    /// Require appsecret_proof computed with this secret.
    #[arg(long, value_name = "S")]
    pub app_secret: Option<String>,
    /// Accounts that exist (repeatable); without any, every act_<digits> exists.
    #[arg(long = "account", value_name = "ACT")]
    pub accounts: Vec<String>,
    /// Custom conversions per account.
    #[arg(long, default_value_t = 100)]
    pub cap: usize,
    /// Added to every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of requests failing with a transient error before doing anything.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Fraction of writes committed and then answered with HTTP 500 or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    pub drop_after_commit: f64,
    /// At most N calls per account per minute, then code 80004.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Seed for repeatable faults.
    #[arg(long)]
    pub seed: Option<u64>,
    /// DELETE archives instead of removing.
    #[arg(long)]
    pub delete_archives: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_option_is_checked_by_clap() {
        let cli = Cli::try_parse_from(["convctl", "--shard", "2/3", "validate"]).unwrap();
        let shard =
            crate::reconcile::shard::Shard::from_option(cli.global.shard.as_deref()).unwrap();
        assert_eq!(
            shard,
            Some(crate::reconcile::shard::Shard::parse("2/3").unwrap())
        );
        let error = Cli::try_parse_from(["convctl", "plan", "--shard", "4/3"]).unwrap_err();
        assert!(
            error.to_string().contains("K must be between 1 and 3"),
            "{error}"
        );
        assert_eq!(
            crate::reconcile::shard::Shard::from_option(None).unwrap(),
            None
        );
    }
}
