//! The HTML report at agency scale: its size and how long Chromium takes to load it.
//!
//! `cargo bench --bench report -- [--accounts 500] [--per-account 50] [--runs 3]`
//!
//! A `convctl emulator` child is seeded with `--accounts` accounts of `--per-account`
//! conversions each, with 28 days of daily counts (most conversions fire every day; one in
//! ten never fired, one in twenty stopped firing, one in fifty is flagged, a few are
//! unmanaged or archived, some accounts drifted), and one manifest per account. Then
//! `convctl report --stats --out report.html --out report.json` runs once (its wall time is
//! printed too), and headless Chromium loads the page: the time of a screenshot of the page
//! (parse, style, layout, paint) less the time of the same screenshot of an empty page
//! (Chromium's own start), best of `--runs`. Prints Markdown tables for docs/BENCHMARKS.md:
//! the figures, and where the bytes of each page go.
//! Under `cargo test --all-targets` it is a smoke run at 5 accounts.

#[path = "../tests/suite/support/binary.rs"]
#[allow(dead_code, reason = "shared with tests/suite, which uses the rest")]
mod binary;
#[path = "../tests/suite/support/child.rs"]
#[allow(dead_code, reason = "shared with tests/suite, which uses the rest")]
mod child;
#[path = "../tests/suite/support/profile.rs"]
#[allow(dead_code, reason = "shared with tests/suite, which uses the rest")]
mod profile;

use binary::Convctl;
use child::ChildEmulator;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The report's clock: the seeded days end on it.
const NOW: &str = "2026-12-06T08:00:00Z";
const NOW_UNIX: i64 = 1_796_544_000;
const DAY: i64 = 86_400;

struct Options {
    accounts: usize,
    per_account: usize,
    runs: usize,
    /// Also measure the report without `--stats` (no sparklines).
    without_stats: bool,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut o = Options {
            accounts: 500,
            per_account: 50,
            runs: 3,
            without_stats: true,
        };
        if !args.iter().any(|a| a == "--bench") {
            o.accounts = 5;
            o.runs = 1;
        }
        let value = |i: usize| -> usize {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} needs a number", args[i]))
        };
        for (i, arg) in args.iter().enumerate() {
            match arg.as_str() {
                "--accounts" => o.accounts = value(i),
                "--per-account" => o.per_account = value(i),
                "--runs" => o.runs = value(i).max(1),
                "--stats-only" => o.without_stats = false,
                _ => {}
            }
        }
        o
    }
}

/// A small deterministic generator (the same fleet every run).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn day_name(days_ago: i64) -> String {
    let unix = NOW_UNIX - days_ago * DAY;
    jiff::Timestamp::from_second(unix).unwrap().to_string()[..10].to_string()
}

/// Conversion `i` of account `a`: its seed, and its manifest entry (`None`: unmanaged).
fn conversion(a: usize, i: usize, dice: &mut Dice) -> (Value, Option<String>) {
    let account = format!("act_{}", 4_000_000 + a);
    let name = format!("Step {i:02} of checkout funnel, shop {a:03}");
    let rule = json!({"and": [{"event": {"eq": "Purchase"}}, {"url": {"i_contains": format!("/shop-{a}/step-{i}")}}]});
    let roll = dice.next() % 100;
    let mut seed = json!({"account": account, "name": name, "custom_event_type": "PURCHASE",
        "event_source_id": "998877665544", "rule": rule, "creation_time": NOW_UNIX - 200 * DAY});
    match roll {
        0..=9 => {} // never fired
        10..=14 => {
            seed["first_fired_time"] = json!(NOW_UNIX - 190 * DAY);
            seed["last_fired_time"] = json!(NOW_UNIX - 45 * DAY);
        }
        _ => {
            let mut daily = serde_json::Map::new();
            let base = 5 + dice.next() % 200;
            for d in 0..28 {
                let n = base / 2 + dice.next() % base;
                daily.insert(day_name(d), json!(n));
            }
            seed["daily_counts"] = Value::Object(daily);
            seed["first_fired_time"] = json!(NOW_UNIX - 190 * DAY);
            seed["last_fired_time"] = json!(NOW_UNIX - 3600);
        }
    }
    if roll == 15 || roll == 16 {
        seed["is_unavailable"] = json!(true);
    }
    if roll == 17 {
        seed["is_archived"] = json!(true);
    }
    let declared = roll != 18;
    let description = if roll == 19 { "Edited by hand" } else { "" };
    seed["description"] = json!(description);
    let entry = declared.then(|| {
        format!(
            "  - name: {name}\n    custom_event_type: PURCHASE\n    rule: {rule}\n",
            rule = seed["rule"]
        )
    });
    (seed, entry)
}

fn main() {
    let o = Options::parse();
    let dir = tempfile::tempdir().unwrap();
    let emulator = ChildEmulator::start(&[]);
    let mut dice = Dice(2026);
    let manifests = dir.path().join("conversions");
    std::fs::create_dir_all(&manifests).unwrap();
    let mut seeds = Vec::new();
    for a in 0..o.accounts {
        let mut doc = format!(
            "account: act_{}\ndefaults: {{event_source_id: \"998877665544\"}}\nconversions:\n",
            4_000_000 + a
        );
        for i in 0..o.per_account {
            let (seed, entry) = conversion(a, i, &mut dice);
            seeds.push(seed);
            if let Some(entry) = entry {
                doc.push_str(&entry);
            }
        }
        std::fs::write(manifests.join(format!("act_{a}.yaml")), doc).unwrap();
    }
    for chunk in seeds.chunks(10_000) {
        emulator.seed(&Value::Array(chunk.to_vec()));
    }
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, "<!doctype html><title>empty</title>").unwrap();
    let chromium = which("chromium");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| accounts × conversions | command | wall | HTML | JSON | markdown | Chromium load (best of {}) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        o.runs
    );
    let variants: &[&[&str]] = if o.without_stats {
        &[&["--stats"], &[]]
    } else {
        &[&["--stats"]]
    };
    let mut breakdowns = Vec::new();
    for extra in variants {
        let mut args = vec![
            "report",
            "--out",
            "report.html",
            "--out",
            "report.json",
            "--out",
            "report.md",
        ];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let run = Convctl::new()
            .against(&emulator.base)
            .current_dir(dir.path())
            .env("CONVCTL_NOW", NOW)
            .args(&args)
            .timeout(Duration::from_secs(1800))
            .run();
        let wall = started.elapsed();
        assert_eq!(run.code, 0, "{run}");
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        let page = dir.path().join("report.html");
        let load = chromium.as_deref().map(|c| {
            (0..o.runs)
                .map(|_| {
                    screenshot_time(c, &page, dir.path()).saturating_sub(screenshot_time(
                        c,
                        &empty,
                        dir.path(),
                    ))
                })
                .min()
                .unwrap()
        });
        let _ = writeln!(
            out,
            "| {} × {} | `convctl report{}` | {:.1} s | {:.2} MB | {:.2} MB | {} kB | {} |",
            o.accounts,
            o.per_account,
            if extra.is_empty() { "" } else { " --stats" },
            wall.as_secs_f64(),
            size("report.html") as f64 / 1e6,
            size("report.json") as f64 / 1e6,
            size("report.md") / 1000,
            load.map_or("chromium not found".to_string(), |d| format!(
                "{:.2} s",
                d.as_secs_f64()
            )),
        );
        breakdowns.push((
            if extra.is_empty() { "" } else { " --stats" },
            breakdown(&std::fs::read_to_string(&page).unwrap()),
        ));
        if let Some(keep) = std::env::var_os("CONVCTL_BENCH_KEEP") {
            let mut keep = std::path::PathBuf::from(keep);
            if extra.is_empty() {
                keep.set_extension("nostats.html");
            }
            std::fs::copy(&page, keep).unwrap();
        }
    }
    let _ = writeln!(
        out,
        "\nWhere the bytes of the page go:\n\n| page | stylesheet | fleet and sets | account headings, table heads, warnings | conversion rows | of which sparklines | bytes a conversion (rows) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (variant, b) in &breakdowns {
        let _ = writeln!(
            out,
            "| `convctl report{variant}` | {} kB | {} kB | {} kB | {} kB ({} rows) | {} kB | {} |",
            b.style / 1000,
            b.fleet / 1000,
            b.accounts / 1000,
            b.rows / 1000,
            b.row_count,
            b.sparklines / 1000,
            b.rows / b.row_count.max(1)
        );
    }
    println!("{out}");
}

/// The page's bytes by part.
struct Breakdown {
    style: usize,
    /// Everything before the accounts' section but the stylesheet: the verdict, the counts by
    /// kind, the accounts needing attention, the sets.
    fleet: usize,
    /// The accounts' section but its conversion rows.
    accounts: usize,
    /// The conversion rows (one a line, starting `<tr`).
    rows: usize,
    row_count: usize,
    /// The Braille pattern characters of the sparklines (3 bytes each).
    sparklines: usize,
}

fn breakdown(page: &str) -> Breakdown {
    let style = page
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or(0, |(css, _)| css.len());
    let start = page.find("<section id=accounts>").unwrap_or(page.len());
    let (before, section) = page.split_at(start);
    let rows: Vec<&str> = section
        .lines()
        .filter(|line| line.starts_with("<tr"))
        .collect();
    let row_bytes: usize = rows.iter().map(|r| r.len() + 1).sum();
    Breakdown {
        style,
        fleet: before.len() - style,
        accounts: section.len() - row_bytes,
        rows: row_bytes,
        row_count: rows.len(),
        sparklines: section
            .chars()
            .filter(|c| ('\u{2800}'..='\u{28ff}').contains(c))
            .count()
            * 3,
    }
}

/// Wall time of a headless Chromium screenshot of `page` (a fresh profile each time).
fn screenshot_time(chromium: &Path, page: &Path, work: &Path) -> Duration {
    let profile = tempfile::tempdir_in(work).unwrap();
    let started = Instant::now();
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", work.join("shot.png").display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run chromium");
    assert!(status.success());
    started.elapsed()
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}
