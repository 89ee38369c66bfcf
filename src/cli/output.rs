//! How commands write to the terminal: plans and reports streamed to a buffered stdout,
//! colours decided once (`--color`, `NO_COLOR`, a terminal or not), progress on stderr only
//! on a terminal and never with `--quiet` (never in pipes or CI logs), and lines of either
//! stream written above the progress bar while it is drawn.

use crate::cli::args::{BoundArgs, ColorChoice, GlobalOptions, PlanFormat};
use crate::cli::failure::Failure;
use crate::plan::PlanDocument;
use crate::render::{self, Mode, RenderOptions};
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

/// Renders the document straight to stdout (buffered), never as one string: a plan of 50,000
/// creates is some 16 MB of text. An error (stdout closed) says so; nothing was printed whole.
pub(crate) fn print_doc(
    doc: &PlanDocument,
    format: PlanFormat,
    mode: Mode,
    global: &GlobalOptions,
) -> Result<(), Failure> {
    print_report(doc, format, mode, global, None)
}

/// [`print_doc`], markdown within `bound` (see [`markdown_bound`]).
pub(crate) fn print_report(
    doc: &PlanDocument,
    format: PlanFormat,
    mode: Mode,
    global: &GlobalOptions,
    bound: Option<&MarkdownBound>,
) -> Result<(), Failure> {
    let color = color_stdout(global);
    let bound = bound.map(|b| render::markdown::Bound {
        max_chars: b.max_chars,
        full_plan_url: b.full_plan_url.as_deref(),
    });
    write_stdout(|out| match format {
        PlanFormat::Text => render::text::render_to(out, doc, RenderOptions { mode, color }),
        PlanFormat::Json => render::json::render_to(out, doc),
        PlanFormat::Markdown => render::markdown::render_bounded_to(out, doc, mode, bound.as_ref()),
    })
    .map_err(|e| Failure::new(format!("cannot write the plan to stdout: {e}")))
}

/// `--max-chars` and `--full-plan-url` of `plan`, `drift` and `show`, checked.
pub(crate) struct MarkdownBound {
    max_chars: usize,
    full_plan_url: Option<String>,
}

/// The bound of markdown output: `--max-chars N` (0: none), by default one GitHub comment.
/// Only markdown has one; `--max-chars` with another format is a mistake worth saying.
pub(crate) fn markdown_bound(
    report: &BoundArgs,
    format: PlanFormat,
) -> Result<Option<MarkdownBound>, Failure> {
    if format != PlanFormat::Markdown {
        if report.max_chars.is_some() {
            return Err(Failure::new(
                "--max-chars bounds markdown; add --format markdown",
            ));
        }
        return Ok(None);
    }
    if let Some(url) = &report.full_plan_url {
        let parsed = url::Url::parse(url).map_err(|e| {
            Failure::new(format!(
                "--full-plan-url (or CONVCTL_FULL_PLAN_URL) is not a URL: {e}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Failure::new(format!(
                "--full-plan-url (or CONVCTL_FULL_PLAN_URL) must be an http(s) URL, not {}",
                parsed.scheme()
            )));
        }
    }
    match report.max_chars.unwrap_or(render::markdown::COMMENT_LIMIT) {
        0 => Ok(None),
        n if n < 1_000 => Err(Failure::new(format!(
            "--max-chars {n} leaves no room for the totals; give at least 1000 (0: no limit)"
        ))),
        max_chars => Ok(Some(MarkdownBound {
            max_chars,
            full_plan_url: report.full_plan_url.clone(),
        })),
    }
}

/// A saved document, for `--show`.
pub(crate) fn load_shown(file: &std::path::Path) -> Result<PlanDocument, Failure> {
    PlanDocument::load(file).map_err(Failure::new)
}

/// Runs `write` on a buffered, locked stdout and flushes it. A reader that went away
/// (`convctl plan | head`) is not an error: what it read is all it wanted, so the rest is
/// not written and the command goes on (saving `--out`, keeping its exit code).
pub(crate) fn write_stdout(
    write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    let written = write(&mut out).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            // The buffer still holds what could not be written: drop it without a last try.
            let _ = out.into_parts();
            Ok(())
        }
        other => other,
    }
}

/// Colours on stdout: `--color always`, or `auto` on a terminal without `NO_COLOR`.
pub(crate) fn color_stdout(global: &GlobalOptions) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Whether progress may be drawn on stderr.
fn progress_allowed(global: &GlobalOptions) -> bool {
    !global.quiet && io::stderr().is_terminal()
}

/// A spinner on stderr while accounts are listed.
pub(crate) fn listing_spinner(accounts: usize, global: &GlobalOptions) -> indicatif::ProgressBar {
    if !progress_allowed(global) {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("reading {accounts} account(s)"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// The progress bar on screen, if any: [`stderr_line`] writes above it.
static BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Lines written with [`stderr_line`] go above `bar` while it is drawn.
pub(crate) fn lines_above(bar: &indicatif::ProgressBar) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
}

/// One line on stderr, above the progress bar while one is drawn (never through it).
pub(crate) fn stderr_line(line: &str) {
    let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) if !bar.is_hidden() && !bar.is_finished() => bar.println(line),
        _ => eprintln!("{line}"),
    }
}

/// Writes on stdout while a progress bar may be drawn on stderr: the bar is taken off the
/// screen while `write` runs and drawn again below what it wrote, so that a terminal showing
/// both streams keeps the lines whole and the bar last. Without a bar, [`write_stdout`].
pub(crate) fn stdout_above_bar(
    write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) if !bar.is_hidden() && !bar.is_finished() => bar.suspend(|| write_stdout(write)),
        _ => write_stdout(write),
    }
}

/// Warnings on stderr, unless `--quiet`.
pub(crate) fn warn(
    global: &GlobalOptions,
    lines: impl IntoIterator<Item = impl std::fmt::Display>,
) {
    if !global.quiet {
        for line in lines {
            eprintln!("{line}");
        }
    }
}
