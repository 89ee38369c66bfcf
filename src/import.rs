//! (reconcile: import lands with the commands)
