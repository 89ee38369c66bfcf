//! The HTML report in a real browser: headless Chromium renders it, a screenshot is taken, and
//! the DOM holds the accounts, the findings and the hostile name as text (never as markup).
//! Chromium is required in CI (`.ci/run` installs it).

use super::fleet::{HOSTILE, fleet, report};
use crate::support::tools;

#[test]
fn chromium_renders_the_report_with_every_account_and_finding() {
    let Some(chromium) = tools::require("chromium") else {
        return;
    };
    let env = fleet();
    let run = report(&env, &["--stats", "--out", "report.html"]);
    assert_eq!(run.code, 0, "{run}");
    let page = env.path("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing is loaded from anywhere, and there is no script.
    for loaded in [
        "<script",
        "src=",
        "href=\"http",
        "url(",
        "@import",
        "<link",
        "<img",
    ] {
        assert!(!html.contains(loaded), "the page has {loaded}");
    }
    let rendering = tools::render_html(&chromium, &page, 1280, 2400);
    assert!(rendering.png.starts_with(b"\x89PNG"), "a PNG screenshot");
    assert!(
        rendering.png.len() > 20_000,
        "a page, not a blank: {} bytes",
        rendering.png.len()
    );
    // Kept for a person to look at: the page and its rendering.
    let kept = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(kept.join("report-fleet.png"), &rendering.png).unwrap();
    std::fs::write(kept.join("report-fleet.html"), &html).unwrap();
    let dom = &rendering.dom;
    for account in ["act_1", "act_2", "act_3"] {
        assert!(
            dom.contains(&format!("id=\"a-{account}\"")),
            "{account} has its section"
        );
    }
    for words in [
        "flagged by Meta",
        "never fired",
        "stopped firing",
        "unmanaged",
        "retired",
        "archived",
        "Accounts needing attention (2 of 3)",
        "Diabetes test kit",
        "Add to cart",
        "0 of 1 account(s) in line",
    ] {
        assert!(dom.contains(words), "the DOM says {words:?}");
    }
    assert!(!dom.contains("<script"), "the hostile name stays text");
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"Quotes\""),
        "the hostile name shows as written: {HOSTILE}"
    );
    // A sparkline per conversion with events: a bar a day in Braille patterns, two days a
    // character. act_1's Purchase had 3 events on 2026-11-20, 9 on 12-04 and 12 on 12-05 (the
    // window is 2026-11-09 to 12-06): one dot, three dots and four dots, the rest empty.
    let sparklines: Vec<&str> = dom
        .split("<td>")
        .filter_map(|cell| cell.split('<').next())
        .filter(|cell| {
            cell.chars().count() == 14
                && cell.chars().all(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
        })
        .collect();
    assert_eq!(
        sparklines.len(),
        4,
        "Purchase and Checkout of act_1, Signup, act_3's Purchase: {sparklines:?}"
    );
    assert!(
        dom.contains("<td>Purchase</td><td>⠀⠀⠀⠀⠀⢀⠀⠀⠀⠀⠀⠀⢰⡇</td><td>24</td>"),
        "act_1's Purchase, day by day"
    );
    // The rows that fired today have no Health cell in the markup: the stylesheet draws it.
    assert!(
        dom.contains("<tr><td>Signup</td><td>⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⢸</td><td>2\n</td></tr>"),
        "act_2's Signup fired today (2 events, the last day: a full bar)"
    );
}
