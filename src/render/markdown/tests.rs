//! The markdown rendering's tests: bounds, blocks left balanced, what is kept first.
use super::inline::{link, thousands};
use super::*;
use crate::model::ids::AdAccountId;
use crate::plan::{AccountPlan, Action, ConversionState, DeleteReason};
use crate::render::diff_block::grammar::diff_blocks;
use crate::render::tests::sample;
use serde_json::json;

fn create(n: usize) -> Action {
    let name = format!("Purchase over {n}");
    Action::Create {
        name: name.clone(),
        set: None,
        set_entry: None,
        after: ConversionState {
            name,
            description: Some(format!("Purchases above {n} in the spring campaign")),
            custom_event_type: Some("PURCHASE".into()),
            default_conversion_value: Some(n as f64),
            event_source_id: Some("998877665544".into()),
            action_source_type: Some("website".into()),
            rule: Some(
                json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": n}},
                               {"url": {"i_contains": format!("/shop/{n}/thank-you")}}]})
                .into(),
            ),
            advanced_rule: None,
        },
    }
}

fn account(i: usize, actions: Vec<Action>) -> AccountPlan {
    AccountPlan {
        account: AdAccountId::parse(&format!("act_{}", 1000 + i)).unwrap(),
        source: format!("conversions/client-{i}.yaml"),
        live_fingerprint: "ab".into(),
        digest: None,
        actions,
        unmanaged: vec![],
        retired: vec![],
        warnings: vec![],
        refusals: vec![],
        info: vec![],
        safety: None,
        token_env: None,
        notes: vec![],
    }
}

/// `accounts` accounts of `creates` creates each.
fn agency(accounts: usize, creates: usize) -> PlanDocument {
    PlanDocument::new(
        "v26.0",
        (0..accounts)
            .map(|i| account(i, (0..creates).map(create).collect()))
            .collect(),
    )
}

const RUN: &str = "https://github.example/acme/ads/actions/runs/42";

fn comment() -> Bound<'static> {
    Bound {
        max_chars: COMMENT_LIMIT,
        full_plan_url: Some(RUN),
    }
}

/// Balanced fences and `<details>`; returns the lines outside every block.
fn outside_blocks(md: &str) -> Vec<&str> {
    let mut outside = Vec::new();
    let mut fence: Option<usize> = None;
    let mut details = 0i32;
    for line in md.lines() {
        let ticks = line.bytes().take_while(|b| *b == b'`').count();
        if let Some(len) = fence {
            if ticks >= len && line[ticks..].trim().is_empty() {
                fence = None;
            }
            continue;
        }
        if ticks >= 3 {
            fence = Some(ticks);
            continue;
        }
        details += line.matches("<details>").count() as i32;
        details -= line.matches("</details>").count() as i32;
        assert!(details >= 0, "a </details> too many:\n{md}");
        if details == 0 && !line.contains("</details>") {
            outside.push(line);
        }
    }
    assert_eq!(fence, None, "a fence is left open");
    assert_eq!(details, 0, "a <details> is left open");
    outside
}

/// Every account of `doc` that has changes is in the table: a row of its own, or the row of
/// a group whose every member is named in the list of that row's accounts.
fn every_account_in_the_table(md: &str, doc: &PlanDocument) {
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with("| `act_")).collect();
    let lists: Vec<&str> = md.lines().filter(|l| l.starts_with("**The ")).collect();
    for account in doc.accounts.iter().filter(|a| !a.actions.is_empty()) {
        let id = format!("`{}`", account.account);
        let own_row = table
            .iter()
            .any(|row| row.starts_with(&format!("| {id} |")));
        let grouped = lists
            .iter()
            .any(|list| list.contains(&format!(" {id},")) || list.contains(&format!(" {id}.")))
            && table
                .iter()
                .any(|row| row.contains("(each; listed at the end)"));
        assert!(own_row || grouped, "{} is in no row", account.account);
    }
}

/// The note is the last thing, outside every block; returns its text.
fn last_note(md: &str) -> &str {
    let outside = outside_blocks(md);
    let at = outside
        .iter()
        .rposition(|l| *l == "> [!NOTE]")
        .unwrap_or_else(|| panic!("no note:\n{}", &md[md.len().saturating_sub(600)..]));
    assert_eq!(at + 3, outside.len(), "the note is the last thing");
    let start = md.rfind("> [!NOTE]").unwrap();
    &md[start..]
}

/// 60 accounts x 100 creates (4 MB unbounded) in one GitHub comment: every account in the
/// table, all 6,000 creates named (the 60 accounts read the same: one group of 100 names),
/// the first diffs shown whole, the cut said outside every block.
#[test]
fn sixty_accounts_of_a_hundred_creates_fit_one_comment() {
    let doc = agency(60, 100);
    let whole = render(&doc, Mode::Plan);
    assert!(whole.len() > 3_000_000, "{}", whole.len());
    let md = render_bounded(&doc, Mode::Plan, Some(&comment()));
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    assert!(md.chars().count() <= COMMENT_LIMIT);
    assert!(md.contains("**Plan: 6000 to create, 0 to update, 0 to replace, 0 to delete.**"));
    every_account_in_the_table(&md, &doc);
    for n in 0..100 {
        assert!(
            md.contains(&format!("<code>Purchase over {n}</code>")),
            "create {n} not named"
        );
    }
    let shown = diff_blocks(&md).len();
    assert!(shown >= 40, "only {shown} diffs shown");
    let note = last_note(&md);
    assert!(
        note.contains(&format!(
            "**Every change is named above; {shown} of 6,000 are shown with their diff**"
        )),
        "{note}"
    );
    assert!(note.contains(&format!("<{RUN}>")), "{note}");
    // As GitHub renders it, no block is left open before the note.
    let html = gfm_html(&md);
    let at = html
        .find("Every change is named")
        .expect("the note renders");
    let before = &html[..at];
    assert_eq!(
        before.matches("<pre").count(),
        before.matches("</pre>").count()
    );
    assert_eq!(
        before.matches("<details>").count(),
        before.matches("</details>").count()
    );
}

/// `accounts` accounts of `creates` creates each, every account with names of its own.
fn distinct_agency(accounts: usize, creates: usize) -> PlanDocument {
    PlanDocument::new(
        "v26.0",
        (0..accounts)
            .map(|i| {
                account(
                    i,
                    (0..creates)
                        .map(|n| {
                            let mut c = create(n);
                            if let Action::Create { name, .. } = &mut c {
                                *name = format!("Client {i} purchase over {n}");
                            }
                            c
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// Accounts that each create other names cannot be grouped: every account keeps its row, the
/// first creates of every account are named, and the rest counted in each account.
#[test]
fn accounts_of_their_own_names_keep_their_rows_and_first_names() {
    let doc = distinct_agency(60, 100);
    let md = render_bounded(&doc, Mode::Plan, Some(&comment()));
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    every_account_in_the_table(&md, &doc);
    for i in 0..60 {
        assert!(
            md.contains(&format!("<code>Client {i} purchase over 0</code>")),
            "account {i}'s first create not named"
        );
    }
    let note = last_note(&md);
    assert!(note.contains("changes are not named"), "{note}");
    assert!(md.contains("more not named here"));
}

/// A plan of 60 x 100 creates with one account over the mass-delete threshold: the refusal is
/// in the first lines (before the table), names the account, and its row is marked.
#[test]
fn what_apply_refuses_comes_first_and_marks_its_row() {
    let mut doc = agency(60, 100);
    let last = doc.accounts.last_mut().unwrap();
    last.refusals.push(
        "the plan deletes or replaces 12 of the 20 live conversions of act_1059; apply refuses it without --allow-mass-delete"
            .into(),
    );
    doc.accounts[3]
        .warnings
        .push("\"Checkout\" (3) last fired 2 hours ago".into());
    let doc = PlanDocument::new("v26.0", doc.accounts);
    let md = render_bounded(&doc, Mode::Plan, Some(&comment()));
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    let first: Vec<&str> = md.lines().take(8).collect();
    assert_eq!(first[4], "> [!CAUTION]", "{first:#?}");
    assert!(first[5].contains("**Apply will refuse this plan** as it stands (1 account)"));
    assert!(first[6].starts_with("> - `act_1059`: the plan deletes or replaces 12"));
    let table = md.find("| Account |").unwrap();
    assert!(md.find("> [!WARNING]").unwrap() < table);
    assert!(md.contains("> - `act_1003`: \"Checkout\" (3) last fired 2 hours ago"));
    assert!(md.contains("| `act_1059` | <code>conversions/client-59.yaml</code> | 100 | 0 | 0 | 0 | 0 | ⛔ **refused** |"), "{}", &md[..3000]);
    assert!(md.contains("| `act_1003` | <code>conversions/client-3.yaml</code> | 100 | 0 | 0 | 0 | 0 | ⚠️ 1 warning |"));
    every_account_in_the_table(&md, &doc);
}

/// 2,000 accounts with changes (one creating another conversion, one refused): every account
/// in the table, as a row or in a group, with the refusal and the warnings.
#[test]
fn two_thousand_accounts_keep_every_account_and_the_warnings() {
    let mut accounts: Vec<AccountPlan> = (0..2000)
        .map(|i| account(i, vec![create(1), create(2)]))
        .collect();
    accounts[7].actions.push(create(3));
    accounts[1500].refusals.push("apply refuses this".into());
    accounts[1999].warnings.push("a warning".into());
    let doc = PlanDocument::new("v26.0", accounts);
    let md = render_bounded(&doc, Mode::Plan, Some(&comment()));
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    every_account_in_the_table(&md, &doc);
    assert!(md.contains("> - `act_2500`: apply refuses this"));
    assert!(md.contains("> - `act_2999`: a warning"));
    assert!(md.contains("<code>Purchase over 3</code>"));
    outside_blocks(&md);
}

/// GitHub-flavoured markdown as HTML, with the extensions GitHub turns on and raw HTML
/// passed through (the reports use `<details>`, `<summary>`, `<code>` and `<b>`).
fn gfm_html(md: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.tasklist = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(md, &options)
}

#[test]
fn what_fits_is_not_cut_and_unbounded_is_the_same() {
    let doc = sample();
    let bounded = render_bounded(&doc, Mode::Plan, Some(&comment()));
    assert_eq!(bounded, render(&doc, Mode::Plan));
    assert!(!bounded.contains("not shown"));
    let exact = Bound {
        max_chars: bounded.len(),
        full_plan_url: None,
    };
    assert_eq!(render_bounded(&doc, Mode::Plan, Some(&exact)), bounded);
}

/// Deletes and warnings are what a reviewer must not miss: they are kept before creates,
/// even in the last account.
#[test]
fn deletes_and_warnings_are_kept_first() {
    let mut doc = agency(5, 40);
    let last = doc.accounts.last_mut().unwrap();
    last.actions.push(Action::Delete {
        id: crate::model::ids::ObjectId::parse("77").unwrap(),
        name: "Revenue (old)".into(),
        set: None,
        set_entry: None,
        reason: DeleteReason::Prune,
        before: None,
        frees_rule_for: None,
        flagged: false,
    });
    last.warnings
        .push("deleting 1 conversion that fired today".into());
    let doc = PlanDocument::new("v26.0", doc.accounts);
    let bound = Bound {
        max_chars: 12_000,
        full_plan_url: Some(RUN),
    };
    let md = render_bounded(&doc, Mode::Plan, Some(&bound));
    assert!(md.len() <= 12_000);
    assert!(
        md.contains("delete <b><code>Revenue (old)</code></b>"),
        "{md}"
    );
    assert!(md.contains("deleting 1 conversion that fired today"));
    outside_blocks(&md);
}

/// When even the rows do not fit, the totals and the note still do, and the note says how
/// many rows are missing.
#[test]
fn a_tiny_bound_keeps_the_totals_and_says_what_is_missing() {
    let doc = distinct_agency(60, 2);
    let bound = Bound {
        max_chars: 2_000,
        full_plan_url: None,
    };
    let md = render_bounded(&doc, Mode::Plan, Some(&bound));
    assert!(md.len() <= 2_000, "{}", md.len());
    assert!(md.contains("**Plan: 120 to create"));
    assert!(md.contains("accounts are missing from the table"), "{md}");
    assert!(md.contains("`convctl plan --format markdown --max-chars 0`"));
    outside_blocks(&md);
}

#[test]
fn streamed_bounded_rendering_is_the_string() {
    let doc = agency(6, 30);
    let bound = Bound {
        max_chars: 20_000,
        full_plan_url: Some(RUN),
    };
    let mut out = Vec::new();
    render_bounded_to(&mut out, &doc, Mode::Drift, Some(&bound)).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        render_bounded(&doc, Mode::Drift, Some(&bound))
    );
}

#[test]
fn cut_plan_snapshot() {
    let mut doc = agency(3, 3);
    doc.accounts.push(account(9, vec![]));
    let doc = PlanDocument::new("v26.0", doc.accounts);
    let bound = Bound {
        max_chars: 4_500,
        full_plan_url: Some(RUN),
    };
    insta::assert_snapshot!(render_bounded(&doc, Mode::Plan, Some(&bound)));
}

#[test]
fn cut_drift_snapshot() {
    let bound = Bound {
        max_chars: 2_000,
        full_plan_url: None,
    };
    insta::assert_snapshot!(render_bounded(&sample(), Mode::Drift, Some(&bound)));
}

#[test]
fn thousands_groups_digits() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(65536), "65,536");
    assert_eq!(thousands(1234567), "1,234,567");
}

#[test]
fn links_are_autolinks_only_when_safe() {
    assert_eq!(link("https://x.example/a?b=1"), "<https://x.example/a?b=1>");
    assert_eq!(
        link("javascript:alert(1)"),
        "<code>javascript&#58;alert(1)</code>"
    );
    assert!(!link("https://x.example/<b>").contains("<b>"));
}
