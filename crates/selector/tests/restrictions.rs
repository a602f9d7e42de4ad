//! Label restrictions derived from selectors (Calico's `LabelRestrictions()` cases).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use calico_selector::{LabelRestriction, LabelRestrictions, Selector};

fn present(values: Option<&[&str]>) -> LabelRestriction {
    LabelRestriction {
        must_be_present: true,
        must_be_absent: false,
        one_of: values.map(|vs| vs.iter().map(|v| (*v).to_owned()).collect::<BTreeSet<_>>()),
    }
}

fn absent() -> LabelRestriction {
    LabelRestriction {
        must_be_absent: true,
        ..Default::default()
    }
}

fn res(entries: &[(&str, LabelRestriction)]) -> LabelRestrictions {
    entries
        .iter()
        .map(|(k, r)| ((*k).to_owned(), r.clone()))
        .collect()
}

#[test]
fn restrictions_table() {
    let cases: Vec<(&str, LabelRestrictions)> = vec![
        ("", res(&[])),
        ("all()", res(&[])),
        ("global()", res(&[])),
        ("a == 'value'", res(&[("a", present(Some(&["value"])))])),
        ("has(a)", res(&[("a", present(None))])),
        (
            "a in {'v1','v2'}",
            res(&[("a", present(Some(&["v1", "v2"])))]),
        ),
        ("a not in {'v1','v2'}", res(&[])),
        ("a contains 'foo'", res(&[("a", present(None))])),
        ("a ends with 'foo'", res(&[("a", present(None))])),
        ("a starts with 'foo'", res(&[("a", present(None))])),
        ("a != 'value'", res(&[])),
        // AND
        (
            "a == 'v1' && a == 'v1'",
            res(&[("a", present(Some(&["v1"])))]),
        ),
        ("a == 'v1' && a == 'v2'", res(&[("a", present(Some(&[])))])),
        ("a == 'v1' && has(a)", res(&[("a", present(Some(&["v1"])))])),
        (
            "a in {'v1','v2'} && a in {'v2','v3'} ",
            res(&[("a", present(Some(&["v2"])))]),
        ),
        (
            "a in {'v1','v2', 'v3'} && a in {'v2','v3'} ",
            res(&[("a", present(Some(&["v2", "v3"])))]),
        ),
        ("has(a) && a == 'v1'", res(&[("a", present(Some(&["v1"])))])),
        (
            "has(a) && !has(a)",
            res(&[(
                "a",
                LabelRestriction {
                    must_be_present: true,
                    must_be_absent: true,
                    one_of: None,
                },
            )]),
        ),
        (
            "a == 'v1' && b == 'v2'",
            res(&[("a", present(Some(&["v1"]))), ("b", present(Some(&["v2"])))]),
        ),
        ("a == 'v1' && all()", res(&[("a", present(Some(&["v1"])))])),
        ("all() && a == 'v1'", res(&[("a", present(Some(&["v1"])))])),
        // OR
        (
            "a == 'v1' || a == 'v2'",
            res(&[("a", present(Some(&["v1", "v2"])))]),
        ),
        ("has(a) || a == 'v2'", res(&[("a", present(None))])),
        ("a=='v2' || has(a)", res(&[("a", present(None))])),
        ("a=='v2' || has(b)", res(&[])),
        (
            "a=='v2' || (has(b) && has(a))",
            res(&[("a", present(None))]),
        ),
        ("a == 'v1' || b == 'v2'", res(&[])),
        ("a == 'v1' || all()", res(&[])),
        ("all() || b == 'v2'", res(&[])),
        ("!has(a) || !has(a) && has(b)", res(&[("a", absent())])),
        ("!has(a) || has(a)", res(&[])),
        // NOT
        ("!(a == 'value')", res(&[])),
        ("!has(a)", res(&[("a", absent())])),
        ("!!has(a)", res(&[("a", present(None))])),
        ("!(!has(a))", res(&[])),
    ];
    for (sel, want) in cases {
        let parsed = Selector::parse(sel).unwrap();
        assert_eq!(parsed.label_restrictions(), want, "restrictions of {sel:?}");
        if !sel.is_empty() {
            let with_all = Selector::parse(&format!("all() && ({sel})")).unwrap();
            assert_eq!(
                with_all.label_restrictions(),
                want,
                "restrictions of all() && ({sel})"
            );
        }
    }
}

#[test]
fn restriction_helpers() {
    assert!(present(Some(&[])).is_unsatisfiable());
    assert!(
        LabelRestriction {
            must_be_present: true,
            must_be_absent: true,
            one_of: None
        }
        .is_unsatisfiable()
    );
    assert!(!present(Some(&["x"])).is_unsatisfiable());
    assert!(present(Some(&["x"])).allows(Some("x")));
    assert!(!present(Some(&["x"])).allows(Some("y")));
    assert!(!present(None).allows(None));
    assert!(present(None).allows(Some("")));
    assert!(absent().allows(None));
    assert!(!absent().allows(Some("x")));
}
