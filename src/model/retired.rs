//! Retired custom conversions: what convctl leaves behind when it may not delete one.
//!
//! Ordinary apps are refused `DELETE` on custom conversions (reference: Custom conversions), so
//! a conversion convctl would delete is *retired* instead: renamed recognisably and with a
//! description that says when and why, everything else untouched, for a person to archive in
//! Events Manager. The name is the only mark the API keeps, so it is the mark convctl reads back:
//! a live conversion whose name starts with `[retired YYYY-MM-DD] ` is retired. It is never
//! matched by name again, never updated again, and still counts toward the account's cap.

use jiff::civil::Date;

/// What a retired conversion's name starts with, before its date.
pub const RETIRED_PREFIX: &str = "[retired ";
/// The API's limit on a custom conversion's name, in characters.
pub const NAME_LIMIT: usize = 100;

/// `[retired 2026-12-06] Purchase`, cut to [`NAME_LIMIT`] characters (the date always kept).
pub fn retired_name(on: Date, name: &str) -> String {
    let mut out = format!("{RETIRED_PREFIX}{on}] ");
    let room = NAME_LIMIT.saturating_sub(out.chars().count());
    out.extend(name.chars().take(room));
    out.trim_end().to_string()
}

/// The description a retired conversion gets: when, why, what to do, and what it said before.
pub fn retired_description(on: Date, why: &str, before: &str) -> String {
    let mut out = format!("Retired by convctl on {on}: {why}. Archive it in Events Manager.");
    if !before.trim().is_empty() {
        out.push_str(" Was: ");
        out.push_str(before.trim());
    }
    out
}

/// Why a conversion was retired rather than deleted: Meta refused the `DELETE`. The
/// description carries it, so that a later plan knows that this app may not delete in the
/// account (see [`retired_after_refusal`]).
pub const WHY_REFUSED: &str =
    "Meta refused to delete it (this app may not delete custom conversions)";
/// Why a conversion was retired rather than deleted: its manifest says `deletion: retire`.
pub const WHY_SETTING: &str = "its manifest says deletion: retire";

/// Was this conversion (name and description as listed) retired by convctl because Meta
/// refused to delete it? Such a conversion shows that deletes are refused in its account.
pub fn retired_after_refusal(name: Option<&str>, description: Option<&str>) -> bool {
    name.and_then(retired_on).is_some()
        && description.is_some_and(|d| {
            d.starts_with("Retired by convctl on ") && d.contains(&format!(": {WHY_REFUSED}."))
        })
}

/// The day a conversion named `name` was retired, when the name says it was.
pub fn retired_on(name: &str) -> Option<Date> {
    let rest = name.strip_prefix(RETIRED_PREFIX)?;
    let (date, _) = rest.split_once("] ").or_else(|| {
        // A name cut to nothing after the date (an empty original) ends with `]`.
        rest.strip_suffix(']').map(|d| (d, ""))
    })?;
    date.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Date {
        "2026-12-06".parse().unwrap()
    }

    #[test]
    fn a_retired_name_says_when_and_reads_back() {
        let name = retired_name(day(), "Purchase");
        assert_eq!(name, "[retired 2026-12-06] Purchase");
        assert_eq!(retired_on(&name), Some(day()));
        assert_eq!(retired_on("Purchase"), None);
        assert_eq!(retired_on("[retired soon] Purchase"), None);
        assert_eq!(retired_on("[retired 2026-12-06]Purchase"), None);
    }

    #[test]
    fn a_long_name_is_cut_to_the_limit_keeping_the_date() {
        let long = "é".repeat(150);
        let name = retired_name(day(), &long);
        assert_eq!(name.chars().count(), NAME_LIMIT);
        assert_eq!(retired_on(&name), Some(day()));
    }

    #[test]
    fn a_retirement_after_a_refused_delete_is_recognised() {
        let name = retired_name(day(), "Purchase");
        let refused = retired_description(day(), WHY_REFUSED, "old");
        let chosen = retired_description(day(), WHY_SETTING, "old");
        assert!(retired_after_refusal(Some(&name), Some(&refused)));
        assert!(!retired_after_refusal(Some(&name), Some(&chosen)));
        assert!(!retired_after_refusal(Some("Purchase"), Some(&refused)));
        assert!(!retired_after_refusal(Some(&name), None));
    }

    #[test]
    fn the_description_says_when_why_and_what_it_was() {
        assert_eq!(
            retired_description(day(), "the app may not delete it", "Purchases over 100"),
            "Retired by convctl on 2026-12-06: the app may not delete it. Archive it in Events Manager. Was: Purchases over 100"
        );
        assert_eq!(
            retired_description(day(), "replaced", " "),
            "Retired by convctl on 2026-12-06: replaced. Archive it in Events Manager."
        );
    }
}
