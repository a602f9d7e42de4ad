//! Lexical rules and error reporting: whitespace, non-ASCII input, label names and their
//! 512-character limit, quotes, nesting, and the messages parse errors print.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use calico_selector::{Node, ParseErrorKind, Selector};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn parse(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[test]
fn whitespace_is_only_space_and_tab() {
    for sel in [
        "a == \"b\"\n",
        "\na == \"b\"",
        "a == \"b\" &&\nc == \"d\"",
        "a\r== \"b\"",
        "a ==\u{a0}\"b\"",
        "\u{2003}",
    ] {
        let err = Selector::parse(sel).unwrap_err();
        assert!(
            matches!(err.kind, ParseErrorKind::UnexpectedChar(_)),
            "{sel:?}: {err}"
        );
    }
    assert_eq!(parse("\ta\t==\t\"b\"\t").to_string(), r#"a == "b""#);
    // Inside a quoted string anything up to the closing quote is content, as in Calico.
    assert_eq!(parse("a == \"x\ny\"").root(), &Node::eq("a", "x\ny"));
}

#[test]
fn non_ascii_input_never_splits_a_character() {
    for sel in [
        "é",
        "a == \"b\" && é",
        "ü == 'x'",
        "a == 'b' 日本",
        "has(é)",
        "a ==日",
        "🙂🙂",
    ] {
        let err = Selector::parse(sel).unwrap_err();
        assert!(
            err.selector.is_char_boundary(err.offset),
            "{sel:?}: {err:?}"
        );
        let _ = err.to_string();
    }
    let err = Selector::parse("a == 'é' && ü").unwrap_err();
    assert_eq!(err.column, 13, "{err}");
    assert_eq!(err.offset, 13);
    assert_eq!(err.kind, ParseErrorKind::UnexpectedChar('ü'));
    // Non-ASCII values are fine.
    assert!(parse("a == '日本'").matches(&labels(&[("a", "日本")])));
}

#[test]
fn label_names() {
    for sel in [
        "9abc == 'x'",
        "a/b.c-d_e == 'x'",
        "kubernetes.io/name == 'x'",
        "projectcalico.org/namespace == 'x'",
        "-.-/_ == 'x'",
        "has(calico/k8s_NS-.1/role)",
    ] {
        parse(sel);
    }
    assert!(Selector::parse("a:b == 'x'").is_err());
    assert!(Selector::parse("a == fe80::1").is_err());
    parse("a == 'fe80::1'");
    // Operators are only keywords right after a label.
    assert_eq!(
        parse(r#"contains contains "contains""#).to_string(),
        r#"contains contains "contains""#
    );
    assert_eq!(parse("in in {'in'}").to_string(), r#"in in {"in"}"#);
    assert_eq!(parse("has == 'x'").to_string(), r#"has == "x""#);
    assert_eq!(parse("all == 'x'").to_string(), r#"all == "x""#);
    assert_eq!(
        parse("startswith starts with 'v'").to_string(),
        r#"startswith starts with "v""#
    );
    // Multi-word operators allow any spacing, including none.
    for (sel, canon) in [
        ("a notin {'x'}", r#"a not in {"x"}"#),
        ("a  not \t in {'x'}", r#"a not in {"x"}"#),
        ("a startswith 'x'", r#"a starts with "x""#),
        ("a starts   with 'x'", r#"a starts with "x""#),
        ("a endswith 'x'", r#"a ends with "x""#),
        (r#"a contains"x""#, r#"a contains "x""#),
        (r#"a notin"x"||b in{}"#, ""),
    ] {
        match Selector::parse(sel) {
            Ok(s) => assert_eq!(s.to_string(), canon),
            Err(_) => assert!(canon.is_empty(), "{sel:?} should parse"),
        }
    }
}

#[test]
fn label_length_limit() {
    let ok = "a".repeat(512);
    let s = parse(&format!("{ok} == 'x'"));
    assert_eq!(s.label_names(), vec![ok.as_str()]);
    parse(&format!("has({ok})"));
    let too_long = "a".repeat(513);
    let err = Selector::parse(&format!("{too_long} == 'x'")).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LabelTooLong { len: 513 });
    assert!(Selector::parse(&format!("has({too_long})")).is_err());
    assert!(Selector::parse(&format!("a == 'x' && {too_long} == 'y'")).is_err());

    // A 600-character selector that is one long label fails with a clear message.
    let long = "b".repeat(600);
    let err = Selector::parse(&long).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LabelTooLong { len: 600 });
    assert_eq!(err.column, 1);
    let msg = err.to_string();
    assert!(
        msg.contains("label is 600 characters long; the maximum is 512"),
        "{msg}"
    );
    assert!(
        msg.len() < 200,
        "long selectors are shortened in messages: {msg}"
    );

    // Values have no length limit; neither does the whole selector.
    let long_value = "v".repeat(5000);
    parse(&format!("a == '{long_value}'"));
    let many: Vec<String> = (0..300).map(|i| format!("l{i} == 'v{i}'")).collect();
    parse(&many.join(" && "));
    assert!(calico_selector::is_valid_label(&ok));
    assert!(!calico_selector::is_valid_label(&too_long));
    assert!(!calico_selector::is_valid_label(""));
    assert!(!calico_selector::is_valid_label("a b"));
}

#[test]
fn unbalanced_quotes() {
    for (sel, quote, column) in [
        (r#"a == "b"#, '"', 6),
        ("a == 'b", '\'', 6),
        (r#"a == "b'"#, '"', 6),
        (r#"""#, '"', 1),
    ] {
        let err = Selector::parse(sel).unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::UnterminatedString(quote),
            "{sel:?}"
        );
        assert_eq!(err.column, column, "{sel:?}");
    }
    // A quote of the other kind is ordinary content.
    assert_eq!(parse(r#"a == "'""#).root(), &Node::eq("a", "'"));
    assert_eq!(parse(r#"a == '"'"#).root(), &Node::eq("a", "\""));
}

#[test]
fn error_messages_say_where_and_what() {
    let cases = [
        (
            "a == b",
            r#"selector "a == b": at column 6: expected a quoted string, found label "b""#,
        ),
        (
            "a = 'b'",
            r#"selector "a = 'b'": at column 3: expected "==" but found a single '='"#,
        ),
        (
            "a b",
            r#"selector "a b": at column 3: expected an operator after label "a" (==, !=, in, not in, contains, starts with, ends with)"#,
        ),
        (
            "(a == 'x'",
            r#"selector "(a == 'x'": at column 10: expected ')', found end of selector"#,
        ),
        (
            "a == \"b\"\n",
            r#"selector "a == \"b\"\n": at column 9: unexpected character '\n' (only spaces and tabs may separate tokens)"#,
        ),
        (
            "has()",
            r#"selector "has()": at column 5: expected a label name inside has()"#,
        ),
        (
            "has(a",
            r#"selector "has(a": at column 6: expected ')' to close has("#,
        ),
        (
            "all(",
            r#"selector "all(": at column 5: expected ')' to close all("#,
        ),
        (
            "a == 'x' )",
            r#"selector "a == 'x' )": at column 10: expected "&&", "||" or the end of the selector, found ')'"#,
        ),
        (
            "a in 'x'",
            r#"selector "a in 'x'": at column 6: expected a set literal such as {"a", "b"}, found string "x""#,
        ),
        (
            "a in {'x' 'y'}",
            r#"selector "a in {'x' 'y'}": at column 11: expected ',' or '}', found string "y""#,
        ),
        (
            "has(a) &&",
            r#"selector "has(a) &&": at column 10: expected a label, has(), all(), global(), '!' or '(', found end of selector"#,
        ),
        (
            "'FOO",
            r#"selector "'FOO": at column 1: unterminated string: no closing ' to match this one"#,
        ),
        (
            "a & b",
            r#"selector "a & b": at column 3: expected "&&" but found a single '&'"#,
        ),
    ];
    for (sel, want) in cases {
        assert_eq!(Selector::parse(sel).unwrap_err().to_string(), want);
    }
}

#[test]
fn nesting_limit() {
    let depth = calico_selector::MAX_NESTING;
    let ok = format!("{}has(a){}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(parse(&ok).to_string(), "has(a)");
    let deep = format!("{}has(a){}", "(".repeat(depth + 1), ")".repeat(depth + 1));
    let err = Selector::parse(&deep).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooDeep { max: depth });
    // Very deep input is rejected, not a stack overflow.
    let huge = format!("{}has(a){}", "(!".repeat(100_000), ")".repeat(100_000));
    assert!(Selector::parse(&huge).is_err());
    // Long runs of ! are fine: they collapse to their parity.
    assert_eq!(
        parse(&format!("{}has(a)", "!".repeat(100_001))).to_string(),
        "!has(a)"
    );
}
