//! Durations as people write them on the command line and in manifests: `90s`, `10m`, `36h`,
//! `2d`, `1w`, `1h30m`, `2.5s` (jiff's friendly format) or ISO 8601 (`PT10M`, `P2D`). A day is
//! 24 hours and a week 7 days; months and years are refused, having no fixed length.
//!
//! One parser for `--timeout`, `--expect-fire-within` and the manifest's `expect_fire_within`,
//! so that a duration written for one is written the same way for the others.

use std::time::Duration;

/// What is wrong with a duration's text; its `Display` names the text and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{0}` has no unit; write a duration such as 90s, 10m, 36h or 2d")]
    NoUnit(String),
    #[error("`{text}` is not a duration ({why}); write a duration such as 90s, 10m, 36h or 2d")]
    Invalid { text: String, why: String },
    #[error("`{0}` is negative; write a duration such as 90s, 10m, 36h or 2d")]
    Negative(String),
}

/// Parses a duration (see the module documentation). `0` alone is zero.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(DurationError::NoUnit(text.to_string()));
    }
    let invalid = |why: String| DurationError::Invalid {
        text: text.to_string(),
        why,
    };
    let span: jiff::Span = text
        .parse()
        .map_err(|e: jiff::Error| invalid(e.to_string()))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(invalid(
            "months and years have no fixed length; count in days or weeks".to_string(),
        ));
    }
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| invalid(e.to_string()))?;
    Duration::try_from(signed).map_err(|_| DurationError::Negative(text.to_string()))
}

/// A duration as a person reads it back, in whole days, hours, minutes and seconds: `2d`,
/// `30d`, `1d 12h`, `1h 30m`.
pub fn duration_text(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_and_iso_durations_with_days_and_weeks() {
        for (text, secs) in [
            ("90s", 90.0),
            ("10m", 600.0),
            ("1h30m", 5400.0),
            ("2.5s", 2.5),
            ("PT2M", 120.0),
            ("2d", 172_800.0),
            ("36h", 129_600.0),
            ("1w", 604_800.0),
            ("P2D", 172_800.0),
            ("1 day", 86_400.0),
            ("0", 0.0),
        ] {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_secs_f64(secs),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        for bad in ["90", "ten minutes", "-5s", "", "1mo", "1y"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("90s, 10m, 36h or 2d"), "{bad}: {e}");
        }
        assert!(
            parse_duration("1mo")
                .unwrap_err()
                .to_string()
                .contains("months and years")
        );
    }

    #[test]
    fn durations_read_back_in_whole_units() {
        assert_eq!(duration_text(Duration::from_secs(172_800)), "2d");
        assert_eq!(duration_text(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(duration_text(Duration::from_secs(691_200)), "8d");
    }
}
