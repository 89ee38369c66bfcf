//! A sparkline of daily counts as text: one bar a day, two days to a Braille pattern character
//! (U+2800–U+28FF, 2 columns of 4 dots). 28 days are 14 characters, 42 bytes of UTF-8: about a
//! third of the smallest SVG path of 28 points (a polyline costs at least 4 bytes a point:
//! `l1-3` per day), which is what lets a page of 25,000 conversions stay under 3 MB. The page
//! gives it a colour and a baseline; the bars are 4 dots high.

/// Height of a bar in dots: the most events of the window fill the column.
pub(crate) const LEVELS: u64 = 4;

/// The dots of the left column of a pattern, bottom to top (dots 7, 3, 2, 1).
const LEFT: [u32; 4] = [0x40, 0x04, 0x02, 0x01];
/// The dots of the right column, bottom to top (dots 8, 6, 5, 4).
const RIGHT: [u32; 4] = [0x80, 0x20, 0x10, 0x08];

/// The bars of the counts, oldest day first, each scaled to the window's busiest day (rounded
/// up, so that a single event among hundreds still shows as one dot). `None` when every day is
/// zero (the page leaves the cell empty and says 0 events).
pub(crate) fn bars(daily: &[u64]) -> Option<String> {
    let max = daily.iter().copied().max().filter(|m| *m > 0)?;
    let level = |n: u64| (n * LEVELS).div_ceil(max) as usize;
    let column = |dots: &[u32; 4], n: u64| dots[..level(n)].iter().sum::<u32>();
    let text = daily
        .chunks(2)
        .map(|pair| {
            let left = column(&LEFT, pair[0]);
            let right = pair.get(1).map_or(0, |n| column(&RIGHT, *n));
            char::from_u32(0x2800 + left + right).expect("a Braille pattern")
        })
        .collect();
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dots of each day, read back from the patterns: `[left, right]` heights per character.
    fn heights(text: &str) -> Vec<usize> {
        text.chars()
            .flat_map(|c| {
                let bits = c as u32 - 0x2800;
                let count = |dots: &[u32; 4]| dots.iter().take_while(|d| bits & **d != 0).count();
                [count(&LEFT), count(&RIGHT)]
            })
            .collect()
    }

    #[test]
    fn each_day_is_a_bar_scaled_to_the_busiest_day() {
        assert_eq!(bars(&[0, 4, 8, 8]).unwrap(), "\u{28a0}\u{28ff}");
        assert_eq!(heights(&bars(&[0, 4, 8, 8]).unwrap()), [0, 2, 4, 4]);
        assert_eq!(heights(&bars(&[0, 10, 0]).unwrap()), [0, 4, 0, 0]);
        assert_eq!(heights(&bars(&[10, 0]).unwrap()), [4, 0]);
        assert_eq!(
            heights(&bars(&[0, 0, 0, 3, 3, 0]).unwrap()),
            [0, 0, 0, 4, 4, 0]
        );
        assert_eq!(heights(&bars(&[1, 2, 3, 4]).unwrap()), [1, 2, 3, 4]);
        assert_eq!(bars(&[0, 0, 0]), None);
        // One event among hundreds still shows as a dot.
        assert_eq!(heights(&bars(&[1, 400]).unwrap()), [1, 4]);
    }

    #[test]
    fn twenty_eight_days_are_fourteen_characters() {
        let days: Vec<u64> = (0..28).map(|d| d * 37 % 11).collect();
        let text = bars(&days).unwrap();
        assert_eq!(text.chars().count(), 14);
        assert_eq!(text.len(), 42, "three bytes of UTF-8 each");
        assert_eq!(heights(&text).len(), 28);
        // A day without events is an empty column, never a missing one: the bars keep their
        // place, and a window of zeros but one draws that one day where it happened.
        let mut one = vec![0; 28];
        one[27] = 5;
        let text = bars(&one).unwrap();
        assert_eq!(text.chars().count(), 14);
        assert!(text.starts_with("\u{2800}\u{2800}"));
        assert_eq!(heights(&text)[27], 4);
    }
}
