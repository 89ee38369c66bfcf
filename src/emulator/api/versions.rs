//! Which Graph API versions are served, and which answer code 2635 (retired).

use super::Emulator;
use crate::emulator::api_error::ApiError;

/// Known versions and their release dates (unix seconds), oldest first (reference: versions).
const VERSIONS: &[(&str, i64)] = &[
    ("v24.0", 1_759_881_600),
    ("v25.0", 1_771_372_800),
    ("v26.0", 1_785_283_200),
];
/// The Marketing API keeps a version ~90 days after its successor ships...
const ADS_GRACE_SECS: i64 = 90 * 86_400;
/// ...the Conversions API two years (Meta's Conversions API reference).
const CAPI_GRACE_SECS: i64 = 2 * 365 * 86_400;

impl Emulator {
    pub(crate) fn check_version(
        &self,
        version: Option<&str>,
        capi: bool,
        rest: &[&str],
    ) -> Result<(), ApiError> {
        let Some(version) = version else {
            return Ok(());
        };
        let Some(pos) = VERSIONS.iter().position(|(v, _)| *v == version) else {
            let number: f64 = version[1..].parse().unwrap_or(0.0);
            return if number < 24.0 {
                Err(ApiError::deprecated_version())
            } else {
                Err(ApiError::unknown_path(&format!(
                    "/{version}/{}",
                    rest.join("/")
                )))
            };
        };
        let Some((_, successor_shipped)) = VERSIONS.get(pos + 1) else {
            return Ok(());
        };
        let grace = if capi {
            CAPI_GRACE_SECS
        } else {
            ADS_GRACE_SECS
        };
        if Self::now() > successor_shipped + grace {
            return Err(ApiError::deprecated_version());
        }
        Ok(())
    }
}

pub(super) fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.splitn(2, '.');
        matches!((parts.next(), parts.next()), (Some(a), Some(b))
            if !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()))
    })
}
