//! How commands write to the terminal: plans and reports streamed to a buffered stdout,
//! colours decided once (`--color`, `NO_COLOR`, a terminal or not), and progress on stderr
//! only on a terminal and never with `--quiet` (never in pipes or CI logs).

use crate::cli::args::{ColorChoice, GlobalOptions, PlanFormat};
use crate::cli::failure::Failure;
use crate::plan::PlanDocument;
use crate::render::{self, Mode, RenderOptions};
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

/// Renders the document straight to stdout (buffered), never as one string: a plan of 50,000
/// creates is some 16 MB of text. An error (stdout closed) says so; nothing was printed whole.
pub fn print_doc(
    doc: &PlanDocument,
    format: PlanFormat,
    mode: Mode,
    global: &GlobalOptions,
) -> Result<(), Failure> {
    let color = color_stdout(global);
    write_stdout(|out| match format {
        PlanFormat::Text => render::text::render_to(out, doc, RenderOptions { mode, color }),
        PlanFormat::Json => render::json::render_to(out, doc),
        PlanFormat::Markdown => render::markdown::render_to(out, doc, mode),
    })
    .map_err(|e| Failure::new(format!("cannot write the plan to stdout: {e}")))
}

/// Runs `write` on a buffered, locked stdout and flushes it.
pub fn write_stdout(
    write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    write(&mut out)?;
    out.flush()
}

/// Colours on stdout: `--color always`, or `auto` on a terminal without `NO_COLOR`.
pub fn color_stdout(global: &GlobalOptions) -> bool {
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
pub fn listing_spinner(accounts: usize, global: &GlobalOptions) -> indicatif::ProgressBar {
    if !progress_allowed(global) {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("reading {accounts} account(s)"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// A progress bar on stderr counting writes.
pub fn progress_bar(total: u64, global: &GlobalOptions) -> indicatif::ProgressBar {
    if !progress_allowed(global) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} writes {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Warnings on stderr, unless `--quiet`.
pub fn warn(global: &GlobalOptions, lines: impl IntoIterator<Item = impl std::fmt::Display>) {
    if !global.quiet {
        for line in lines {
            eprintln!("{line}");
        }
    }
}
