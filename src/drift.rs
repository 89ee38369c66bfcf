//! (reconcile: drift lands with the commands)
