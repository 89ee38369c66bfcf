//! The Marketing API's version calendar: every Graph API version convctl knows, when Meta
//! released it and when it expires. The one table both sides read: the emulator retires a
//! version on its expiry date (code 2635) and the client warns ahead of it.
//!
//! Meta publishes an expiry date for most versions (its version table; reference: Addresses,
//! versions). Where none is published, the expiry taken is Meta's minimum promise, 90 days
//! after the successor's release: the less convenient reading, since the real date has always
//! come later. The newest version has no successor, so no expiry is known for it.
//!
//! Pure data and date arithmetic: no clock. Callers pass the day they judge by (`today`), so
//! that tests never depend on the real date.

use jiff::ToSpan;
use jiff::civil::{Date, date};
use std::fmt;

/// One Marketing API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersion {
    /// `v26.0`.
    pub name: &'static str,
    pub released: Date,
    /// The expiry Meta published, when it did.
    pub published_expiry: Option<Date>,
}

/// Every version convctl knows, oldest first (Meta's version table, as the reference quotes it).
pub const CALENDAR: &[ApiVersion] = &[
    ApiVersion {
        name: "v24.0",
        released: date(2025, 10, 8),
        published_expiry: Some(date(2026, 11, 10)),
    },
    ApiVersion {
        name: "v25.0",
        released: date(2026, 2, 18),
        published_expiry: Some(date(2027, 2, 23)),
    },
    ApiVersion {
        name: "v26.0",
        released: date(2026, 7, 29),
        published_expiry: None,
    },
    ApiVersion {
        name: "v27.0",
        released: date(2026, 11, 4),
        published_expiry: None,
    },
];

/// Where Meta publishes no expiry, a version lasts at least this many days after its
/// successor's release ("at least 90 days").
pub const DAYS_AFTER_SUCCESSOR: i32 = 90;

/// How far ahead the client warns that the version in use expires.
pub const NOTICE_DAYS: i32 = 60;

/// When a version expires, and how that is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Meta published this date.
    Published(Date),
    /// No date is published: 90 days after `successor`'s release, the least Meta promises.
    AfterSuccessor {
        on: Date,
        successor: &'static ApiVersion,
    },
}

impl Expiry {
    /// The first day the version is no longer served.
    pub fn date(self) -> Date {
        match self {
            Expiry::Published(on) | Expiry::AfterSuccessor { on, .. } => on,
        }
    }
}

impl ApiVersion {
    /// When this version expires; `None` for the newest, which has no successor yet.
    pub fn expiry(&self) -> Option<Expiry> {
        if let Some(on) = self.published_expiry {
            return Some(Expiry::Published(on));
        }
        let successor = self.successor()?;
        let on = successor
            .released
            .checked_add(DAYS_AFTER_SUCCESSOR.days())
            .unwrap_or(successor.released);
        Some(Expiry::AfterSuccessor { on, successor })
    }
}

impl ApiVersion {
    /// The next version Meta released, when there is one yet.
    pub fn successor(&self) -> Option<&'static ApiVersion> {
        CALENDAR
            .iter()
            .filter(|v| number(v.name) > number(self.name))
            .min_by_key(|v| number(v.name))
    }
}

/// The version called `name` (`v26.0`), when convctl knows it.
pub fn find(name: &str) -> Option<&'static ApiVersion> {
    CALENDAR.iter().find(|v| v.name == name.trim())
}

/// The newest version convctl knows.
pub fn newest() -> &'static ApiVersion {
    CALENDAR
        .iter()
        .max_by_key(|v| number(v.name))
        .expect("the calendar is not empty")
}

/// The oldest version convctl knows.
pub fn oldest() -> &'static ApiVersion {
    CALENDAR
        .iter()
        .min_by_key(|v| number(v.name))
        .expect("the calendar is not empty")
}

/// What the calendar says about a version on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Served; it expires on that day when known (`None`: the newest, no successor yet).
    Served(Option<Expiry>),
    /// Not served since its expiry.
    Expired(Expiry),
    /// Known, but not released yet on that day.
    NotReleased(Date),
    /// Older than every version in the calendar: long retired.
    Older,
    /// Not in the calendar and newer than its oldest (a version released after this convctl,
    /// or no version at all).
    Unknown,
}

/// The standing of the version called `name` on `today`.
pub fn standing(name: &str, today: Date) -> Standing {
    let Some(version) = find(name) else {
        return match number(name) {
            Some(n) if Some(n) < number(oldest().name) => Standing::Older,
            _ => Standing::Unknown,
        };
    };
    if today < version.released {
        return Standing::NotReleased(version.released);
    }
    match version.expiry() {
        Some(expiry) if today >= expiry.date() => Standing::Expired(expiry),
        expiry => Standing::Served(expiry),
    }
}

/// Why a person should change the version they use, on `today`: it expires within
/// [`NOTICE_DAYS`], has expired, or is older than every known version. `None` when it is fine
/// (or unknown: a newer version than this convctl knows says nothing about its expiry).
pub fn notice(name: &str, today: Date) -> Option<Notice> {
    let kind = match standing(name, today) {
        Standing::Served(Some(expiry)) => {
            let days = (expiry.date() - today).get_days();
            if days > NOTICE_DAYS {
                return None;
            }
            NoticeKind::ExpiresSoon { expiry, days }
        }
        Standing::Expired(expiry) => NoticeKind::Expired(expiry),
        Standing::Older => NoticeKind::Older,
        Standing::Served(None) | Standing::NotReleased(_) | Standing::Unknown => return None,
    };
    let instead = CALENDAR
        .iter()
        .rev()
        .find(|v| {
            v.name != name.trim()
                && today >= v.released
                && v.expiry()
                    .is_none_or(|e| (e.date() - today).get_days() > NOTICE_DAYS)
        })
        .map(|v| v.name);
    Some(Notice {
        version: find(name).map_or_else(|| name.trim().to_string(), |v| v.name.to_string()),
        kind,
        instead,
    })
}

/// A reason to change the API version in use (see [`notice`]). `Display` is one sentence for
/// a person, naming the date; the caller adds how to change it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub version: String,
    pub kind: NoticeKind,
    /// The version to use instead: the newest known one that is not about to expire.
    pub instead: Option<&'static str>,
}

/// What the calendar says about the version in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// It expires in `days` days (at least 1: on the day itself it has expired).
    ExpiresSoon {
        expiry: Expiry,
        days: i32,
    },
    Expired(Expiry),
    Older,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = &self.version;
        match self.kind {
            NoticeKind::ExpiresSoon {
                expiry: Expiry::Published(on),
                days,
            } => write!(
                f,
                "Graph API {version} expires on {on} (in {}): from that day Meta refuses calls to it (code 2635)",
                in_days(days)
            ),
            NoticeKind::ExpiresSoon {
                expiry: Expiry::AfterSuccessor { on, successor },
                days,
            } => write!(
                f,
                "Graph API {version} may expire on {on} (in {}): Meta has published no date for it and promises only {DAYS_AFTER_SUCCESSOR} days after its successor ({}, released {}); from then on Meta may refuse calls to it (code 2635)",
                in_days(days),
                successor.name,
                successor.released
            ),
            NoticeKind::Expired(Expiry::Published(on)) => write!(
                f,
                "Graph API {version} expired on {on}: Meta refuses calls to it (code 2635)"
            ),
            NoticeKind::Expired(Expiry::AfterSuccessor { on, successor }) => write!(
                f,
                "Graph API {version} may have expired on {on} ({DAYS_AFTER_SUCCESSOR} days after {} was released; Meta published no date): Meta may refuse calls to it (code 2635)",
                successor.name
            ),
            NoticeKind::Older => write!(
                f,
                "Graph API {version} is older than every version this convctl knows (the oldest, {}, expires on {}): Meta has retired it (code 2635)",
                oldest().name,
                oldest()
                    .expiry()
                    .map_or_else(|| "an unknown day".to_string(), |e| e.date().to_string())
            ),
        }
    }
}

fn in_days(days: i32) -> String {
    match days {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

/// `v26.0` → (26, 0); anything else → `None` (sorts before every version).
fn number(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.trim().strip_prefix('v')?.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    /// The published dates are the table's; v26.0 has none, so 90 days after v27.0's release;
    /// v27.0, the newest, has no successor and so no known expiry.
    #[test]
    fn each_version_expires_on_its_published_date_else_ninety_days_after_its_successor() {
        let expiry = |name: &str| find(name).unwrap().expiry().map(Expiry::date);
        assert_eq!(expiry("v24.0"), Some(day("2026-11-10")));
        assert_eq!(expiry("v25.0"), Some(day("2027-02-23")));
        assert_eq!(expiry("v26.0"), Some(day("2027-02-02")));
        assert_eq!(expiry("v27.0"), None);
        assert_eq!(newest().name, "v27.0");
        assert_eq!(oldest().name, "v24.0");
        assert!(
            CALENDAR.windows(2).all(|w| w[0].released < w[1].released),
            "oldest first"
        );
    }

    #[test]
    fn standing_on_a_day() {
        let on = |name: &str, today: &str| standing(name, day(today));
        assert!(matches!(
            on("v24.0", "2026-11-09"),
            Standing::Served(Some(_))
        ));
        assert!(matches!(on("v24.0", "2026-11-10"), Standing::Expired(_)));
        assert!(matches!(
            on("v25.0", "2026-12-06"),
            Standing::Served(Some(_))
        ));
        assert!(matches!(on("v25.0", "2027-02-23"), Standing::Expired(_)));
        assert_eq!(on("v27.0", "2026-12-06"), Standing::Served(None));
        assert_eq!(
            on("v27.0", "2026-11-03"),
            Standing::NotReleased(day("2026-11-04"))
        );
        assert_eq!(on("v19.0", "2026-12-06"), Standing::Older);
        assert_eq!(on("v28.0", "2026-12-06"), Standing::Unknown);
        assert_eq!(on("v25.5", "2026-12-06"), Standing::Unknown);
        assert_eq!(on("latest", "2026-12-06"), Standing::Unknown);
    }

    /// Sixty days ahead, the day itself, after, and a version older than the calendar; the
    /// newest version is never the subject of a notice, and it is what to use instead.
    #[test]
    fn notices_start_sixty_days_ahead() {
        let say = |name: &str, today: &str| notice(name, day(today)).map(|n| n.to_string());
        assert_eq!(say("v25.0", "2026-12-24"), None, "61 days ahead");
        assert_eq!(
            say("v25.0", "2026-12-25").as_deref(),
            Some(
                "Graph API v25.0 expires on 2027-02-23 (in 60 days): from that day Meta refuses calls to it (code 2635)"
            )
        );
        assert_eq!(
            say("v26.0", "2026-12-06").as_deref(),
            Some(
                "Graph API v26.0 may expire on 2027-02-02 (in 58 days): Meta has published no date for it and promises only 90 days after its successor (v27.0, released 2026-11-04); from then on Meta may refuse calls to it (code 2635)"
            )
        );
        assert_eq!(
            say("v24.0", "2026-12-06").as_deref(),
            Some("Graph API v24.0 expired on 2026-11-10: Meta refuses calls to it (code 2635)")
        );
        assert_eq!(
            say("v19.0", "2026-12-06").as_deref(),
            Some(
                "Graph API v19.0 is older than every version this convctl knows (the oldest, v24.0, expires on 2026-11-10): Meta has retired it (code 2635)"
            )
        );
        assert_eq!(say("v27.0", "2027-06-01"), None);
        assert_eq!(say("v28.0", "2027-06-01"), None, "unknown: nothing to say");
        let n = notice("v25.0", day("2027-02-22")).unwrap();
        assert_eq!(n.instead, Some("v27.0"));
        assert!(n.to_string().contains("(in 1 day)"));
        assert!(
            notice("v25.0", day("2027-02-23"))
                .unwrap()
                .to_string()
                .contains("expired on 2027-02-23")
        );
    }

    /// The default version is in the calendar.
    #[test]
    fn the_default_version_is_known() {
        assert!(find(crate::DEFAULT_API_VERSION).is_some());
    }
}
