//! The command line of the packaged binary: `--version` names the Graph API version, completions
//! and man pages come out of the real executable, a bad `--shard` is refused before any work, usage
//! errors exit 1 (never 2, which pipelines read as "changes present", docs/cli.md, "Exit codes"),
//! and the global options (colour, quiet, batching, account filters, shards, verbose) do what they
//! say.

mod completions;
mod pipes;
mod trace;

use crate::assert_run;
use crate::support::snapshot::transcripts;
use crate::support::{Convctl, Harness, Run, tools};
use serde_json::Value;

#[test]
fn version_names_the_targeted_graph_api_version() {
    let output = Convctl::new().args(&["--version"]).run();
    assert_run!(output, @"
    success: true
    exit_code: 0
    ----- stdout -----
    convctl [version] (Graph API v27.0)
    ----- stderr -----
    ");

    let stdout = output.stdout;
    assert_eq!(
        stdout.trim(),
        format!(
            "convctl {} (Graph API {})",
            env!("CARGO_PKG_VERSION"),
            convctl::DEFAULT_API_VERSION
        )
    );
    // Subcommands report the same (propagate_version).
    let output = Convctl::new().args(&["plan", "--version"]).run();
    assert_run!(output, @"
    success: true
    exit_code: 0
    ----- stdout -----
    convctl-plan [version] (Graph API v27.0)
    ----- stderr -----
    ");
    assert!(output.stdout.contains(convctl::DEFAULT_API_VERSION));
}

#[test]
fn completions_for_every_shell_exit_zero() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = Convctl::new().args(&["completions", shell]).run();
        assert!(output.code == 0, "{shell}");
        assert!(output.stdout.contains("convctl"));
    }
    let output = Convctl::new().args(&["completions", "tcsh"]).run();
    assert_run!(output, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value 'tcsh' for '<SHELL>'
      [possible values: bash, zsh, fish, powershell]

      tip: a similar value exists: 'zsh'

    For more information, try '--help'.
    ");

    assert!(
        output
            .stderr
            .contains("possible values: bash, zsh, fish, powershell")
    );
}

#[test]
fn man_prints_roff_and_writes_pages() {
    let output = Convctl::new().args(&["man"]).run();
    assert_run!(output, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    .ie \n(.g .ds Aq \(aq
    .el .ds Aq '
    .TH CONVCTL 1 2026-12-01 "convctl [version]" "convctl manual"
    .SH NAME
    convctl \- Meta custom conversions as code: validate, plan, apply and
    watch for drift
    .SH SYNOPSIS
    \fBconvctl\fR
    [\fB\-\-api\-base\fR \fIURL\fR]
    [\fB\-\-api\-version\fR \fIVERSION\fR]
    [\fB\-\-access\-token\-file\fR \fIFILE\fR]
    [\fB\-\-sandbox\fR[=\fISTATE_FILE\fR]]
    [\fB\-\-parallelism\fR \fIN\fR]
    [\fB\-\-batch\-size\fR \fIN\fR]
    [\fB\-\-shard\fR \fIK/N\fR]
    [\fB\-\-color\fR \fIauto|always|never\fR]
    [\fB\-v\fR|\fB\-\-verbose\fR]
    [\fB\-q\fR|\fB\-\-quiet\fR]
    [\fB\-\-trace\fR \fIFILE\fR]
    [\fB\-\-timeout\fR \fIDURATION\fR]
    \fICOMMAND\fR ...
    .SH DESCRIPTION
    convctl keeps the custom conversions of Meta ad accounts as code. Each
    ad account is declared in a YAML manifest (one document per account,
    conversions by name, rules in Meta\*(Aqs rule language); convctl
    compares the manifests with the live accounts through the Graph API and
    makes them match, as Terraform does for infrastructure.
    .PP
    validate and test check the manifests offline. plan shows what apply
    would change in the live accounts (+ create, ~ update in place, \-/+
    replace, \- delete) and can save the plan; apply makes the change, or
    executes exactly a saved plan; show renders saved plans (the shards of a
    CI matrix) as one document, offline; drift reports where the accounts
    moved away from the manifests; import writes manifests for conversions
    that already exist. emulator runs a local Graph API, and \-\-sandbox
    uses one in\-process, so everything can be tried without a token.
    .PP
    Safety: protect: true blocks deletes and replacements of a conversion; a
    plan that deletes or replaces more than 10 conversions and more than 30%
    of an account is refused unless \-\-allow\-mass\-delete; a saved plan is
    refused when the accounts changed since it was made. The access token is
    read from the environment or a file and never printed.
    .SH OPTIONS
    .TP
    \fB\-\-api\-base\fR \fI<URL>\fR [default: https://graph.facebook.com]
    Address of the Graph API (a local emulator\*(Aqs, for tests)
    .TP
    \fB\-\-api\-version\fR \fI<VERSION>\fR [default: v27.0]
    Graph API version to call, e.g. v27.0 (convctl warns when it expires
    within 60 days)
    .TP
    \fB\-\-access\-token\-file\fR \fI<FILE>\fR
    Read the access token from FILE instead of the META_ACCESS_TOKEN
    environment variable (a regular file of at most 8 KiB; a pipe or a
    device is refused)
    .TP
    \fB\-\-sandbox\fR[=\fI<STATE_FILE>\fR]
    Work against a built\-in emulator instead of Meta, keeping its state in
    STATE_FILE (default .convctl/sandbox.json); no token needed. For trying
    convctl out safely. The state is locked for the command: another command
    on it waits up to 10 s, then is refused
    .TP
    \fB\-\-parallelism\fR \fI<N>\fR [default: 8]
    At most N requests to the API at once, across all accounts
    .TP
    \fB\-\-batch\-size\fR \fI<N>\fR [default: 50]
    Requests sent together in one batch call (1 to 50; 1 sends each on its
    own)
    .TP
    \fB\-\-shard\fR \fI<K/N>\fR
    Work on share K of N of the accounts (for N parallel CI jobs, K from 1
    to N). Every account falls in exactly one share, always the same one
    .TP
    \fB\-\-color\fR \fI<COLOR>\fR [default: auto]
    Colour the output: auto (on a terminal, unless NO_COLOR is set), always
    or never

    \fIPossible values:\fR
    .RS 14
    .IP \(bu 2
    auto: On a terminal, unless NO_COLOR is set
    .IP \(bu 2
    always
    .IP \(bu 2
    never
    .RE
    .TP
    \fB\-v\fR, \fB\-\-verbose\fR
    Say more on stderr about what is done (never a secret)
    .TP
    \fB\-q\fR, \fB\-\-quiet\fR
    Print only results and errors: no progress, no warnings
    .TP
    \fB\-\-trace\fR \fI<FILE>\fR
    Write every HTTP exchange with the Graph API to FILE, one JSON line
    each, secrets redacted (attach it to a bug report)
    .TP
    \fB\-\-timeout\fR \fI<DURATION>\fR [default: 10m]
    The whole command\*(Aqs time budget, every request, retry and wait
    included (`90s`, `10m`, `1h30m`; `0` = no limit), reading the inputs
    included. When it runs out the command stops with exit 1 and says which
    account and call were still waiting
    .TP
    \fB\-h\fR, \fB\-\-help\fR
    Print help (see a summary with \*(Aq\-h\*(Aq)
    .TP
    \fB\-V\fR, \fB\-\-version\fR
    Print version
    .SH SUBCOMMANDS
    .TP
    convctl\-validate(1)
    Check manifests offline: 0 valid, 1 invalid
    .TP
    convctl\-test(1)
    Run the manifests\*(Aq rule tests offline: 0 all pass, 1 otherwise
    .TP
    convctl\-plan(1)
    Show what apply would change
    .TP
    convctl\-apply(1)
    Make the live accounts match the manifests
    .TP
    convctl\-drift(1)
    Compare live accounts with the manifests: 0 in sync, 2 drift, 1 error
    .TP
    convctl\-show(1)
    Show saved plans (the shards of a CI matrix, say) as one document,
    offline
    .TP
    convctl\-report(1)
    Conversion health: drift, conversions that do not fire, the cap. 0 fine,
    2 findings named by \-\-fail\-on, 1 error
    .TP
    convctl\-import(1)
    Write manifests for live accounts, ids pinned (or as uses of a set, with
    \-\-use)
    .TP
    convctl\-emulator(1)
    Run a local Graph API
    .TP
    convctl\-events(1)
    Send Conversions API server events, to watch a conversion fire
    .TP
    convctl\-completions(1)
    Print a shell completion script to stdout
    .TP
    convctl\-man(1)
    Print the manual page, or write one page per command into a directory
    .TP
    convctl\-help(1)
    Print this message or the help of the given subcommand(s)
    .SH "EXIT STATUS"
    .TP
    \fB0\fR
    Success: valid, tests pass, plan made, apply done, no drift.
    .TP
    \fB1\fR
    Error: bad input, API failure, refused plan, partial apply, usage error.
    .TP
    \fB2\fR
    Changes present (plan \-\-detailed\-exitcode) or drift found (drift).
    .TP
    \fBClosed output\fR
    A reader that stops early (convctl ... | head) is not an error: output
    stops quietly.
    .SH ENVIRONMENT
    .TP
    \fBMETA_ACCESS_TOKEN\fR
    The access token (a system user token), unless \-\-access\-token\-file
    is given.
    .TP
    \fBMETA_APP_SECRET\fR
    The app secret: when set, every call carries appsecret_proof.
    .TP
    \fBCONVCTL_API_BASE\fR
    Address of the Graph API, as \-\-api\-base.
    .TP
    \fBCONVCTL_API_VERSION\fR
    Graph API version, as \-\-api\-version.
    .TP
    \fBCONVCTL_TODAY\fR
    The day (YYYY\-MM\-DD) the API version calendar is judged by; for tests.
    .TP
    \fBNO_COLOR\fR
    When set, no colours (as \-\-color never).
    .SH FILES
    .TP
    \fBconversions/\fR
    The default place of the manifests: every *.yaml and *.yml file below
    it, in sorted order.
    .TP
    \fB.convctl/sandbox.json\fR
    The emulator\*(Aqs state with \-\-sandbox and no STATE_FILE.
    .SH EXAMPLES
    Check the manifests offline:
    .RS 4
    .nf
    \fBconvctl validate conversions\fR
    .fi
    .RE
    .PP
    See what would change, then do it:
    .RS 4
    .nf
    \fBconvctl plan \-\-out plan.json\fR
    \fBconvctl apply \-\-plan plan.json\fR
    .fi
    .RE
    .PP
    Try everything against the built\-in emulator:
    .RS 4
    .nf
    \fBconvctl \-\-sandbox plan examples/conversions\fR
    .fi
    .RE
    .SH "SEE ALSO"
    convctl\-validate(1), convctl\-test(1), convctl\-plan(1),
    convctl\-apply(1), convctl\-drift(1), convctl\-show(1),
    convctl\-report(1), convctl\-import(1), convctl\-emulator(1),
    convctl\-events(1), convctl\-completions(1), convctl\-man(1),
    convctl\-help(1)
    .SH VERSION
    convctl [version] (Graph API v27.0)
    ----- stderr -----
    "#);

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let output = Convctl::new()
        .args(&["man", "--out", target.to_str().unwrap()])
        .run();
    assert_run!(output, @"
    success: true
    exit_code: 0
    ----- stdout -----
    wrote 14 man pages into [tmp]/man1
    ----- stderr -----
    ");

    assert!(target.join("convctl-drift.1").is_file());
}

/// Every page `convctl man --out` writes passes plain `mandoc -T lint`: no message at all,
/// style messages included.
#[test]
fn man_pages_pass_mandoc_lint() {
    let Some(mandoc) = tools::require("mandoc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    Convctl::new()
        .args(&["man", "--out"])
        .arg(dir.path())
        .run()
        .assert_success();
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "{pages:?}");
    for page in pages {
        let out = std::process::Command::new(&mandoc)
            .args(["-T", "lint"])
            .arg(&page)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && report.trim().is_empty(),
            "{}:\n{report}",
            page.display()
        );
    }
}

#[test]
fn usage_errors_exit_1_so_they_never_read_as_drift() {
    let runs: Vec<Run> = [
        &["drift", "--frmat", "markdown"][..],
        &["plan", "--detailed-exitcode", "--shard", "5/4"],
        &["frobnicate"],
        &[],
    ]
    .into_iter()
    .map(|args| Convctl::new().args(args).run())
    .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl drift --frmat markdown
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: unexpected argument '--frmat' found

      tip: a similar argument exists: '--format'

    Usage: convctl drift --format <FORMAT> [PATH]...

    For more information, try '--help'.

    $ convctl plan --detailed-exitcode --shard 5/4
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '5/4' for '--shard <K/N>': `5/4` is not a shard: K must be between 1 and 4 (shards count from 1)

    For more information, try '--help'.

    $ convctl frobnicate
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: unrecognized subcommand 'frobnicate'

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.

    $ convctl
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    Meta custom conversions as code: validate, plan, apply and watch for drift

    Usage: convctl [OPTIONS] <COMMAND>

    Commands:
      validate     Check manifests offline: 0 valid, 1 invalid
      test         Run the manifests' rule tests offline: 0 all pass, 1 otherwise
      plan         Show what apply would change
      apply        Make the live accounts match the manifests
      drift        Compare live accounts with the manifests: 0 in sync, 2 drift, 1 error
      show         Show saved plans (the shards of a CI matrix, say) as one document, offline
      report       Conversion health: drift, conversions that do not fire, the cap. 0 fine, 2 findings named by --fail-on, 1 error
      import       Write manifests for live accounts, ids pinned (or as uses of a set, with --use)
      emulator     Run a local Graph API
      events       Send Conversions API server events, to watch a conversion fire
      completions  Print a shell completion script to stdout
      man          Print the manual page, or write one page per command into a directory
      help         Print this message or the help of the given subcommand(s)

    Options:
          --api-base <URL>            Address of the Graph API (a local emulator's, for tests) [env: CONVCTL_API_BASE=] [default: https://graph.facebook.com]
          --api-version <VERSION>     Graph API version to call, e.g. v27.0 (convctl warns when it expires within 60 days) [env: CONVCTL_API_VERSION=] [default: v27.0]
          --access-token-file <FILE>  Read the access token from FILE instead of the META_ACCESS_TOKEN environment variable (a regular file of at most 8 KiB; a pipe or a device is refused)
          --sandbox[=<STATE_FILE>]    Work against a built-in emulator instead of Meta, keeping its state in STATE_FILE (default .convctl/sandbox.json); no token needed. For trying convctl out safely. The state is locked for the command: another command on it waits up to 10 s, then is refused
          --parallelism <N>           At most N requests to the API at once, across all accounts [default: 8]
          --batch-size <N>            Requests sent together in one batch call (1 to 50; 1 sends each on its own) [default: 50]
          --shard <K/N>               Work on share K of N of the accounts (for N parallel CI jobs, K from 1 to N). Every account falls in exactly one share, always the same one
          --color <COLOR>             Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never [default: auto] [possible values: auto, always, never]
      -v, --verbose                   Say more on stderr about what is done (never a secret)
      -q, --quiet                     Print only results and errors: no progress, no warnings
          --trace <FILE>              Write every HTTP exchange with the Graph API to FILE, one JSON line each, secrets redacted (attach it to a bug report)
          --timeout <DURATION>        The whole command's time budget, every request, retry and wait included (`90s`, `10m`, `1h30m`; `0` = no limit), reading the inputs included. When it runs out the command stops with exit 1 and says which account and call were still waiting [default: 10m]
      -h, --help                      Print help (see more with '--help')
      -V, --version                   Print version
    ");
    assert_eq!(Convctl::new().args(&["--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["drift", "--help"]).run().code, 0);
}

#[test]
fn a_bad_shard_is_refused_with_the_reason() {
    let output = Convctl::new()
        .args(&["--shard", "0/4", "completions", "bash"])
        .run();
    assert_run!(output, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '0/4' for '--shard <K/N>': `0/4` is not a shard: K must be between 1 and 4 (shards count from 1)

    For more information, try '--help'.
    ");

    let stderr = output.stderr;
    assert!(stderr.contains("K must be between 1 and 4"), "{stderr}");
}

/// `cargo install --path .` builds the release profile: keep it tuned (thin LTO, stripped).
#[test]
fn the_release_profile_stays_tuned() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .expect("a [profile.release] section");
    let release = release.split("\n[").next().unwrap();
    assert!(
        release.contains("lto = \"thin\"") || release.contains("lto = true"),
        "{release}"
    );
    assert!(release.contains("strip = true"), "{release}");
}

#[test]
fn usage_errors_exit_1_never_2() {
    let runs: Vec<Run> = [
        &["drift", "--bogus"][..],
        &["plan", "--detailed-exitcode", "--format", "yaml"],
        &["plan", "--detailed-exitcode", "--parallelism", "0"],
        &["apply", "--auto-aprove"],
        &["nosuchcommand"],
    ]
    .into_iter()
    .map(|args| Convctl::new().args(args).run())
    .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl drift --bogus
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: unexpected argument '--bogus' found

      tip: to pass '--bogus' as a value, use '-- --bogus'

    Usage: convctl drift [OPTIONS] [PATH]...

    For more information, try '--help'.

    $ convctl plan --detailed-exitcode --format yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value 'yaml' for '--format <FORMAT>'
      [possible values: text, json, markdown]

    For more information, try '--help'.

    $ convctl plan --detailed-exitcode --parallelism 0
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '0' for '--parallelism <N>': 0 is not in 1..=256

    For more information, try '--help'.

    $ convctl apply --auto-aprove
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: unexpected argument '--auto-aprove' found

      tip: a similar argument exists: '--auto-approve'

    Usage: convctl apply --auto-approve [PATH]...

    For more information, try '--help'.

    $ convctl nosuchcommand
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: unrecognized subcommand 'nosuchcommand'

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.
    ");
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(Convctl::new().args(&["--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["plan", "--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["--version"]).run().code, 0);
    // The short help, whole (the long pages are checked in `pipes`).
    let runs = [
        Convctl::new().args(&["-h"]).run(),
        Convctl::new().args(&["plan", "-h"]).run(),
    ];
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl -h
    success: true
    exit_code: 0
    ----- stdout -----
    Meta custom conversions as code: validate, plan, apply and watch for drift

    Usage: convctl [OPTIONS] <COMMAND>

    Commands:
      validate     Check manifests offline: 0 valid, 1 invalid
      test         Run the manifests' rule tests offline: 0 all pass, 1 otherwise
      plan         Show what apply would change
      apply        Make the live accounts match the manifests
      drift        Compare live accounts with the manifests: 0 in sync, 2 drift, 1 error
      show         Show saved plans (the shards of a CI matrix, say) as one document, offline
      report       Conversion health: drift, conversions that do not fire, the cap. 0 fine, 2 findings named by --fail-on, 1 error
      import       Write manifests for live accounts, ids pinned (or as uses of a set, with --use)
      emulator     Run a local Graph API
      events       Send Conversions API server events, to watch a conversion fire
      completions  Print a shell completion script to stdout
      man          Print the manual page, or write one page per command into a directory
      help         Print this message or the help of the given subcommand(s)

    Options:
          --api-base <URL>            Address of the Graph API (a local emulator's, for tests) [env: CONVCTL_API_BASE=] [default: https://graph.facebook.com]
          --api-version <VERSION>     Graph API version to call, e.g. v27.0 (convctl warns when it expires within 60 days) [env: CONVCTL_API_VERSION=] [default: v27.0]
          --access-token-file <FILE>  Read the access token from FILE instead of the META_ACCESS_TOKEN environment variable (a regular file of at most 8 KiB; a pipe or a device is refused)
          --sandbox[=<STATE_FILE>]    Work against a built-in emulator instead of Meta, keeping its state in STATE_FILE (default .convctl/sandbox.json); no token needed. For trying convctl out safely. The state is locked for the command: another command on it waits up to 10 s, then is refused
          --parallelism <N>           At most N requests to the API at once, across all accounts [default: 8]
          --batch-size <N>            Requests sent together in one batch call (1 to 50; 1 sends each on its own) [default: 50]
          --shard <K/N>               Work on share K of N of the accounts (for N parallel CI jobs, K from 1 to N). Every account falls in exactly one share, always the same one
          --color <COLOR>             Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never [default: auto] [possible values: auto, always, never]
      -v, --verbose                   Say more on stderr about what is done (never a secret)
      -q, --quiet                     Print only results and errors: no progress, no warnings
          --trace <FILE>              Write every HTTP exchange with the Graph API to FILE, one JSON line each, secrets redacted (attach it to a bug report)
          --timeout <DURATION>        The whole command's time budget, every request, retry and wait included (`90s`, `10m`, `1h30m`; `0` = no limit), reading the inputs included. When it runs out the command stops with exit 1 and says which account and call were still waiting [default: 10m]
      -h, --help                      Print help (see more with '--help')
      -V, --version                   Print version
    ----- stderr -----

    $ convctl plan -h
    success: true
    exit_code: 0
    ----- stdout -----
    Show what apply would change

    Usage: convctl plan [OPTIONS] [PATH]...

    Arguments:
      [PATH]...  Manifest files or directories (searched for *.yaml and *.yml) [default: conversions]

    Options:
          --account <ACT>        Only these accounts (repeatable)
          --out <FILE>           Also save the plan to FILE, for `convctl apply --plan FILE`
          --format <FORMAT>      How the plan is shown [default: text] [possible values: text, json, markdown]
          --detailed-exitcode    Exit 2 when there are changes (0 none, 1 error)
          --show <FILE>          Show this saved document (from `plan --out`, or `--format json`) instead of reading the accounts; works offline
          --max-chars <N>        Keep markdown within N characters (default 65536: one GitHub comment; 0: no limit). The totals, what apply refuses, the warnings and every account (a row, or one row of accounts whose changes read the same) always stay; then every change is named where names fit, diffs shown whole where there is room, and a last line says what is not
          --full-plan-url <URL>  Where the whole plan can be read (a CI run's artifacts, say): the last line of a shortened markdown report links to it [env: CONVCTL_FULL_PLAN_URL=]
      -h, --help                 Print help (see more with '--help')
      -V, --version              Print version

    Global options:
          --api-base <URL>            Address of the Graph API (a local emulator's, for tests) [env: CONVCTL_API_BASE=] [default: https://graph.facebook.com]
          --api-version <VERSION>     Graph API version to call, e.g. v27.0 (convctl warns when it expires within 60 days) [env: CONVCTL_API_VERSION=] [default: v27.0]
          --access-token-file <FILE>  Read the access token from FILE instead of the META_ACCESS_TOKEN environment variable (a regular file of at most 8 KiB; a pipe or a device is refused)
          --sandbox[=<STATE_FILE>]    Work against a built-in emulator instead of Meta, keeping its state in STATE_FILE (default .convctl/sandbox.json); no token needed. For trying convctl out safely. The state is locked for the command: another command on it waits up to 10 s, then is refused
          --parallelism <N>           At most N requests to the API at once, across all accounts [default: 8]
          --batch-size <N>            Requests sent together in one batch call (1 to 50; 1 sends each on its own) [default: 50]
          --shard <K/N>               Work on share K of N of the accounts (for N parallel CI jobs, K from 1 to N). Every account falls in exactly one share, always the same one
          --color <COLOR>             Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never [default: auto] [possible values: auto, always, never]
      -v, --verbose                   Say more on stderr about what is done (never a secret)
      -q, --quiet                     Print only results and errors: no progress, no warnings
          --trace <FILE>              Write every HTTP exchange with the Graph API to FILE, one JSON line each, secrets redacted (attach it to a bug report)
          --timeout <DURATION>        The whole command's time budget, every request, retry and wait included (`90s`, `10m`, `1h30m`; `0` = no limit), reading the inputs included. When it runs out the command stops with exit 1 and says which account and call were still waiting [default: 10m]
    ----- stderr -----
    ");
}

#[test]
fn global_options_colour_quiet_batching_and_account_filters() {
    // The verbose lines checked whole below are the lenient profile's (the strict one adds a
    // field refusal and a second round of batches).
    let env = Harness::with_profile(convctl::emulator::EmulatorConfig::default());
    env.write(
        "conversions/two.yaml",
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {url: {eq: a}}\n---\naccount: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {eq: b}}\n",
    );
    // Colours only when asked for (stdout is a pipe here).
    assert!(!env.run(&["plan"]).stdout.contains('\x1b'));
    assert!(
        env.run(&["--color", "always", "plan"])
            .stdout
            .contains("\x1b[")
    );
    // --quiet: results only (no "Saved the plan" note).
    let quiet = env.run(&["--quiet", "plan", "--out", "p.json"]);
    assert_run!(quiet, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/two.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "a"}}
        }

    act_2 (conversions/two.yaml) will change:

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "b"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);

    assert!(env.path("p.json").exists());
    // apply --account and --batch-size 1 (plain requests, no batch endpoint).
    let batches_before = env.stats()["batches"].clone();
    let applied = env.run(&[
        "--batch-size",
        "1",
        "apply",
        "--account",
        "act_2",
        "--auto-approve",
    ]);
    assert_run!(applied, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_2 (conversions/two.yaml) will change:

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "b"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_2: + create "B": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);

    assert_eq!(env.stats()["batches"], batches_before, "{}", env.stats());
    assert!(env.live("act_1").is_empty());
    assert_eq!(env.live_names("act_2"), ["B"]);
    // drift --account: act_2 is in sync, act_1 is not.
    assert_run!(env.run(&["drift", "--account", "act_2"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_2 (conversions/two.yaml): in sync.

    No drift: live accounts match the manifests.
    ----- stderr -----
    ");
    assert_run!(env.run(&["drift", "--account", "act_1"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/two.yaml) has drifted from its manifest (values shown live -> manifest):

      # "A" is declared but missing live
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "a"}}
        }

    Drift found; to converge: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    // A saved plan limited to one account by apply --plan --account.
    let saved = env.run(&[
        "apply",
        "--plan",
        "p.json",
        "--account",
        "act_2",
        "--auto-approve",
    ]);
    assert_run!(saved, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    note: applying 1 of the plan's 2 accounts (--account); the other 1 are left to their own runs
    error: the saved plan p.json is stale, nothing was done:
      act_2: its live conversions are not those the plan was made from: they changed since, or the plan was made for another account
    make a new plan (`convctl plan --out p.json`) and review it
    ");

    let saved = env.run(&[
        "apply",
        "--plan",
        "p.json",
        "--account",
        "act_1",
        "--auto-approve",
    ]);
    assert_run!(saved, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/two.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "A": created, id 23850000000000002
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    note: applying 1 of the plan's 2 accounts (--account); the other 1 are left to their own runs
    "#);

    assert_eq!(env.live_names("act_1"), ["A"]);
    // --shard K/N: the shards partition the accounts.
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let doc: Value = serde_json::from_str(
            &env.run(&["--shard", shard, "plan", "--format", "json"])
                .stdout,
        )
        .unwrap();
        seen.extend(
            doc["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["account"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    assert_eq!(seen, ["act_1", "act_2"]);
    // -v says what it does on stderr, never the token (checked by the harness on every run).
    // Both accounts' first pages go in one batch; --batch-size 1 lists them one by one.
    let verbose = env.run(&["-v", "plan"]);
    assert_run!(verbose, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/two.yaml): no changes.

    act_2 (conversions/two.yaml): no changes.

    No changes.
    ----- stderr -----
    graph: POST /v27.0/ (first pages of 2 accounts) → 200 in [duration]
    graph: first pages of 2 accounts: 2 read from the batch, 0 listed on their own (1 round(s) of batches)
    graph: act_1: no conversion in the answer carried action_source_type (unknown: never a change)
    graph: act_2: no conversion in the answer carried action_source_type (unknown: never a change)
    ");

    assert!(
        verbose
            .stderr
            .contains("POST /v27.0/ (first pages of 2 accounts) → 200")
            && verbose
                .stderr
                .contains("first pages of 2 accounts: 2 read from the batch"),
        "{verbose}"
    );
    let verbose = env.run(&["-v", "--batch-size", "1", "plan"]);
    assert_run!(verbose, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/two.yaml): no changes.

    act_2 (conversions/two.yaml): no changes.

    No changes.
    ----- stderr -----
    graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1] usage account [share]% reset in [duration]
    graph: act_1: no conversion in the answer carried action_source_type (unknown: never a change)
    graph: GET /v27.0/act_2/customconversions (page 1) → 200 in [duration] [act_2] usage account [share]% reset in [duration]
    graph: act_2: no conversion in the answer carried action_source_type (unknown: never a change)
    ");
}
