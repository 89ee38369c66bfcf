//! The binary's side: the clap definition of the command line ([`args`]), the connection to
//! live state a command opens ([`session`]), exit codes ([`exit`]) and one thin shell per
//! command ([`commands`]) that wires parsed options to a library operation and maps its
//! outcome to an exit code. Nothing below `cli` imports it.

pub mod args;
pub mod commands;
pub mod exit;
pub mod session;
