//! Review of the markdown plan (issue 6: "for a pull-request comment"): user text (conversion
//! names from manifests or from live state, warnings, file names) must never break the comment's
//! layout — close a `<details>` block, open HTML tags, split a table row, end a code fence —
//! nor turn into markdown (emphasis, links) or @mentions in a GitHub comment.

use crate::support::Harness;
use serde_json::json;

/// Live names no manifest would accept as YAML plain scalars, and one with a line break.
const HOSTILE_LIVE: [&str; 3] = [
    "</details> <script>x</script> | a | b",
    "two\nlines\n````\n</details>",
    "@octocat *em* [link](https://evil.example) `tick`",
];

fn plan_markdown(env: &Harness) -> String {
    let run = env.run(&["plan", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{run}");
    run.stdout
}

fn seed_hostile(env: &Harness, account: &str) {
    let conversions: Vec<_> = HOSTILE_LIVE
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"account": account, "name": name, "custom_event_type": "PURCHASE",
                   "rule": {"url": {"i_contains": format!("n{i}")}}})
        })
        .collect();
    env.seed(json!(conversions));
}

/// The layout checks: balanced `<details>`, every fence closed by its own length, table rows
/// with exactly as many cell separators as the header, no raw user tag.
fn assert_layout_intact(md: &str) {
    let mut open = 0i32;
    let mut fence: Option<usize> = None;
    let mut columns: Option<usize> = None;
    for line in md.lines() {
        let ticks = line.chars().take_while(|c| *c == '`').count();
        if let Some(len) = fence {
            if ticks >= len && line.trim_end().chars().all(|c| c == '`') {
                fence = None;
            }
            continue;
        }
        if ticks >= 3 {
            fence = Some(ticks);
            continue;
        }
        open += line.matches("<details>").count() as i32;
        open -= line.matches("</details>").count() as i32;
        assert!(open >= 0, "a </details> closes more than was opened:\n{md}");
        assert!(
            !line.contains("<script") && !line.contains("<img"),
            "raw user HTML outside a code block: {line}\n{md}"
        );
        if line.starts_with('|') {
            let separators = unescaped_pipes(line);
            match columns {
                None => columns = Some(separators),
                Some(n) => assert_eq!(separators, n, "a table row is split: {line}\n{md}"),
            }
        }
    }
    assert_eq!(fence, None, "a code fence is left open:\n{md}");
    assert_eq!(open, 0, "unbalanced <details>:\n{md}");
}

fn unescaped_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        if c == '|' && !escaped {
            count += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    count
}

#[test]
fn hostile_names_in_actions_keep_the_comment_layout() {
    let env = Harness::new();
    seed_hostile(&env, "act_1");
    // prune: every hostile live conversion becomes a delete action.
    env.write(
        "conversions/a | <b>.yaml",
        "account: act_1\nprune: true\nconversions:\n  - name: \"</details> `x` | y <img src=x>\"\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: new}}\n",
    );
    let md = plan_markdown(&env);
    assert_layout_intact(&md);
}

#[test]
fn hostile_names_in_the_unmanaged_list_and_warnings_stay_text() {
    let env = Harness::new();
    seed_hostile(&env, "act_1");
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Kept\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: kept}}\n",
    );
    let md = plan_markdown(&env);
    assert_layout_intact(&md);
    // Outside code, markdown would make emphasis, a link and a mention of these.
    for line in md.lines().filter(|l| l.contains("octocat")) {
        assert!(
            line.contains("<code>") && !line.contains("](https://"),
            "user text rendered as markdown: {line}\n{md}"
        );
    }
}
