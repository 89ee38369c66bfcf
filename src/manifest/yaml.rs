//! A YAML tree that remembers where every node came from.
//!
//! A serde deserializer stops at the first error and knows positions for syntax and type errors
//! only; semantic errors (a bad regex, a duplicate name) need the line and column of the entry,
//! key or rule that caused them, and a run must report all of them. So the manifest loader
//! reads YAML through the `saphyr-parser` event stream, which marks every event, and builds
//! this small tree itself. The builder is iterative with a hard depth limit and an
//! alias expansion budget, so hostile input (deep nesting, "billion laughs") gives an error,
//! never a stack overflow or a memory blow-up. It knows nothing about manifests.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// Nesting deeper than this is refused (manifests need about ten levels).
pub(crate) const MAX_DEPTH: usize = 64;
/// At most this many nodes per file, aliases expanded (a guard against alias bombs).
pub(crate) const MAX_NODES: usize = 2_000_000;

/// 1-based line and column of a node's first character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// One YAML node with its position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in source order; duplicate keys are kept (the loader reports them).
    Map(Vec<(Node, Node)>),
}

/// A scalar as written. Its type is resolved on demand with the YAML 1.2 core schema (what
/// editors' YAML language servers use: `yes` is text), so that ids keep their exact digits
/// (`23850000000000001` is beyond 2^53).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scalar {
    pub(crate) text: String,
    /// Quoted, block (`|`, `>`) or tagged `!!str`: always a string.
    pub(crate) is_string: bool,
}

/// A scalar's value under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resolved<'a> {
    Null,
    Bool(bool),
    /// Integers and floats; `integral` tells whether it was written as an integer.
    Number {
        value: f64,
        integral: bool,
    },
    Str(&'a str),
}

impl Scalar {
    pub(crate) fn resolve(&self) -> Resolved<'_> {
        if self.is_string {
            return Resolved::Str(&self.text);
        }
        let t = self.text.as_str();
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Resolved::Number {
                    value: f64::INFINITY,
                    integral: false,
                };
            }
            "-.inf" | "-.Inf" | "-.INF" => {
                return Resolved::Number {
                    value: f64::NEG_INFINITY,
                    integral: false,
                };
            }
            ".nan" | ".NaN" | ".NAN" => {
                return Resolved::Number {
                    value: f64::NAN,
                    integral: false,
                };
            }
            _ => {}
        }
        if is_decimal_int(t)
            && let Ok(value) = t.parse::<f64>()
        {
            return Resolved::Number {
                value,
                integral: true,
            };
        }
        if let Some(value) = parse_radix_int(t) {
            return Resolved::Number {
                value,
                integral: true,
            };
        }
        if is_float(t)
            && let Ok(value) = t.parse::<f64>()
        {
            return Resolved::Number {
                value,
                integral: false,
            };
        }
        Resolved::Str(t)
    }
}

fn is_decimal_int(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_radix_int(t: &str) -> Option<f64> {
    let (digits, radix) = if let Some(d) = t.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = t.strip_prefix("0o") {
        (d, 8)
    } else {
        return None;
    };
    u64::from_str_radix(digits, radix).ok().map(|v| v as f64)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (YAML 1.2 core schema float).
fn is_float(t: &str) -> bool {
    let b = t.strip_prefix(['-', '+']).unwrap_or(t).as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

impl Node {
    pub(crate) fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// `null`, `~` or nothing at all.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self.as_scalar().map(Scalar::resolve), Some(Resolved::Null))
    }

    /// What kind of value this is, for messages ("found a list").
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Null => "nothing (null)",
                Resolved::Bool(_) => "a boolean",
                Resolved::Number { .. } => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }

    /// The value as JSON (rules, advanced rules, test events). Non-finite numbers have no JSON
    /// form and are kept as their text, so the rule checker reports them as strings.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Null => Value::Null,
                Resolved::Bool(b) => Value::Bool(b),
                Resolved::Number { value, integral } => {
                    if integral {
                        if let Ok(i) = s.text.parse::<i64>() {
                            return Value::from(i);
                        }
                        if let Ok(u) = s.text.parse::<u64>() {
                            return Value::from(u);
                        }
                    }
                    serde_json::Number::from_f64(value)
                        .map(Value::Number)
                        .unwrap_or_else(|| Value::String(s.text.clone()))
                }
                Resolved::Str(t) => Value::String(t.to_string()),
            },
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (key_text(k), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The text of a mapping key (a non-scalar key is written as its JSON).
pub(crate) fn key_text(key: &Node) -> String {
    match &key.kind {
        Kind::Scalar(s) => s.text.clone(),
        _ => key.to_json().to_string(),
    }
}

/// A YAML error with its position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YamlError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
    /// How to fix it.
    pub(crate) hint: &'static str,
}

const SYNTAX_HINT: &str =
    "fix the YAML syntax here (indentation, a missing `:` or closing bracket, a tab)";
const SIZE_HINT: &str = "a manifest is a few hundred lines of plain YAML; is this the right file?";

/// One document of a (possibly multi-document) file; `root` is `None` for an empty document.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) root: Option<Node>,
    /// Where the document starts (for messages about an empty document).
    pub(crate) pos: Pos,
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// A container being built.
enum Open {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Parses every document of `text`. Stops at the first syntax error: YAML cannot be read past
/// it reliably. Each event goes to the [`Builder`], which opens and closes containers, expands
/// aliases within the node budget and attaches every finished node to its parent.
pub(crate) fn parse(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError {
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: format!("invalid YAML: {}", e.info()),
            hint: SYNTAX_HINT,
        })?;
        if matches!(event, Event::StreamEnd) {
            break;
        }
        builder.event(event, pos_of(&span))?;
    }
    Ok(builder.docs)
}

/// The state of [`parse`] between events.
#[derive(Default)]
struct Builder {
    docs: Vec<Document>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    node_count: usize,
    doc_pos: Pos,
    root: Option<Node>,
}

impl Builder {
    /// One event: a node finished by it (a scalar, an alias, a closed container) is attached.
    fn event(&mut self, event: Event, pos: Pos) -> Result<(), YamlError> {
        let finished = match event {
            Event::StreamStart | Event::Nothing | Event::StreamEnd => None,
            Event::DocumentStart(_) => {
                self.doc_pos = pos;
                self.root = None;
                self.anchors.clear();
                None
            }
            Event::DocumentEnd => {
                self.docs.push(Document {
                    root: self.root.take(),
                    pos: self.doc_pos,
                });
                None
            }
            Event::Alias(id) => Some(self.alias(id, pos)?),
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let is_string = tagged_str || !matches!(style, ScalarStyle::Plain);
                self.node_count += 1;
                let kind = Kind::Scalar(Scalar {
                    text: text.into_owned(),
                    is_string,
                });
                Some((Node { kind, pos }, anchor))
            }
            Event::SequenceStart(anchor, _) => {
                self.open(Open::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                })?;
                None
            }
            Event::MappingStart(anchor, _) => {
                self.open(Open::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                })?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
        };
        if self.node_count > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!(
                    "the file has more than {MAX_NODES} YAML nodes; this is not a manifest"
                ),
                hint: SIZE_HINT,
            });
        }
        if let Some((node, anchor)) = finished {
            self.attach(node, anchor);
        }
        Ok(())
    }

    /// An alias: a copy of its anchor's node, counted against the node budget.
    fn alias(&mut self, id: usize, pos: Pos) -> Result<(Node, usize), YamlError> {
        let target = self.anchors.get(&id).ok_or_else(|| YamlError {
            pos,
            message: "invalid YAML: an alias refers to an unknown anchor".into(),
            hint: "define the anchor (`&name`) before using the alias (`*name`)",
        })?;
        self.node_count += count_nodes(target);
        if self.node_count > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!(
                    "the file expands to more than {MAX_NODES} YAML nodes (aliases included); \
                     this is not a manifest"
                ),
                hint: SIZE_HINT,
            });
        }
        let kind = target.kind.clone();
        Ok((Node { kind, pos }, 0))
    }

    /// A container starts, within the depth limit.
    fn open(&mut self, open: Open) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let pos = match &open {
                Open::Seq { pos, .. } | Open::Map { pos, .. } => *pos,
            };
            return Err(YamlError {
                pos,
                message: format!(
                    "the YAML is nested deeper than {MAX_DEPTH} levels; a manifest needs about ten"
                ),
                hint: SIZE_HINT,
            });
        }
        self.node_count += 1;
        self.stack.push(open);
        Ok(())
    }

    /// The innermost container ends: it is a finished node.
    fn close(&mut self) -> Option<(Node, usize)> {
        match self.stack.pop()? {
            Open::Seq { pos, anchor, items } => Some((
                Node {
                    kind: Kind::Seq(items),
                    pos,
                },
                anchor,
            )),
            Open::Map {
                pos,
                anchor,
                entries,
                ..
            } => Some((
                Node {
                    kind: Kind::Map(entries),
                    pos,
                },
                anchor,
            )),
        }
    }

    /// A finished node goes to its anchor (if any) and to its parent: the document's root,
    /// a list's next item, or a mapping's next key or value.
    fn attach(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// Nodes in a subtree, counted without recursion.
fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(items) => todo.extend(items),
            Kind::Map(entries) => entries.iter().for_each(|(k, v)| {
                todo.push(k);
                todo.push(v);
            }),
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse(text).unwrap().remove(0).root.unwrap()
    }

    #[test]
    fn positions_are_one_based() {
        let root = one("account: act_1\nconversions:\n  - name: A\n    rule: x\n");
        let Kind::Map(entries) = &root.kind else {
            panic!()
        };
        assert_eq!(entries[0].0.pos, Pos { line: 1, column: 1 });
        let Kind::Seq(items) = &entries[1].1.kind else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        let Kind::Map(e) = &items[0].kind else {
            panic!()
        };
        assert_eq!(e[1].0.pos, Pos { line: 4, column: 5 });
        assert_eq!(
            e[1].1.pos,
            Pos {
                line: 4,
                column: 11
            }
        );
    }

    #[test]
    fn core_schema_resolution() {
        let s = |t: &str| Scalar {
            text: t.into(),
            is_string: false,
        };
        assert_eq!(
            s("100").resolve(),
            Resolved::Number {
                value: 100.0,
                integral: true
            }
        );
        assert_eq!(
            s("1.5e3").resolve(),
            Resolved::Number {
                value: 1500.0,
                integral: false
            }
        );
        assert_eq!(s("~").resolve(), Resolved::Null);
        assert_eq!(s("yes").resolve(), Resolved::Str("yes"));
        assert_eq!(s("1.2.3").resolve(), Resolved::Str("1.2.3"));
        assert_eq!(s("e5").resolve(), Resolved::Str("e5"));
        assert_eq!(
            Scalar {
                text: "100".into(),
                is_string: true
            }
            .resolve(),
            Resolved::Str("100")
        );
        // Big ids keep their digits.
        let n = one("id: 23850000000000001");
        assert_eq!(n.to_json()["id"], serde_json::json!(23850000000000001u64));
    }

    #[test]
    fn multi_documents_and_empty_ones() {
        let docs = parse("a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[2].root.is_none() || docs[2].root.as_ref().unwrap().is_null());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn hostile_input_is_refused_not_crashed() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
        let deep_block: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(
            parse(&deep_block)
                .unwrap_err()
                .message
                .contains("nested deeper")
        );
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='z' {
            bomb.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        assert!(parse(&bomb).unwrap_err().message.contains("more than"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
        assert!(e.message.starts_with("invalid YAML"));
    }
}
