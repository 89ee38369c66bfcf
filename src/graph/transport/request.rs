//! A request as the client asks it, before authentication is added.

use crate::model::ids::AdAccountId;
use reqwest::Method;
use url::Url;

/// A request before authentication is added.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Full URL without any secret (the transport adds `appsecret_proof`).
    pub(crate) url: Url,
    /// Form fields of a POST.
    pub(crate) form: Option<Vec<(String, String)>>,
    /// The account it concerns (for the per-account limit and usage); `None` when unknown.
    pub(crate) account: Option<AdAccountId>,
    /// Free words for verbose output (`page 2`, `batch of 50`); never a secret.
    pub(crate) note: String,
    /// It concerns many accounts (a batch of their listings; `account` is then `None`): only
    /// the global limit and the app's usage apply to it.
    pub(crate) many_accounts: bool,
    /// What it costs in its account's ad-account score (`model::access_tier`: a read 1, a
    /// write 3, a batch the sum of its entries'; 0 for a request about no account).
    pub(crate) points: u32,
}
