//! Property tests: printing and reparsing random trees, feeding arbitrary text to the parser,
//! and checking label restrictions against evaluation.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use calico_selector::{CmpOp, Node, Selector, SetOp};
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-c]",
        2 => "[a-zA-Z0-9_./-]{1,12}",
        1 => prop::sample::select(vec![
            "contains", "in", "not", "notin", "has", "all", "global", "starts", "startswith",
            "ends", "with", "kubernetes.io/name", "projectcalico.org/namespace",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any value a string literal can hold: anything but both kinds of quote at once.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[xyz]{0,2}",
        2 => "[a-z \"(){}!&|=,é\t\n日]{0,6}",
        1 => "[^']{0,5}",
        1 => "[^\"]{0,5}",
    ]
    .prop_filter("a literal cannot hold both quote kinds", |v| {
        !(v.contains('"') && v.contains('\''))
    })
}

fn leaf() -> impl Strategy<Value = Node> {
    let cmp_op = prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Contains,
        CmpOp::StartsWith,
        CmpOp::EndsWith,
    ]);
    let set_op = prop::sample::select(vec![SetOp::In, SetOp::NotIn]);
    prop_oneof![
        1 => Just(Node::All),
        1 => Just(Node::Global),
        3 => label().prop_map(Node::Has),
        6 => (label(), cmp_op, value()).prop_map(|(l, op, v)| Node::cmp(l, op, v)),
        3 => (label(), set_op, prop::collection::vec(value(), 0..4))
            .prop_map(|(l, op, vs)| Node::set(l, op, vs)),
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            1 => inner.clone().prop_map(Node::negate),
            1 => prop::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
            1 => prop::collection::vec(inner, 2..4).prop_map(Node::Or),
        ]
    })
}

/// Label maps over the small label and value alphabets the generators favour.
fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(prop_oneof!["[a-c]", label()], value(), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn print_then_parse_is_identity(node in tree()) {
        let sel = Selector::from_node(node);
        let printed = sel.to_string();
        let reparsed = Selector::parse(&printed)
            .map_err(|e| TestCaseError::fail(format!("{printed:?} does not reparse: {e}")))?;
        prop_assert_eq!(&reparsed, &sel, "printed as {:?}", printed);
        prop_assert_eq!(reparsed.to_string(), printed);
        prop_assert_eq!(reparsed.unique_id(), sel.unique_id());
    }

    #[test]
    fn restrictions_are_implied_by_matching(node in tree(), labels in label_map()) {
        let sel = Selector::from_node(node);
        if sel.matches(&labels) {
            for (name, r) in sel.label_restrictions() {
                let v = labels.get(&name).map(String::as_str);
                prop_assert!(r.allows(v), "{} matches {:?} but {} restricted {:?}", sel, labels, name, r);
            }
        }
    }

    #[test]
    fn prefixing_renames_consistently(node in tree(), labels in label_map()) {
        let sel = Selector::from_node(node);
        let prefixed = sel.with_label_prefix("pcns.");
        let renamed: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (format!("pcns.{k}"), v.clone())).collect();
        prop_assert_eq!(sel.matches(&labels), prefixed.matches(&renamed));
        prop_assert_eq!(Selector::parse(&prefixed.to_string()).unwrap(), prefixed);
    }

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        check_text(&input)?;
    }

    #[test]
    fn selector_like_text_never_panics(
        input in "[a-c !=&|(){},'\"\t\n]{0,12}(has\\(|all\\(|global\\(| in | not in | contains | starts with |é|日)?[a-c !=&|(){},'\"]{0,12}"
    ) {
        check_text(&input)?;
    }

    #[test]
    fn mutated_canonical_text_never_panics(node in tree(), at in any::<prop::sample::Index>(), insert in any::<char>()) {
        let mut text = Selector::from_node(node).to_string();
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.insert(cut, insert);
        check_text(&text)?;
        text.truncate(cut);
        check_text(&text)?;
    }
}

/// Parses `input`; a success must print and reparse to the same tree, a failure must point at a
/// character boundary inside the input.
fn check_text(input: &str) -> Result<(), TestCaseError> {
    match Selector::parse(input) {
        Ok(sel) => {
            let printed = sel.to_string();
            let again = Selector::parse(&printed)
                .map_err(|e| TestCaseError::fail(format!("{printed:?} does not reparse: {e}")))?;
            prop_assert_eq!(&again, &sel);
            let _ = sel.matches(&BTreeMap::<String, String>::new());
        }
        Err(e) => {
            prop_assert!(e.offset <= input.len());
            prop_assert!(input.is_char_boundary(e.offset));
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}
