//! Canonical forms, unique IDs, label rewriting (the prefix visitor) and hand-built trees.
#![allow(clippy::unwrap_used)]

use calico_selector::{NoLabels, Node, Selector};

fn parse(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

const CANONICAL: &[(&str, &str, &str)] = &[
    ("", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"),
    (
        " all() ",
        "all()",
        "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug",
    ),
    (
        " (all() )",
        "all()",
        "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug",
    ),
    (
        "! (has( b)||! has(a ))",
        "!(has(b) || !has(a))",
        "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q",
    ),
    (
        r#"! (a == "b"&&! c != "d")"#,
        r#"!(a == "b" && !c != "d")"#,
        "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w",
    ),
    (r#"a == "'""#, r#"a == "'""#, ""),
    (r#"a == '"'"#, r#"a == '"'"#, ""),
    (r#"a contains '"'"#, r#"a contains '"'"#, ""),
    (r#"a contains "'""#, r#"a contains "'""#, ""),
    (r#"a startswith '"'"#, r#"a starts with '"'"#, ""),
    (r#"a endswith "'""#, r#"a ends with "'""#, ""),
    (r#"a!='"'"#, r#"a != '"'"#, ""),
    (r#"a in {"d"}"#, r#"a in {"d"}"#, ""),
    (r#"a in {"a", "b"}"#, r#"a in {"a", "b"}"#, ""),
    (r#"a in {"d", "a", "b"}"#, r#"a in {"a", "b", "d"}"#, ""),
    (
        r#"a in {"z", "x", "y", "a"}"#,
        r#"a in {"a", "x", "y", "z"}"#,
        "",
    ),
    (
        r#"a in {"z", "z", "x", "y", "x", "a"}"#,
        r#"a in {"a", "x", "y", "z"}"#,
        "",
    ),
    (r#"a in {"'", '"', "c"}"#, r#"a in {'"', "'", "c"}"#, ""),
    ("a in {}", "a in {}", ""),
    ("a not in {'x',}", r#"a not in {"x"}"#, ""),
    ("a == 'b' && c == 'd'", r#"(a == "b" && c == "d")"#, ""),
    (
        "a == 'b' || c == 'd' && e == 'f'",
        r#"(a == "b" || (c == "d" && e == "f"))"#,
        "",
    ),
    (
        "(a == 'b' && c == 'd') && e == 'f'",
        r#"((a == "b" && c == "d") && e == "f")"#,
        "",
    ),
    ("((((has(x))))) ", "has(x)", ""),
    ("global( )", "global()", ""),
    ("!!!global()", "!global()", ""),
    // Calico prints `!!has(a)` here, which reparses as has(a); see the crate docs.
    ("!(!has(a))", "!(!has(a))", ""),
];

#[test]
fn canonical_forms_and_unique_ids() {
    for (input, canon, uid) in CANONICAL {
        let sel = parse(input);
        assert_eq!(sel.to_string(), *canon, "canonical form of {input:?}");
        assert_eq!(sel.to_canonical(), *canon);
        let again = parse(canon);
        assert_eq!(again, sel, "{canon:?} should reparse to the same tree");
        assert_eq!(again.to_string(), *canon);
        assert_eq!(again.unique_id(), sel.unique_id());
        if !uid.is_empty() {
            assert_eq!(sel.unique_id(), *uid, "unique ID of {input:?}");
        }
        assert!(sel.unique_id().starts_with("s:"));
        assert_eq!(sel.unique_id().len(), 2 + 38);
    }
    assert_eq!(
        Selector::all().unique_id(),
        "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"
    );
    assert_eq!(Selector::default(), Selector::all());
    let via_from_str: Selector = "has(a)".parse().unwrap();
    assert_eq!(via_from_str, parse("has( a )"));
}

#[test]
fn prefix_visitor() {
    let cases = [
        ("k == 'v'", r#"visited/k == "v""#),
        ("k != 'v'", r#"visited/k != "v""#),
        ("k contains 'v'", r#"visited/k contains "v""#),
        ("k starts with 'v'", r#"visited/k starts with "v""#),
        ("k ends with 'v'", r#"visited/k ends with "v""#),
        (
            "k == 'v' && x == 'y'",
            r#"(visited/k == "v" && visited/x == "y")"#,
        ),
        (
            "k == 'v' || has(x)",
            r#"(visited/k == "v" || has(visited/x))"#,
        ),
        ("!(k == 'v')", r#"!visited/k == "v""#),
        ("k in {'v'}", r#"visited/k in {"v"}"#),
        ("k not in {'v'}", r#"visited/k not in {"v"}"#),
        (
            "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
            r#"!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})"#,
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).with_label_prefix("visited/").to_string(), want);
        assert_eq!(
            parse(input)
                .map_labels(|l| format!("visited/{l}"))
                .to_string(),
            want
        );
    }
}

#[test]
fn namespace_selector_rewrites() {
    // A GNP rule's namespaceSelector: prefix pcns., all() -> has(namespace label),
    // global() -> !has(namespace label).
    let ns_label = "projectcalico.org/namespace";
    let rewrite = |s: &str| {
        parse(s)
            .with_label_prefix("pcns.")
            .replace_all(&Node::has(ns_label))
            .replace_global(&Node::negate(Node::has(ns_label)))
            .to_string()
    };
    assert_eq!(rewrite("all()"), "has(projectcalico.org/namespace)");
    assert_eq!(rewrite("global()"), "!has(projectcalico.org/namespace)");
    assert_eq!(
        rewrite("namespacelabel1 == 'value1'"),
        r#"pcns.namespacelabel1 == "value1""#
    );
    assert_eq!(
        rewrite("team == 'a' || all()"),
        r#"(pcns.team == "a" || has(projectcalico.org/namespace))"#
    );
    assert!(parse("global()").uses_global());
    assert!(parse("a == 'b' && !global()").uses_global());
    assert!(!parse("a == 'global()'").uses_global());

    // Composition the way Calico scopes a namespaced policy: (<sel>) && <ns clause>.
    let sel = parse("projectcalico.org/orchestrator == 'k8s'");
    let ns = parse("projectcalico.org/namespace == 'default'");
    let combined = sel.and(&ns);
    assert_eq!(
        combined,
        parse(
            "(projectcalico.org/orchestrator == 'k8s') && projectcalico.org/namespace == 'default'"
        )
    );
    assert_eq!(
        combined.to_string(),
        r#"(projectcalico.org/orchestrator == "k8s" && projectcalico.org/namespace == "default")"#
    );
    assert_eq!(
        parse("a == 'x' && b == 'y'").and(&ns),
        parse("(a == 'x' && b == 'y') && (projectcalico.org/namespace == 'default')")
    );
}

#[test]
fn label_names_lists_labels() {
    let sel = parse("b == 'x' && (has(a) || c in {'q'}) && !b contains 'z' && all()");
    assert_eq!(sel.label_names(), vec!["a", "b", "c"]);
}

#[test]
fn hand_built_trees() {
    assert_eq!(Node::and(vec![]), Node::All);
    assert_eq!(Node::and(vec![Node::has("a")]), Node::has("a"));
    assert!(!Selector::from(Node::or(vec![])).matches(&NoLabels));
    assert!(Selector::from_node(Node::And(vec![])).matches(&NoLabels));
    assert_eq!(Selector::from_node(Node::And(vec![])).to_string(), "all()");
    assert_eq!(Selector::from_node(Node::Or(vec![])).to_string(), "!all()");
    let s = Selector::from(Node::set("a", calico_selector::SetOp::In, ["y", "x", "y"]));
    assert_eq!(s.to_string(), r#"a in {"x", "y"}"#);
    assert_eq!(s.clone().into_node(), s.root().clone());
}
