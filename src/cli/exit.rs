//! Exit codes a pipeline can branch on (spec section 3).

/// Success: valid, tests pass, plan made, apply done, no drift.
pub const SUCCESS: i32 = 0;
/// Error: bad input, API failure, refused plan, partial apply.
pub const ERROR: i32 = 1;
/// Changes present (`plan --detailed-exitcode`, `drift`).
pub const CHANGES: i32 = 2;
