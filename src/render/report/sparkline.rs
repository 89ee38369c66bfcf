//! A sparkline of daily counts as a tiny inline SVG: one path, relative moves, integer
//! heights, a run of unchanged days as one `h`, so that thousands of them keep a report small. The path is drawn on a grid of one
//! unit per day and [`HEIGHT`] units high; the page's CSS scales it.

use std::fmt::Write as _;

/// Height of the grid in units (0 at the top): the most events of the window reach the top.
/// Eight levels keep every step one digit.
pub(crate) const HEIGHT: u64 = 8;

/// The path of the counts (`M0 10l1-3 1 2…`): day `i` at x = `i`, its count scaled to the
/// window's largest. `None` when every day is zero (the page says "no events" instead).
pub(crate) fn path(daily: &[u64]) -> Option<String> {
    let max = daily.iter().copied().max().filter(|m| *m > 0)?;
    let level = |n: u64| -> i64 {
        // Round up, so that a single event never draws as nothing.
        let scaled = (n * HEIGHT).div_ceil(max);
        (HEIGHT - scaled) as i64
    };
    let mut d = String::with_capacity(daily.len() * 4 + 8);
    let mut y = level(daily[0]);
    let _ = write!(d, "M0 {y}");
    // Days without change are one `h` per run; the others share one `l`.
    let mut flat = 0;
    let mut in_line = false;
    for n in &daily[1..] {
        let dy = level(*n) - y;
        y += dy;
        if dy == 0 {
            flat += 1;
            continue;
        }
        if flat > 0 {
            let _ = write!(d, "h{flat}");
            flat = 0;
            in_line = false;
        }
        d.push_str(if in_line { " 1" } else { "l1" });
        in_line = true;
        if dy > 0 {
            d.push(' ');
        }
        let _ = write!(d, "{dy}");
    }
    if flat > 0 {
        let _ = write!(d, "h{flat}");
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_moves_one_day_at_a_time_scaled_to_the_largest() {
        assert_eq!(path(&[0, 4, 8, 8]).unwrap(), "M0 8l1-4 1-4h1");
        assert_eq!(path(&[0, 10, 0]).unwrap(), "M0 8l1-8 1 8");
        assert_eq!(path(&[10, 0]).unwrap(), "M0 0l1 8");
        assert_eq!(path(&[0, 0, 0, 3, 3, 0]).unwrap(), "M0 8h2l1-8h1l1 8");
        assert_eq!(path(&[0, 0, 0]), None);
        // One event among hundreds still shows.
        assert_eq!(path(&[1, 400]).unwrap(), "M0 7l1-7");
    }
}
