//! (reconcile: to be built)
