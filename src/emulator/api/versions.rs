//! Which Graph API versions are served, and which answer code 2635 (retired), judged by the
//! version calendar (`model::api_versions`) on the emulator's day (`EmulatorConfig::today`,
//! else the real date in UTC).
//!
//! Custom conversions: a version is served from its release until its expiry date (Meta's
//! published one, else 90 days after its successor), and answers 2635 from that day on. The
//! Conversions API (`/events`) keeps a version two years after its successor's release (seed
//! 002: "every version is supported for at least two years"). A version older than the
//! calendar is retired; one not in it, or not released yet on that day, is an unknown path
//! (code 2500).

use super::Emulator;
use crate::emulator::api_error::ApiError;
use crate::model::api_versions::{self, Standing};
use jiff::ToSpan;
use jiff::civil::Date;

/// The Conversions API keeps a version this many years after its successor's release.
const CAPI_YEARS_AFTER_SUCCESSOR: i16 = 2;

impl Emulator {
    /// The day versions are judged by.
    pub(crate) fn today(&self) -> Date {
        self.config.today.unwrap_or_else(|| {
            jiff::Timestamp::now()
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date()
        })
    }

    pub(crate) fn check_version(
        &self,
        version: Option<&str>,
        capi: bool,
        rest: &[&str],
    ) -> Result<(), ApiError> {
        let Some(version) = version else {
            return Ok(());
        };
        let today = self.today();
        let unknown = || ApiError::unknown_path(&format!("/{version}/{}", rest.join("/")));
        match api_versions::standing(version, today) {
            Standing::Served(_) => Ok(()),
            Standing::Expired(_)
                if capi
                    && api_versions::find(version)
                        .and_then(|v| v.successor())
                        .is_some_and(|s| capi_served(s.released, today)) =>
            {
                Ok(())
            }
            Standing::Expired(_) | Standing::Older => Err(ApiError::deprecated_version()),
            Standing::NotReleased(_) | Standing::Unknown => Err(unknown()),
        }
    }
}

/// Whether the Conversions API still serves a version whose successor was released on
/// `successor_released`.
fn capi_served(successor_released: Date, today: Date) -> bool {
    successor_released
        .checked_add(CAPI_YEARS_AFTER_SUCCESSOR.years())
        .is_ok_and(|until| today < until)
}

pub(super) fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.splitn(2, '.');
        matches!((parts.next(), parts.next()), (Some(a), Some(b))
            if !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()))
    })
}
