//! The convctl binary: parse the command line, run it, map the outcome to an exit code.
//!
//! A usage error exits 1, not clap's default 2: pipelines read 2 as "changes present"
//! (`drift`, `plan --detailed-exitcode`), so a mistyped option must never look like drift.

fn main() {
    end_quietly_on_broken_pipe();
    let cli = match convctl::cli::args::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            std::process::exit(if error.use_stderr() {
                convctl::cli::exit::ERROR
            } else {
                convctl::cli::exit::SUCCESS // --help, --version
            });
        }
    };
    std::process::exit(convctl::cli::run(cli));
}

/// `convctl plan | head`, `convctl man 2>&1 | head`: once the reader has gone, `print!` and
/// `eprint!` panic with "failed printing to stdout: Broken pipe". That is not a bug to report
/// with a backtrace but the end of the conversation: the reader has what it wanted, so exit 0
/// without a word (as the paths that write explicitly do, see `cli::exit::write_failed`).
/// Every other panic goes to the default hook. (Restoring SIGPIPE's default action instead
/// would also let a write to a reset *socket* kill the process in the middle of an apply.)
fn end_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        let printing = message.starts_with("failed printing to stdout")
            || message.starts_with("failed printing to stderr");
        if printing && message.to_ascii_lowercase().contains("broken pipe") {
            std::process::exit(convctl::cli::exit::SUCCESS);
        }
        default(info);
    }));
}
