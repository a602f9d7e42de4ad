//! The selector language as Calico specifies it: the match tables and the bad selectors.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use calico_selector::{Labels, Merged, NoLabels, Selector};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn parse(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

/// (selector, label sets it matches, label sets it does not match)
type Case = (
    &'static str,
    &'static [&'static [(&'static str, &'static str)]],
    &'static [&'static [(&'static str, &'static str)]],
);

const MATCH_TABLE: &[Case] = &[
    (
        r#"a == "b""#,
        &[&[("a", "b")], &[("a", "b"), ("c", "d")]],
        &[&[], &[("a", "c")], &[("c", "d")]],
    ),
    (
        r#"a == "b" && c == "d""#,
        &[&[("a", "b"), ("c", "d")]],
        &[
            &[],
            &[("a", "b"), ("c", "e")],
            &[("a", "c"), ("c", "d")],
            &[("c", "d")],
            &[("a", "b")],
        ],
    ),
    (
        r#"a == "b" || c == "d""#,
        &[&[("a", "b"), ("c", "d")], &[("a", "b")], &[("c", "d")]],
        &[&[], &[("a", "e"), ("c", "e")], &[("c", "e")], &[("a", "e")]],
    ),
    (
        r#"a in {"'", '"', "c"}"#,
        &[&[("a", "c")], &[("a", "\"")], &[("a", "'")]],
        &[&[], &[("a", "e")]],
    ),
    (
        r#"a not in {"'", '"', "c"}"#,
        &[&[], &[("a", "e")]],
        &[&[("a", "c")], &[("a", "\"")], &[("a", "'")]],
    ),
    ("a == 'a'", &[&[("a", "a")]], &[&[("a", "b")], &[]]),
    (r#"a == "a""#, &[&[("a", "a")]], &[]),
    (r#"a != "b""#, &[&[("a", "a")]], &[]),
    (r#"a != "a""#, &[&[]], &[&[("a", "a")]]),
    ("a != 'a'", &[], &[&[("a", "a")]]),
    (
        r#"a contains "a""#,
        &[&[("a", "a")], &[("a", "bab")], &[("a", "aaa"), ("b", "c")]],
        &[&[], &[("a", "b")], &[("b", "aaa")]],
    ),
    (
        r#"a contains """#,
        &[&[("a", "")], &[("a", "x")]],
        &[&[], &[("b", "x")]],
    ),
    (
        r#"a starts with "a""#,
        &[&[("a", "a")], &[("a", "abb")], &[("a", "aaa"), ("b", "c")]],
        &[&[], &[("a", "b")], &[("a", "baa")], &[("b", "aaa")]],
    ),
    (
        r#"a ends with "a""#,
        &[&[("a", "a")], &[("a", "bba")], &[("a", "aaa"), ("b", "c")]],
        &[&[], &[("a", "b")], &[("a", "aab")], &[("b", "aaa")]],
    ),
    (r#"a in {"a"}"#, &[&[("a", "a")]], &[&[("a", "b")]]),
    (r#"!a in {"a"}"#, &[&[("a", "b")]], &[]),
    (
        r#"a in {"a", "b"}"#,
        &[&[("a", "a")], &[("a", "b")]],
        &[&[("a", "c")]],
    ),
    (r#"a not in {"d", "e"}"#, &[&[("a", "a")]], &[]),
    (r#"a not in {"a"}"#, &[], &[&[("a", "a")]]),
    ("has(a)", &[&[("a", "b")], &[("a", "")]], &[]),
    ("!has(a)", &[&[("b", "b")]], &[&[("a", "b")]]),
    ("has(b)", &[], &[&[("a", "b")]]),
    ("!!has(b)", &[], &[&[("a", "b")]]),
    ("! has(a)", &[], &[&[("a", "b")]]),
    ("!!! has(a)", &[], &[&[("a", "b")]]),
    ("!!!has(a)", &[], &[&[("a", "b")]]),
    ("!! ! has(a)", &[], &[&[("a", "b")]]),
    ("! !!has(a)", &[], &[&[("a", "b")]]),
    ("", &[&[], &[("a", "b")]], &[]),
    (" ", &[&[], &[("a", "b")]], &[]),
    ("all()", &[&[], &[("a", "b")]], &[]),
    (" all()", &[&[], &[("a", "b")]], &[]),
    ("global()", &[&[], &[("a", "b")]], &[]),
    (" global()", &[&[], &[("a", "b")]], &[]),
    (
        "a == 'a1' && b == 'b1'",
        &[&[("a", "a1"), ("b", "b1")]],
        &[],
    ),
    (
        "a == 'a1' && b != 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    (
        "a != 'a1' && b == 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    (
        "a != 'a1' && b != 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    (
        "a != 'a1' && !b == 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    (
        "!a == 'a1' && b == 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    ("has(a) && !has(b)", &[&[("a", "a")]], &[]),
    ("!has(b) && has(a)", &[&[("a", "a")]], &[]),
    ("!(!has(a) || has(b))", &[&[("a", "a")]], &[]),
    ("!(has(b) || !has(a))", &[&[("a", "a")]], &[]),
    (
        "a == 'a1' || b == 'b1'",
        &[&[("a", "a1"), ("b", "b1")]],
        &[],
    ),
    (
        "a == 'a1' || b != 'b1'",
        &[&[("a", "a1"), ("b", "b1")]],
        &[],
    ),
    (
        "a != 'a1' || b == 'b1'",
        &[&[("a", "a1"), ("b", "b1")]],
        &[],
    ),
    (
        "a != 'a1' || b != 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    (
        "! a == 'a1' || ! b == 'b1'",
        &[],
        &[&[("a", "a1"), ("b", "b1")]],
    ),
    // Precedence: && binds tighter than ||, ! tighter than both.
    (
        "a == 'x' || b == 'y' && c == 'z'",
        &[&[("a", "x")], &[("b", "y"), ("c", "z")]],
        &[&[("b", "y")]],
    ),
    (
        "!a == 'x' && b == 'y'",
        &[&[("b", "y")], &[("a", "q"), ("b", "y")]],
        &[&[("a", "x"), ("b", "y")]],
    ),
    // Matching is byte-wise and case-sensitive.
    (r#"a == "B""#, &[&[("a", "B")]], &[&[("a", "b")]]),
    (
        r#"a contains "é""#,
        &[&[("a", "café")]],
        &[&[("a", "cafe")]],
    ),
];

#[test]
fn match_table() {
    for (sel, yes, no) in MATCH_TABLE {
        let parsed = parse(sel);
        let reparsed = parse(&parsed.to_string());
        for case in *yes {
            let l = labels(case);
            assert!(parsed.matches(&l), "{sel:?} should match {l:?}");
            assert!(
                reparsed.matches(&l),
                "canonical {parsed} should match {l:?}"
            );
        }
        for case in *no {
            let l = labels(case);
            assert!(!parsed.matches(&l), "{sel:?} should not match {l:?}");
            assert!(
                !reparsed.matches(&l),
                "canonical {parsed} should not match {l:?}"
            );
        }
    }
}

#[test]
fn labels_implementations_agree() {
    let sel = parse("a == 'x' && !has(b)");
    let btree = labels(&[("a", "x")]);
    let hash: HashMap<String, String> = btree.clone().into_iter().collect();
    assert!(sel.matches(&btree));
    assert!(sel.matches(&hash));
    assert!(sel.matches(&&btree));
    let dynamic: &dyn Labels = &hash;
    assert!(sel.matches(dynamic));
    assert!(!sel.matches(&NoLabels));
    assert!(parse("!has(a)").matches(&NoLabels));
}

#[test]
fn merged_labels_own_wins_over_inherited() {
    let own = labels(&[("role", "db"), ("app", "x")]);
    let inherited = labels(&[("role", "web"), ("pcns.team", "blue")]);
    let merged = Merged::new(&own, &inherited);
    assert_eq!(merged.get("role"), Some("db"));
    assert_eq!(merged.get("pcns.team"), Some("blue"));
    assert_eq!(merged.get("missing"), None);
    assert!(parse("role == 'db' && pcns.team == 'blue'").matches(&merged));
    assert!(!parse("role == 'web'").matches(&merged));
}

const BAD_SELECTORS: &[&str] = &[
    "b == b",
    "b contains b",
    "b starts with b",
    "b ends with b",
    "'b1' == b",
    "b",
    "a b",
    "!",
    r#"foo == "bar" &"#,
    r#"foo == "bar" |"#,
    "foo != ||",
    r#"foo in {"", ||"#,
    r#"foo in """#,
    r#""FOO"#,
    r#""FOO'"#,
    "'FOO",
    "(",
    r#"(a == "foo""#,
    ")",
    "()",
    "%",
    r#"a == "b" && %"#,
    r#"a == "b" || %"#,
    "a ",
    "has(foo) &&",
    // Tokenizer-level.
    r#"label = "value""#,
    "all(",
    "global(",
    "has()",
    "has(foo",
    "has( foo ",
    r#"a == "b" & has(foo)"#,
    r#"label starts foo "value""#,
    r#"label ends foo "value""#,
    r#"label ends withs "value""#,
    r#"label squiggles "value""#,
    r#"label inf "v""#,
    r#"label containsx "v""#,
    // More grammar corners.
    r#"a in {"x" "y"}"#,
    r#"a in {,}"#,
    r#"a in {"x",,}"#,
    "a in {x}",
    r#"a in {"x""#,
    r#"a == "x" b == "y""#,
    r#"a == "x" && && b == "y""#,
    r#"a == "x" ||"#,
    r#"(a == "x"))"#,
    "has (a)",
    "has(a b)",
    "all(x)",
    r#"a =="#,
    r#"a == "#,
    r#"a in"#,
    "!!",
    "&&",
    "||",
    r#"a == "b""c""#,
    r#""a" == "b""#,
    "has(a))",
    r#"a == "b"#,
    "a == 'b",
];

#[test]
fn bad_selectors_fail() {
    for sel in BAD_SELECTORS {
        assert!(Selector::parse(sel).is_err(), "{sel:?} should not parse");
    }
}
