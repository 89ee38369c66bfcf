//! The markdown plan is made for a pull-request comment: user text (conversion
//! names from manifests or from live state, warnings, file names) must never break the comment's
//! layout — close a `<details>` block, open HTML tags, split a table row, end a code fence —
//! nor turn into markdown (emphasis, links) or @mentions in a GitHub comment.

use crate::assert_run;
use crate::support::{Harness, Run, markdown, tools};
use serde_json::json;

/// Live names no manifest would accept as YAML plain scalars, and one with a line break.
const HOSTILE_LIVE: [&str; 3] = [
    "</details> <script>x</script> | a | b",
    "two\nlines\n````\n</details>",
    "@octocat *em* [link](https://evil.example) `tick`",
];

fn plan_markdown(env: &Harness) -> Run {
    let run = env.run(&["plan", "--format", "markdown"]);
    run.assert_success();
    run
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
    // As GitHub renders it: no element but convctl's own, every `<details>` closed.
    let html = markdown::to_html(md);
    for tag in ["<script", "<img", "<a ", "<iframe"] {
        assert!(!html.contains(tag), "user text became {tag}:\n{html}");
    }
    assert_eq!(
        html.matches("<details>").count(),
        html.matches("</details>").count(),
        "{html}"
    );
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
    let run = plan_markdown(&env);
    assert_layout_intact(&run.stdout);
    assert_run!("hostile_names_in_actions", run);
}

#[test]
fn hostile_names_in_the_unmanaged_list_and_warnings_stay_text() {
    let env = Harness::new();
    seed_hostile(&env, "act_1");
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Kept\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: kept}}\n",
    );
    let run = plan_markdown(&env);
    let md = &run.stdout;
    assert_layout_intact(md);
    assert_run!("hostile_names_in_the_unmanaged_list", run);
    // Outside code, markdown would make emphasis, a link and a mention of these.
    for line in md.lines().filter(|l| l.contains("octocat")) {
        assert!(
            line.contains("<code>") && !line.contains("](https://"),
            "user text rendered as markdown: {line}\n{md}"
        );
    }
}

/// In a browser, the comment GitHub would render from a plan full of hostile names holds no
/// element made of user text: no script, image or link, and as many collapsed blocks as
/// convctl wrote.
#[test]
fn hostile_names_stay_text_in_a_browser() {
    let Some(chromium) = tools::require("chromium") else {
        return;
    };
    let env = Harness::new();
    seed_hostile(&env, "act_1");
    env.write(
        "conversions/a.yaml",
        "account: act_1\nprune: true\nconversions:\n  - name: \"<script>document.title='owned'</script><img src=x onerror=alert(1)>\"\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: new}}\n",
    );
    let md = plan_markdown(&env).stdout;
    let page = env.write(
        "comment.html",
        &format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>comment</title></head><body>\n{}</body></html>\n",
            markdown::to_html(&md)
        ),
    );
    let rendering = tools::render_html(&chromium, &page, 1024, 768);
    assert!(
        rendering.png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG screenshot"
    );
    let dom = &rendering.dom;
    assert!(
        dom.contains("<title>comment</title>"),
        "no script ran:\n{dom}"
    );
    for tag in ["<script", "<img", "<a ", "<iframe"] {
        assert!(!dom.contains(tag), "user text became {tag}:\n{dom}");
    }
    assert_eq!(
        dom.matches("<details>").count(),
        md.matches("<details>").count(),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;"),
        "the name is shown as text:\n{dom}"
    );
}
