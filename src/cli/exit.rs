//! Exit codes a pipeline can branch on (docs/cli.md).

/// Success: valid, tests pass, plan made, apply done, no drift.
pub const SUCCESS: i32 = 0;
/// Error: bad input, API failure, refused plan, partial apply.
pub const ERROR: i32 = 1;
/// Changes present (`plan --detailed-exitcode`, `drift`).
pub const CHANGES: i32 = 2;

/// Whether writing a result failed for a reason worth an error. A closed pipe is not one: the
/// reader (`convctl validate | head`) has what it wanted, so output stops quietly and the
/// command keeps the exit code it decided on.
pub(crate) fn write_failed<T>(result: &std::io::Result<T>) -> bool {
    matches!(result, Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe)
}
