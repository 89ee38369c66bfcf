//! One conversion entry (`- name: ...` under `conversions:`) → [`DesiredConversion`], with the
//! account's `defaults` applied and every field checked (types, enums, ids, name length, rule,
//! tests), plus the per-entry lints.

use super::context::{Ctx, Fields, boolean, enumerated, id_text, mapping, number, string};
use super::desired::{DesiredConversion, Ensure, FireExpectation, RuleSpec, RuleTests};
use super::format::{
    ConversionEntry, DefaultsEntry, ManifestDocument, RuleTestsEntry, SetEntry, keys,
};
use super::rule_source::{self, SourcedRule};
use super::yaml::{Kind, Node, Pos};
use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::ObjectId;
use crate::model::names;
use crate::rule::Event;

/// The longest name the API takes.
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// `defaults:` of a document, checked.
#[derive(Clone, Default)]
pub(crate) struct Defaults {
    pub(crate) event_source_id: Option<ObjectId>,
    pub(crate) action_source_type: Option<ActionSourceType>,
    pub(crate) custom_event_type: Option<CustomEventType>,
    pub(crate) default_conversion_value: Option<f64>,
    pub(crate) expect_fire_within: Option<FireExpectation>,
}

pub(crate) fn defaults(ctx: &mut Ctx, node: &Node) -> Defaults {
    let elsewhere = |k: &str| {
        keys::<ConversionEntry>().contains(&k).then(|| {
            format!("`{k}` cannot have a default; set it on each entry under `conversions:`")
        })
    };
    let Some(f) = mapping::<DefaultsEntry>(ctx, node, "`defaults`", &elsewhere) else {
        return Defaults::default();
    };
    Defaults {
        event_source_id: f
            .get("event_source_id")
            .and_then(|n| object_id(ctx, n, "event_source_id")),
        action_source_type: f
            .get("action_source_type")
            .and_then(|n| action_source(ctx, n)),
        custom_event_type: f.get("custom_event_type").and_then(|n| event_type(ctx, n)),
        default_conversion_value: f
            .get("default_conversion_value")
            .and_then(|n| value(ctx, n)),
        expect_fire_within: f
            .get("expect_fire_within")
            .and_then(|n| fire_expectation(ctx, n)),
    }
}

/// `expect_fire_within: 2d` (a duration, as `--timeout` takes it) or `off`.
fn fire_expectation(ctx: &mut Ctx, node: &Node) -> Option<FireExpectation> {
    let hint = "write how long the conversion may go without an event, e.g. expect_fire_within: 2d (or 36h, 1w), or `off` for a seasonal one";
    let text = match node.as_scalar() {
        Some(s) if !node.is_null() => s.text.trim().to_string(),
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "`expect_fire_within` must be a duration or `off`, found {}",
                    node.describe()
                ),
                hint,
            );
            return None;
        }
    };
    match FireExpectation::parse(&text) {
        Ok(expectation) => Some(expectation),
        Err(e) => {
            ctx.error(node.pos, format!("`expect_fire_within`: {e}"), hint);
            None
        }
    }
}

fn object_id(ctx: &mut Ctx, node: &Node, field: &str) -> Option<ObjectId> {
    let text = id_text(ctx, node, field, "23850000000000001")?;
    match ObjectId::parse(&text) {
        Ok(id) => Some(id),
        Err(e) => {
            ctx.error(
                node.pos,
                format!("`{field}`: {e}"),
                format!("write e.g. {field}: \"23850000000000001\""),
            );
            None
        }
    }
}

fn action_source(ctx: &mut Ctx, node: &Node) -> Option<ActionSourceType> {
    enumerated(
        ctx,
        node,
        "action_source_type",
        ActionSourceType::ALL,
        ActionSourceType::as_str,
    )
}

fn event_type(ctx: &mut Ctx, node: &Node) -> Option<CustomEventType> {
    enumerated(
        ctx,
        node,
        "custom_event_type",
        CustomEventType::ALL,
        CustomEventType::as_str,
    )
}

fn value(ctx: &mut Ctx, node: &Node) -> Option<f64> {
    let v = number(ctx, node, "default_conversion_value")?;
    if v < 0.0 {
        ctx.error(
            node.pos,
            format!("`default_conversion_value` must be 0 or more, found {v}"),
            "write the value a conversion is worth, e.g. default_conversion_value: 25 (or leave it out for 0)",
        );
        return None;
    }
    if v.fract() != 0.0 {
        ctx.warn(
            node.pos,
            format!("default_conversion_value {v} is fractional; the API documents it as an integer on reads"),
            "it may come back rounded and show as a change on every plan; use a whole number",
        );
    }
    Some(v)
}

/// An entry, or `None` when it has errors (already reported). The steps: the keys, `ensure`,
/// the checked fields, the rule, the checks that depend on `ensure`, the lints, and the entry
/// with the account's defaults applied.
pub(crate) fn entry(ctx: &mut Ctx, node: &Node, defaults: &Defaults) -> Option<DesiredConversion> {
    let f = mapping::<ConversionEntry>(ctx, node, "a conversion entry", &entry_key_elsewhere)?;
    checked_entry(ctx, node, f, defaults)
}

/// An entry of a set, its parameters already substituted: as [`entry`], without `id`.
pub(crate) fn set_entry(
    ctx: &mut Ctx,
    node: &Node,
    defaults: &Defaults,
) -> Option<DesiredConversion> {
    let elsewhere = |k: &str| {
        match k {
        "id" => Some(
            "ids are per account: pin it in the account's `use:` item, with `ids: {<name>: \"<id>\"}`"
                .to_string(),
        ),
        _ => entry_key_elsewhere(k),
    }
    };
    let f = mapping::<SetEntry>(ctx, node, "an entry of a set", &elsewhere)?;
    checked_entry(ctx, node, f, defaults)
}

fn checked_entry(
    ctx: &mut Ctx,
    node: &Node,
    f: Fields,
    defaults: &Defaults,
) -> Option<DesiredConversion> {
    let errors_before = error_count(ctx);
    let ensure = ensure_of(ctx, &f);
    let fields = read_fields(ctx, &f);
    let renamed_from = f
        .get("renamed_from")
        .map(|n| renamed_from(ctx, n))
        .unwrap_or_default();
    let (sourced, rule) = rule_of(ctx, &f);
    let tests = match f.get("tests") {
        Some(t) => tests(ctx, t),
        None => RuleTests::default(),
    };
    match ensure {
        Ensure::Absent => check_tombstone(ctx, node, &f, &fields),
        Ensure::Present => check_present(ctx, node, &f, &fields, defaults, sourced.is_some()),
    }
    let custom_event_type = fields.custom_event_type.or(if f.has("custom_event_type") {
        None
    } else {
        defaults.custom_event_type
    });
    if let Some(s) = &sourced {
        let has_tests = !tests.matches.is_empty() || !tests.no_match.is_empty();
        rule_source::lint(ctx, s, custom_event_type, has_tests);
    }
    if error_count(ctx) > errors_before {
        return None;
    }
    Some(DesiredConversion {
        name: fields.name.unwrap_or_default(),
        id: fields.id,
        ensure,
        protect: fields.protect,
        description: fields.description,
        custom_event_type,
        default_conversion_value: fields
            .default_conversion_value
            .or(defaults.default_conversion_value)
            .unwrap_or(0.0),
        rule,
        event_source_id: fields
            .event_source_id
            .or_else(|| defaults.event_source_id.clone()),
        action_source_type: fields.action_source_type.or(defaults.action_source_type),
        expect_fire_within: fields.expect_fire_within.or(defaults.expect_fire_within),
        tests,
        renamed_from,
        set: None,
        location: ctx.loc(node.pos),
    })
}

/// `renamed_from: [Old name, Older name]` (or one name): names of 1 to 100 characters.
fn renamed_from(ctx: &mut Ctx, node: &Node) -> Vec<String> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        Kind::Scalar(_) => vec![node],
        Kind::Map(_) => {
            ctx.error(
                node.pos,
                "`renamed_from` must be a list of earlier names, found a mapping",
                "write e.g. renamed_from: [Old name]",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        let Some(name) = string(ctx, item, "renamed_from") else {
            continue;
        };
        if names::stored(&name).is_empty() || name.chars().count() > MAX_NAME_CHARS {
            ctx.error(
                item.pos,
                format!(
                    "an earlier name in `renamed_from` must be 1 to {MAX_NAME_CHARS} characters"
                ),
                "write the name the conversion had before, as it is live",
            );
            continue;
        }
        if names::stored(&name) != name {
            ctx.error(
                item.pos,
                format!(
                    "the earlier name {} in `renamed_from` has leading or trailing spaces",
                    names::quoted(&name)
                ),
                format!(
                    "write it as the API stores it, {} (names are compared trimmed)",
                    names::quoted(names::stored(&name))
                ),
            );
            continue;
        }
        lookalike_lints(ctx, "the earlier name", &name, item.pos);
        out.push(name);
    }
    out
}

/// Where a key that is not an entry's belongs, for the "unknown key" hint.
fn entry_key_elsewhere(k: &str) -> Option<String> {
    if keys::<ManifestDocument>().contains(&k) {
        Some(format!(
            "`{k}` belongs at the top of the document, not in a conversion entry"
        ))
    } else if keys::<RuleTestsEntry>().contains(&k) {
        Some(format!("`{k}` goes under `tests:`"))
    } else {
        None
    }
}

/// `ensure:` (`present` when left out; a bad value is reported and read as `present`).
fn ensure_of(ctx: &mut Ctx, f: &Fields) -> Ensure {
    let Some(n) = f.get("ensure") else {
        return Ensure::Present;
    };
    match n.as_scalar().map(|s| s.text.as_str()) {
        Some("present") => Ensure::Present,
        Some("absent") => Ensure::Absent,
        _ => {
            ctx.error(
                n.pos,
                format!(
                    "`ensure` must be `present` or `absent`, found {}",
                    describe_scalar(n)
                ),
                "write ensure: absent to delete the conversion, or leave `ensure` out",
            );
            Ensure::Present
        }
    }
}

/// The scalar fields of an entry, each checked on its own (defaults not yet applied).
struct EntryFields {
    name: Option<String>,
    id: Option<ObjectId>,
    protect: bool,
    description: String,
    custom_event_type: Option<CustomEventType>,
    default_conversion_value: Option<f64>,
    event_source_id: Option<ObjectId>,
    action_source_type: Option<ActionSourceType>,
    expect_fire_within: Option<FireExpectation>,
}

fn read_fields(ctx: &mut Ctx, f: &Fields) -> EntryFields {
    let name = f.get("name").and_then(|n| string(ctx, n, "name"));
    if let (Some(name), Some(n)) = (&name, f.get("name")) {
        check_name(ctx, name, n);
    }
    EntryFields {
        name,
        id: f.get("id").and_then(|n| object_id(ctx, n, "id")),
        protect: f
            .get("protect")
            .and_then(|n| boolean(ctx, n, "protect"))
            .unwrap_or(false),
        description: f
            .get("description")
            .and_then(|n| string(ctx, n, "description"))
            .unwrap_or_default(),
        custom_event_type: f.get("custom_event_type").and_then(|n| event_type(ctx, n)),
        default_conversion_value: f
            .get("default_conversion_value")
            .and_then(|n| value(ctx, n)),
        event_source_id: f
            .get("event_source_id")
            .and_then(|n| object_id(ctx, n, "event_source_id")),
        action_source_type: f
            .get("action_source_type")
            .and_then(|n| action_source(ctx, n)),
        expect_fire_within: f
            .get("expect_fire_within")
            .and_then(|n| fire_expectation(ctx, n)),
    }
}

/// A name is 1 to 100 characters, without leading or trailing whitespace (an error: the API
/// stores names trimmed, so such a name would never be the one it keeps, and every apply would
/// make another copy). A name that is not in NFC, or that holds characters a reader cannot
/// see, is a lint: it looks like another name and is not one.
fn check_name(ctx: &mut Ctx, name: &str, n: &Node) {
    let chars = name.chars().count();
    if names::stored(name).is_empty() {
        ctx.error(
            n.pos,
            "`name` is empty",
            "give the conversion a name of 1 to 100 characters",
        );
    } else if chars > MAX_NAME_CHARS {
        ctx.error(
            n.pos,
            format!("`name` is {chars} characters long; the API takes at most {MAX_NAME_CHARS}"),
            "shorten the name; put details in `description`",
        );
    } else if names::stored(name) != name {
        ctx.error(
            n.pos,
            format!(
                "`name` {} has leading or trailing spaces",
                names::quoted(name)
            ),
            format!(
                "write it as the API stores it, {}: the API trims names, so this one would never match the conversion it made, and every apply would make another copy",
                names::quoted(names::stored(name))
            ),
        );
    }
    lookalike_lints(ctx, "`name`", name, n.pos);
}

/// Lints of a name that looks like another: not in NFC, or with characters nobody sees.
fn lookalike_lints(ctx: &mut Ctx, what: &str, name: &str, pos: Pos) {
    if !names::is_nfc(name) {
        ctx.warn(
            pos,
            format!(
                "{what} {} is not in Unicode NFC: it looks like a name typed the usual way but is another name to the API",
                names::quoted(name)
            ),
            "retype it (most editors and keyboards write NFC), or convert the file to NFC",
        );
    }
    let invisible = names::invisible_characters(name);
    if !invisible.is_empty() {
        ctx.warn(
            pos,
            format!(
                "{what} {} contains characters a reader cannot see ({})",
                names::quoted(name),
                invisible.join(", ")
            ),
            "remove them: the name looks like another one without them, and is not",
        );
    }
}

/// `rule:` or `advanced_rule:` (not both): the rule, and for `rule:` what is needed to point
/// into it (tests and lints).
fn rule_of<'n>(ctx: &mut Ctx, f: &Fields<'n>) -> (Option<SourcedRule<'n>>, Option<RuleSpec>) {
    match (f.get("rule"), f.get("advanced_rule")) {
        (Some(_), Some(a)) => {
            ctx.error(
                a.pos,
                "an entry takes `rule` or `advanced_rule`, not both",
                "keep `rule` (the documented grammar) unless you need `advanced_rule`",
            );
            (None, None)
        }
        (Some(r), None) => {
            let sourced = rule_source::rule(ctx, r);
            let rule = sourced.as_ref().map(|s| s.spec.clone());
            (sourced, rule)
        }
        (None, Some(a)) => (None, rule_source::advanced_rule(ctx, a)),
        (None, None) => (None, None),
    }
}

/// A tombstone needs a name or an id, cannot be protected, and ignores the other fields.
fn check_tombstone(ctx: &mut Ctx, node: &Node, f: &Fields, fields: &EntryFields) {
    if fields.name.is_none() && fields.id.is_none() && !f.has("name") && !f.has("id") {
        ctx.error(
            node.pos,
            "a tombstone (`ensure: absent`) needs a `name` or an `id`",
            "name the conversion to delete: name: Old campaign",
        );
    }
    if fields.protect {
        ctx.error(
            f.key_pos("protect").unwrap_or(node.pos),
            "a protected conversion cannot be `ensure: absent`",
            "remove `protect: true` to allow deleting it",
        );
    }
    for key in [
        "rule",
        "advanced_rule",
        "tests",
        "custom_event_type",
        "default_conversion_value",
        "description",
    ] {
        if let Some(pos) = f.key_pos(key) {
            ctx.warn(
                pos,
                format!("`{key}` is ignored on a tombstone (`ensure: absent`)"),
                "remove it, or remove `ensure: absent` to keep the conversion",
            );
        }
    }
}

/// A present entry needs a name, a custom event type (here or in `defaults`) and a rule;
/// `tests` need a `rule` (an `advanced_rule` cannot be evaluated offline).
fn check_present(
    ctx: &mut Ctx,
    node: &Node,
    f: &Fields,
    fields: &EntryFields,
    defaults: &Defaults,
    has_sourced_rule: bool,
) {
    if !f.has_or_misspelled("name") {
        ctx.error(
            node.pos,
            "a conversion entry needs a `name`",
            "add `name:` (1 to 100 characters, unique within the account)",
        );
    }
    if !f.has_or_misspelled("custom_event_type") && defaults.custom_event_type.is_none() {
        ctx.error(
            node.pos,
            format!(
                "conversion {} needs a `custom_event_type`",
                quoted(&fields.name)
            ),
            "add e.g. custom_event_type: PURCHASE (or set it under `defaults:`)",
        );
    }
    if !f.has_or_misspelled("rule") && !f.has_or_misspelled("advanced_rule") {
        ctx.error(
            node.pos,
            format!("conversion {} needs a `rule`", quoted(&fields.name)),
            "add e.g. rule: {url: {i_contains: thankyou}}",
        );
    }
    if let (Some(t), false) = (f.key_pos("tests"), has_sourced_rule)
        && f.has("advanced_rule")
    {
        ctx.error(
            t,
            "`tests` need a `rule`: an `advanced_rule` cannot be evaluated offline",
            "remove `tests`, or express the rule with `rule:`",
        );
    }
}

fn quoted(name: &Option<String>) -> String {
    name.as_ref()
        .map_or_else(|| "(unnamed)".into(), |n| format!("\"{n}\""))
}

fn describe_scalar(n: &Node) -> String {
    match n.as_scalar() {
        Some(s) => format!("`{}`", super::context::shorten(&s.text)),
        None => n.describe().into(),
    }
}

fn error_count(ctx: &Ctx) -> usize {
    ctx.errors
}

/// `tests: {match: [...], no_match: [...]}`; each event a mapping of field → value or list.
fn tests(ctx: &mut Ctx, node: &Node) -> RuleTests {
    let mut out = RuleTests::default();
    let Some(f) = mapping::<RuleTestsEntry>(ctx, node, "`tests`", &|_| None) else {
        return out;
    };
    for (key, matches) in [("match", true), ("no_match", false)] {
        let Some(list) = f.get(key) else { continue };
        let Kind::Seq(items) = &list.kind else {
            ctx.error(
                list.pos,
                format!(
                    "`{key}` must be a list of events, found {}",
                    list.describe()
                ),
                format!("write e.g. {key}: [{{event: Purchase, value: 150}}]"),
            );
            continue;
        };
        for item in items {
            let Some(event) = test_event(ctx, item) else {
                continue;
            };
            let loc = ctx.loc(item.pos);
            if matches {
                out.matches.push(event);
                out.match_locations.push(loc);
            } else {
                out.no_match.push(event);
                out.no_match_locations.push(loc);
            }
        }
    }
    out
}

fn test_event(ctx: &mut Ctx, node: &Node) -> Option<Event> {
    let Kind::Map(pairs) = &node.kind else {
        ctx.error(
            node.pos,
            format!(
                "a test event must be a mapping of fields, found {}",
                node.describe()
            ),
            "write e.g. {url: \"https://shop.example/thankyou\", event: Purchase, value: 150}",
        );
        return None;
    };
    let mut event = Event::new();
    for (k, v) in pairs {
        let key = super::yaml::key_text(k);
        if matches!(&v.kind, Kind::Map(_)) {
            ctx.error(
                v.pos,
                format!(
                    "test event field `{}` must be a value or a list of values, found a mapping",
                    super::context::key_name(k)
                ),
                "rules compare flat fields: url, event and custom parameters",
            );
            return None;
        }
        if event.insert(key.clone(), v.to_json()).is_some() {
            ctx.error(
                k.pos,
                format!(
                    "duplicate field `{}` in a test event",
                    super::context::shorten(&key)
                ),
                "keep one value per field",
            );
            return None;
        }
    }
    Some(event)
}
