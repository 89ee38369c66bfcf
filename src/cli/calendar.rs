//! The Graph API version in use, judged by the version calendar (`model::api_versions`): the
//! day it is judged by (`CONVCTL_TODAY`, else the real date, so that tests never depend on
//! it), and the warning every command that calls the API gives once when the version expires
//! within 60 days (or has), with what to change.

use crate::model::api_versions;
use jiff::civil::Date;

/// The variable that sets the day the calendar is judged by (`YYYY-MM-DD`).
pub(crate) const TODAY_VAR: &str = "CONVCTL_TODAY";

/// The day the calendar is judged by: `CONVCTL_TODAY` when set, else today (UTC).
pub(crate) fn today() -> Result<Date, String> {
    today_from(std::env::var(TODAY_VAR).ok().as_deref())
}

fn today_from(value: Option<&str>) -> Result<Date, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(text) => text.parse().map_err(|_| {
            format!(
                "{TODAY_VAR}={text:?} is not a date: write it as YYYY-MM-DD, or unset it to use today's"
            )
        }),
        None => Ok(jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()),
    }
}

/// What to say about `version` on `today`, when anything: the calendar's notice and what to
/// change. `None` when the version is fine (or newer than this convctl knows).
pub(crate) fn version_notice(version: &str, today: Date) -> Option<String> {
    let notice = api_versions::notice(version, today)?;
    let change = match notice.instead {
        Some(other) => format!(
            "Switch to {other} with --api-version {other} (or CONVCTL_API_VERSION={other}), or upgrade convctl"
        ),
        None => "Upgrade convctl: a newer one knows newer versions".to_string(),
    };
    Some(format!("{notice}. {change}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_the_variable_when_set() {
        assert_eq!(
            today_from(Some(" 2027-01-10 ")).unwrap(),
            "2027-01-10".parse::<Date>().unwrap()
        );
        assert!(today_from(None).is_ok());
        assert_eq!(
            today_from(Some("10/01/2027")).unwrap_err(),
            "CONVCTL_TODAY=\"10/01/2027\" is not a date: write it as YYYY-MM-DD, or unset it to use today's"
        );
    }

    #[test]
    fn the_notice_says_the_date_and_what_to_change() {
        let day = |d: &str| d.parse::<Date>().unwrap();
        assert_eq!(version_notice("v27.0", day("2026-12-06")), None);
        assert_eq!(
            version_notice("v25.0", day("2027-01-10")).as_deref(),
            Some(
                "Graph API v25.0 expires on 2027-02-23 (in 44 days): from that day Meta refuses calls to it (code 2635). Switch to v27.0 with --api-version v27.0 (or CONVCTL_API_VERSION=v27.0), or upgrade convctl."
            )
        );
    }
}
