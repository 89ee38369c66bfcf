//! The command line (docs/cli.md), parsed with clap. It only describes and parses: the
//! commands in `commands` wire parsed options to library operations.

use crate::graph::SettingNames;
use crate::reconcile::shard::Shard;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "convctl",
    version = concat!(env!("CARGO_PKG_VERSION"), " (Graph API ", default_api_version!(), ")"),
    about = "Meta custom conversions as code: validate, plan, apply and watch for drift",
    long_about = "Meta custom conversions as code: validate, plan, apply and watch for drift.\n\n\
The custom conversions of your ad accounts are kept in YAML manifests, one document per ad \
account. `validate` and `test` check the manifests offline; `plan` shows what `apply` would \
change in the live accounts, and `apply` makes them match; `drift` reports where the accounts \
moved away from the manifests; `import` writes manifests for conversions that already exist.",
    propagate_version = true,
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Commands that take none of the global options: they print a document and never talk to
/// the API, colour nothing and report no progress. Their help, man page and completions do not
/// offer the global options, and giving one is an error.
const WITHOUT_GLOBAL_OPTIONS: &[&str] = &["completions", "man"];

/// The command-line definition as users see it (help, man pages, completions): [`Cli`] with
/// the global options as options of each command they apply to, and not of the others. (Parsing
/// uses [`Cli`] itself, whose global options may stand before or after the command.)
pub(crate) fn command() -> clap::Command {
    let globals: Vec<clap::Arg> = Cli::command()
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().global(false).help_heading("Global options"))
        .collect();
    fn give(sub: clap::Command, globals: &[clap::Arg]) -> clap::Command {
        if WITHOUT_GLOBAL_OPTIONS.contains(&sub.get_name()) {
            return sub;
        }
        sub.args(globals.iter().cloned())
            .mut_subcommands(|nested| give(nested, globals))
    }
    Cli::command()
        .mut_args(|a| {
            if a.is_global_set() {
                a.global(false)
            } else {
                a
            }
        })
        .mut_subcommands(|sub| give(sub, &globals))
}

/// Parses the process's arguments; a global option given to a command it does not apply to is
/// a usage error, and help is shown as [`command`] has it.
pub fn try_parse() -> Result<Cli, clap::Error> {
    try_parse_from(std::env::args_os())
}

/// [`try_parse`] over given arguments (the first is the program name).
pub(crate) fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = Cli::command();
    let matches = match cmd.try_get_matches_from_mut(args.iter()) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            return Err(command().try_get_matches_from(args).err().unwrap_or(e));
        }
        Err(e) => return Err(e),
    };
    if let Some((name, sub)) = matches.subcommand()
        && WITHOUT_GLOBAL_OPTIONS.contains(&name)
    {
        let globals: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| a.is_global_set())
            .cloned()
            .collect();
        for arg in &globals {
            let id = arg.get_id().as_str();
            let given = [&matches, sub]
                .iter()
                .any(|m| m.value_source(id) == Some(ValueSource::CommandLine));
            if given {
                let option = arg.get_long().unwrap_or(id);
                return Err(cmd.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("--{option} does not apply to `convctl {name}`"),
                ));
            }
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
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
  CONVCTL_API_VERSION  Graph API version (--api-version)
  CONVCTL_TODAY        the day the API version calendar is judged by (YYYY-MM-DD; for tests)";

#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalOptions {
    /// Address of the Graph API (a local emulator's, for tests).
    #[arg(long, global = true, value_name = "URL", env = "CONVCTL_API_BASE", default_value = crate::DEFAULT_API_BASE)]
    pub(crate) api_base: String,
    /// Graph API version to call, e.g. v27.0 (convctl warns when it expires within 60 days).
    #[arg(long, global = true, value_name = "VERSION", env = "CONVCTL_API_VERSION", default_value = crate::DEFAULT_API_VERSION)]
    pub(crate) api_version: String,
    /// Read the access token from FILE instead of the META_ACCESS_TOKEN environment variable
    /// (a regular file of at most 8 KiB; a pipe or a device is refused).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) access_token_file: Option<PathBuf>,
    /// Work against a built-in emulator instead of Meta, keeping its state in STATE_FILE
    /// (default .convctl/sandbox.json); no token needed. For trying convctl out safely. The
    /// state is locked for the command: another command on it waits up to 10 s, then is refused.
    #[arg(long, global = true, value_name = "STATE_FILE", num_args = 0..=1,
          default_missing_value = ".convctl/sandbox.json", require_equals = true)]
    pub(crate) sandbox: Option<PathBuf>,
    /// At most N requests to the API at once, across all accounts.
    #[arg(long, global = true, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) parallelism: u32,
    /// Requests sent together in one batch call (1 to 50; 1 sends each on its own).
    #[arg(long, global = true, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(crate) batch_size: u32,
    /// Work on share K of N of the accounts (for N parallel CI jobs, K from 1 to N). Every
    /// account falls in exactly one share, always the same one.
    #[arg(long, global = true, value_name = "K/N", value_parser = Shard::parse)]
    pub(crate) shard: Option<Shard>,
    /// Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Say more on stderr about what is done (never a secret).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Print only results and errors: no progress, no warnings.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Write every HTTP exchange with the Graph API to FILE, one JSON line each, secrets
    /// redacted (attach it to a bug report).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) trace: Option<PathBuf>,
    /// The whole command's time budget, every request, retry and wait included (`90s`, `10m`,
    /// `1h30m`; `0` = no limit), reading the inputs included. When it runs out the command
    /// stops with exit 1 and says which account and call were still waiting.
    #[arg(long, global = true, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout)]
    pub(crate) timeout: std::time::Duration,
    /// When the command started (not an option): `--timeout` counts from then.
    #[arg(skip)]
    pub(crate) clock: crate::cli::clock::CommandClock,
}

/// The global options as the Graph API client's messages name them (`cli::session` gives them
/// to the client): an error asks for the flag that fixes it.
pub const SETTING_NAMES: SettingNames = SettingNames {
    api_base: "--api-base",
    api_version: "--api-version",
    access_token: "--access-token-file or META_ACCESS_TOKEN",
    parallelism: "--parallelism",
    trace_file: "--trace",
    app_secret: "META_APP_SECRET",
};

/// `--timeout`: a duration as `crate::model::duration` reads it (`90s`, `10m`, `1h30m`, `2d`,
/// ISO 8601 `PT10M`); `0` is no limit.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    crate::model::duration::parse_duration(text).map_err(|e| format!("{e} (0 for no limit)"))
}

/// `--test-event-code`: a code that is blank is refused, never taken as "no code". An unset
/// CI variable (`--test-event-code "$TEST_EVENT_CODE"`) gives an empty code, and events sent
/// without a code count as real conversions: the guard that keeps test events out of
/// conversion data must not be passed by accident.
fn parse_test_event_code(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err(
            "the code is blank (an unset variable?): give the code Events Manager → Test Events shows; \
             events sent without one count as real conversions"
                .to_string(),
        ),
        code => Ok(code.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

/// Output of `validate` and `test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For people at a terminal.
    Text,
    /// One document, for scripts.
    Json,
    /// GitHub Actions annotations on the offending lines.
    Github,
}

impl CheckFormat {
    /// How findings are written as lines in this format (JSON documents are built whole).
    pub(crate) fn line_style(self) -> crate::render::findings::LineStyle {
        match self {
            CheckFormat::Github => crate::render::findings::LineStyle::Github,
            CheckFormat::Text | CheckFormat::Json => crate::render::findings::LineStyle::Text,
        }
    }
}

/// Output of `plan` and `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For people at a terminal.
    Text,
    /// The plan document, for scripts (the same as `--out` saves).
    Json,
    /// For a pull-request comment, an issue or a CI summary.
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: 0 valid, 1 invalid.
    Validate {
        /// Manifest files or directories (searched for *.yaml and *.yml).
        #[arg(default_value = "conversions", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// How findings are written.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Run the manifests' rule tests offline: 0 all pass, 1 otherwise.
    Test {
        /// Manifest files or directories (searched for *.yaml and *.yml).
        #[arg(default_value = "conversions", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// How results are written.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        #[command(flatten)]
        live: LiveTestArgs,
    },
    /// Show what apply would change.
    Plan {
        /// Manifest files or directories (searched for *.yaml and *.yml).
        #[arg(default_value = "conversions", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Only these accounts (repeatable).
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
        /// Also save the plan to FILE, for `convctl apply --plan FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// How the plan is shown.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Exit 2 when there are changes (0 none, 1 error).
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Make the live accounts match the manifests.
    Apply {
        /// Manifest files or directories (searched for *.yaml and *.yml).
        #[arg(default_value = "conversions", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Do exactly what this saved plan says (refused if the accounts changed since, or the
        /// plan was edited); --account and --shard apply only their accounts of it.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (needed when there is no terminal to ask on).
        #[arg(long)]
        auto_approve: bool,
        /// Allow a plan that deletes or replaces more than 10 conversions and 30% of an account.
        #[arg(long)]
        allow_mass_delete: bool,
        /// Only these accounts (repeatable).
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
    },
    /// Compare live accounts with the manifests: 0 in sync, 2 drift, 1 error.
    Drift {
        /// Manifest files or directories (searched for *.yaml and *.yml).
        #[arg(default_value = "conversions", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// How the differences are shown.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Only these accounts (repeatable).
        #[arg(long = "account", value_name = "ACT")]
        accounts: Vec<String>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Show saved plans (the shards of a CI matrix, say) as one document, offline.
    Show {
        /// Saved plans (from `plan --out`, or `plan --format json`), read as one.
        #[arg(required = true, value_name = "PLAN")]
        plans: Vec<PathBuf>,
        /// How the plans are shown.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        #[command(flatten)]
        bound: BoundArgs,
    },
    /// Conversion health: drift, conversions that do not fire, the cap. 0 fine, 2 findings
    /// named by --fail-on, 1 error.
    #[command(long_about = REPORT_ABOUT)]
    Report(ReportCommandArgs),
    /// Write manifests for live accounts, ids pinned (or as uses of a set, with --use).
    Import {
        /// The ad accounts to import (act_ and digits).
        #[arg(required = true, value_name = "ACT")]
        accounts: Vec<String>,
        /// Directory to write act_<digits>.yaml into (existing files are never overwritten).
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
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the manual page, or write one page per command into a directory.
    Man {
        /// Write convctl.1 and one convctl-COMMAND.1 per command into DIR instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// How `plan` and `drift` show their report: a saved document instead of live accounts, and
/// the size of markdown meant for a pull-request comment.
#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// Show this saved document (from `plan --out`, or `--format json`) instead of reading the
    /// accounts; works offline.
    #[arg(long, value_name = "FILE", conflicts_with = "accounts")]
    pub(crate) show: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) bound: BoundArgs,
}

/// The size of markdown meant for a pull-request comment, and where the whole is.
#[derive(Debug, Clone, Default, Args)]
pub struct BoundArgs {
    /// Keep markdown within N characters (default 65536: one GitHub comment; 0: no limit).
    /// The totals, what apply refuses, the warnings and every account (a row, or one row of
    /// accounts whose changes read the same) always stay; then every change is named where
    /// names fit, diffs shown whole where there is room, and a last line says what is not.
    #[arg(long, value_name = "N")]
    pub(crate) max_chars: Option<usize>,
    /// Where the whole plan can be read (a CI run's artifacts, say): the last line of a
    /// shortened markdown report links to it.
    #[arg(long, value_name = "URL", env = "CONVCTL_FULL_PLAN_URL")]
    pub(crate) full_plan_url: Option<String>,
}

/// `convctl report --help`: what the report says and how a nightly job alerts on it.
const REPORT_ABOUT: &str = "Conversion health across the fleet: one read of the accounts (the same \
calls as `plan`), then for every account what `plan` would do (drift), every conversion that \
never fired (no event since it was created longer ago than its threshold, 7 days by default), \
stopped firing (no event for longer than its threshold, 30 days by default), is flagged by Meta \
(is_unavailable: it silently matches nothing), archived, retired or unmanaged, and how full the \
account is against its 100-conversion cap. An entry's `expect_fire_within` (2d, 36h, 1w, or off \
for a seasonal one; also under `defaults`) sets its threshold; --expect-fire-within overrides \
them all. --stats adds each conversion's daily counts of the last 28 days (one more batch call \
per 50 conversions). --fail-on makes findings of those kinds (or drift) exit 2, for a nightly job \
to alert on; otherwise 0, and 1 on errors (an account that cannot be read is still named in the \
report). The report is judged against the clock; CONVCTL_NOW (an RFC 3339 time) fixes it, for \
reproducible reports.";

/// Output of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people at a terminal.
    Text,
    /// The report document, for scripts (docs/report.md describes it).
    Json,
    /// For a CI step summary or an issue (bounded by --max-chars).
    Markdown,
    /// One self-contained page for a browser (inline CSS, nothing loaded).
    Html,
}

/// What `--fail-on` names: a kind of finding, or drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Kind(crate::report::Kind),
    Drift,
}

fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    let text = text.trim();
    if text == "drift" {
        return Ok(FailOn::Drift);
    }
    crate::report::Kind::parse(text)
        .map(FailOn::Kind)
        .ok_or_else(|| {
            let names: Vec<&str> = crate::report::Kind::ALL
                .iter()
                .map(|k| k.as_str())
                .chain(["drift"])
                .collect();
            format!(
                "`{text}` is no kind of finding; name any of {}",
                names.join(", ")
            )
        })
}

fn parse_fire_within(text: &str) -> Result<crate::manifest::FireExpectation, String> {
    crate::manifest::FireExpectation::parse(text).map_err(|e| format!("{e}, or `off`"))
}

/// `convctl report`.
#[derive(Debug, Clone, Args)]
pub struct ReportCommandArgs {
    /// Manifest files or directories (searched for *.yaml and *.yml).
    #[arg(default_value = "conversions")]
    pub(crate) paths: Vec<PathBuf>,
    /// Only these accounts (repeatable).
    #[arg(long = "account", value_name = "ACT")]
    pub(crate) accounts: Vec<String>,
    /// How the report is shown on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Also write the report to FILE, in the format its name ends with (.html, .json, .md,
    /// .txt); repeatable, so that one read gives the page and the summary.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Vec<PathBuf>,
    /// Read each live conversion's daily counts of the last 28 days (the `stats` edge; one
    /// batch call per 50 conversions): totals in text and markdown, sparklines in HTML.
    #[arg(long)]
    pub(crate) stats: bool,
    /// Exit 2 when any finding of these kinds is present: never_fired, stopped_firing,
    /// flagged, archived, retired, unmanaged, or drift (comma-separated).
    #[arg(long, value_name = "KIND,...", value_delimiter = ',', value_parser = parse_fail_on)]
    pub(crate) fail_on: Vec<FailOn>,
    /// Judge every conversion by this threshold instead of its entry's `expect_fire_within`
    /// and the defaults (7d before a first event, 30d after the last): 2d, 36h, 1w, or off.
    #[arg(long, value_name = "DURATION|off", value_parser = parse_fire_within)]
    pub(crate) expect_fire_within: Option<crate::manifest::FireExpectation>,
    /// Keep markdown within N characters (default 65536; 0: no limit). The counts and the
    /// table of accounts needing attention always stay; whole accounts' details are left out.
    #[arg(long, value_name = "N")]
    pub(crate) max_chars: Option<usize>,
    /// Where the whole report can be read (a CI run's artifacts): shortened markdown links it.
    #[arg(long, value_name = "URL", env = "CONVCTL_FULL_REPORT_URL")]
    pub(crate) full_report_url: Option<String>,
}

/// `test --live`: also send the `match` examples as Conversions API test events.
#[derive(Debug, Clone, Default, Args)]
pub struct LiveTestArgs {
    /// After the offline tests pass, send each `match` example to its conversion's pixel.
    #[arg(long)]
    pub(crate) live: bool,
    /// Test Events code (Events Manager → Test Events); required with --live unless --sandbox.
    /// A blank code is refused (an unset CI variable), as a missing one is.
    #[arg(long, value_name = "CODE", requires = "live", value_parser = parse_test_event_code)]
    pub(crate) test_event_code: Option<String>,
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
    pub(crate) pixel: String,
    /// A JSON array of events, or an object with a `data` array; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Show the events in Events Manager → Test Events under this code (not blank: a blank
    /// code would send them as real events).
    #[arg(long, value_name = "CODE", value_parser = parse_test_event_code)]
    pub(crate) test_event_code: Option<String>,
    /// Validate offline only; send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
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
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) listen: String,
    /// Load state from FILE at start (when it exists) and save it there atomically. The file is
    /// locked while the emulator runs, and saved at start: an unwritable path is refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// Accepted tokens (repeatable); without any, every non-empty token is accepted.
    /// `T:act_1,act_2` accepts T for those accounts only (code 200 on others).
    #[arg(long = "token", value_name = "T[:ACCOUNTS]")]
    pub(crate) tokens: Vec<String>,
    /// Require appsecret_proof computed with this secret.
    #[arg(long, value_name = "S")]
    pub(crate) app_secret: Option<String>,
    /// Accounts that exist (repeatable); without any, every act_<digits> exists.
    #[arg(long = "account", value_name = "ACT")]
    pub(crate) accounts: Vec<String>,
    /// Most custom conversions an account may hold.
    #[arg(long, default_value_t = 100)]
    pub(crate) cap: usize,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub(crate) latency_ms: u64,
    /// Fraction of requests failing before doing anything: codes 1, 2, 17/2446079, 80004 or
    /// HTTP 500. The throttling ones carry the usage headers of an account just blocked (wait
    /// the tier's block: a minute at the standard tier, unless --score-window shortens it).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) fault_rate: f64,
    /// Fraction of writes committed and then answered with HTTP 500 or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) drop_after_commit: f64,
    /// At most N calls per account per minute, then code 80004 (instead of the tier's budget
    /// of calls per account per hour: 300 development, 100,000 standard).
    #[arg(long, value_name = "N")]
    pub(crate) rate_limit: Option<u32>,
    /// The app's ads API access tier: each account's score (reads 1 point, writes 3, every
    /// batch entry counts) may reach 60 (development: about 20 writes per 5 minutes) or 9000
    /// (standard); past it, code 17 subcode 2446079 and the account is blocked 300 s or 60 s.
    /// X-Ad-Account-Usage reports the score on every answer.
    #[arg(long, value_enum, default_value_t = TierChoice::Standard)]
    pub(crate) tier: TierChoice,
    /// The seconds the score takes to decay from its maximum to 0 (Meta's: 300). Shorter for
    /// tests: the blocks and the hourly budget shrink in proportion.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0, value_parser = parse_window)]
    pub(crate) score_window: f64,
    /// Seed for repeatable faults.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Make deletes archive conversions instead of removing them.
    #[arg(long)]
    pub(crate) delete_archives: bool,
    /// Refuse every DELETE of a custom conversion with code 200 (permissions error), as the
    /// real API does for apps Meta has not allowed to delete: convctl then retires instead.
    #[arg(long)]
    pub(crate) refuse_deletes: bool,
    /// Refuse a create whose rule means the same as the rule of a conversion the account
    /// holds, archived and renamed ones included (code 100, subcode 1760002 "Duplicate Custom
    /// Conversion Rule"). Part of --strict.
    #[arg(long)]
    pub(crate) unique_rules: bool,
    /// Where the real API's behaviour is uncertain, take the less convenient reading: refuse
    /// reading event_source_id, action_source_type and advanced_rule (code 100), pages of at
    /// most 25, batch entries past the 40th not run (null), creates answering
    /// is_custom_event_type_predicted, a rule on `event` alone refused at creation (subcode
    /// 1760020), and --unique-rules. In every profile archived
    /// conversions are frozen (an edit answers code 100; is_archived in an update is ignored)
    /// and flagged ones (is_unavailable) refuse every edit (code 2700000, subcode 2460004).
    #[arg(long)]
    pub(crate) strict: bool,
    /// Store every created rule with its `eq` string values lower-cased (to test the check
    /// after apply).
    #[arg(long)]
    pub(crate) rewrite_rules: bool,
}

/// `--tier`: Meta's ads API access tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TierChoice {
    /// A new app's: a score of 60 per account (about 20 writes per 5 minutes).
    Development,
    /// After Meta grants Standard access: 9000.
    Standard,
}

/// `--score-window`: positive seconds, at least 0.01.
fn parse_window(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.01 => Ok(secs),
        _ => Err(format!(
            "`{text}` is not a number of seconds of at least 0.01 (Meta's window is 300)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the client's messages use are global options (or environment variables in
    /// `--help`) that exist, and the ones the client's own tests read its messages with (so
    /// those tests pin what convctl prints).
    #[test]
    fn setting_names_are_global_options() {
        assert_eq!(SETTING_NAMES, crate::graph::FLAG_NAMES);
        let globals: Vec<String> = Cli::command()
            .get_arguments()
            .filter(|a| a.is_global_set())
            .filter_map(|a| a.get_long().map(|long| format!("--{long}")))
            .collect();
        let SettingNames {
            api_base,
            api_version,
            access_token,
            parallelism,
            trace_file,
            app_secret,
        } = SETTING_NAMES;
        let words = [
            api_base,
            api_version,
            access_token,
            parallelism,
            trace_file,
            app_secret,
        ]
        .into_iter()
        .flat_map(|name| name.split(' '));
        for word in words {
            if word.starts_with("--") {
                assert!(
                    globals.iter().any(|g| g == word),
                    "{word} is no global option"
                );
            } else if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                let documented = format!("\n  {word} ");
                assert!(
                    AFTER_LONG_HELP.contains(&documented),
                    "{word} is not in --help"
                );
            }
        }
    }

    #[test]
    fn the_global_option_is_checked_by_clap() {
        let cli = Cli::try_parse_from(["convctl", "--shard", "2/3", "validate"]).unwrap();
        assert_eq!(cli.global.shard, Some(Shard::parse("2/3").unwrap()));
        let error = Cli::try_parse_from(["convctl", "plan", "--shard", "4/3"]).unwrap_err();
        assert!(
            error.to_string().contains("K must be between 1 and 3"),
            "{error}"
        );
        let cli = Cli::try_parse_from(["convctl", "validate"]).unwrap();
        assert_eq!(cli.global.shard, None);
    }

    #[test]
    fn timeouts_parse_like_90s_10m_1h() {
        use std::time::Duration;
        let parse = |args: &[&str]| {
            let mut all = vec!["convctl"];
            all.extend_from_slice(args);
            all.push("validate");
            Cli::try_parse_from(all).map(|c| c.global.timeout)
        };
        assert_eq!(parse(&[]).unwrap(), Duration::from_secs(600), "default 10m");
        for (text, secs) in [
            ("90s", 90.0),
            ("10m", 600.0),
            ("1h", 3600.0),
            ("1h30m", 5400.0),
            ("2.5s", 2.5),
            ("PT2M", 120.0),
            ("0", 0.0),
        ] {
            assert_eq!(
                parse(&["--timeout", text]).unwrap(),
                Duration::from_secs_f64(secs),
                "{text}"
            );
        }
        for bad in ["90", "ten minutes", "--timeout=-5s", ""] {
            let args: Vec<&str> = match bad.strip_prefix("--timeout=") {
                Some(_) => vec![bad],
                None => vec!["--timeout", bad],
            };
            let e = parse(&args).unwrap_err().to_string();
            assert!(
                e.contains("90s, 10m, 36h or 2d (0 for no limit)"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            crate::graph::describe_duration(Duration::from_secs(5400)),
            "1h 30m"
        );
    }
}
