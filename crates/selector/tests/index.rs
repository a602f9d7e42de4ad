//! The label index: worked examples, and a property test against a brute-force model.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use calico_selector::MatchChange::{Started, Stopped};
use calico_selector::{CmpOp, LabelIndex, MatchDelta, Merged, Node, Selector, SetOp};
use proptest::prelude::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

type Index = LabelIndex<&'static str, &'static str, &'static str>;

#[test]
fn selectors_and_items_in_either_order() {
    let mut idx = Index::new();
    assert_eq!(idx.update_selector("web", sel("app == 'web'")), vec![]);
    assert_eq!(
        idx.update_item("pod1", labels(&[("app", "web")]), vec![]),
        vec![("web", "pod1", Started)]
    );
    assert_eq!(
        idx.update_item("pod2", labels(&[("app", "db")]), vec![]),
        vec![]
    );
    assert_eq!(
        idx.update_selector("any", sel("has(app)")),
        vec![("any", "pod1", Started), ("any", "pod2", Started)]
    );
    // Relabelling pod1 stops one match.
    assert_eq!(
        idx.update_item("pod1", labels(&[("app", "api")]), vec![]),
        vec![("web", "pod1", Stopped)]
    );
    // An unchanged update is silent.
    assert_eq!(
        idx.update_item("pod1", labels(&[("app", "api")]), vec![]),
        vec![]
    );
    assert_eq!(idx.update_selector("any", sel("has( app )")), vec![]);
    // Changing a selector's expression.
    assert_eq!(
        idx.update_selector("web", sel("app in {'api', 'db'}")),
        vec![("web", "pod1", Started), ("web", "pod2", Started)]
    );
    let mut pods: Vec<_> = idx.items_matching(&"web").copied().collect();
    pods.sort_unstable();
    assert_eq!(pods, vec!["pod1", "pod2"]);
    let mut sels: Vec<_> = idx.selectors_matching(&"pod2").copied().collect();
    sels.sort_unstable();
    assert_eq!(sels, vec!["any", "web"]);
    assert!(idx.is_match(&"any", &"pod1"));
    assert_eq!(
        idx.remove_item(&"pod2"),
        vec![("any", "pod2", Stopped), ("web", "pod2", Stopped)]
    );
    assert_eq!(idx.remove_selector(&"any"), vec![("any", "pod1", Stopped)]);
    assert_eq!(idx.remove_selector(&"any"), vec![]);
    assert_eq!(idx.remove_item(&"nope"), vec![]);
    assert_eq!(idx.all_matches(), vec![("web", "pod1")]);
    assert_eq!(idx.selector_count(), 1);
    assert_eq!(idx.item_count(), 1);
    assert_eq!(
        idx.selector(&"web").unwrap().to_string(),
        r#"app in {"api", "db"}"#
    );
}

#[test]
fn negative_and_anchorless_selectors() {
    let mut idx = Index::new();
    idx.update_item("a", labels(&[]), vec![]);
    idx.update_item("b", labels(&[("x", "1")]), vec![]);
    assert_eq!(
        idx.update_selector("nox", sel("!has(x)")),
        vec![("nox", "a", Started)]
    );
    assert_eq!(
        idx.update_selector("ne", sel("x != '1'")),
        vec![("ne", "a", Started)]
    );
    assert_eq!(
        idx.update_selector("all", sel("")),
        vec![("all", "a", Started), ("all", "b", Started)]
    );
    assert_eq!(
        idx.update_selector("never", sel("x == '1' && x == '2'")),
        vec![]
    );
    assert_eq!(
        idx.update_item("a", labels(&[("x", "1")]), vec![]),
        vec![("ne", "a", Stopped), ("nox", "a", Stopped)]
    );
}

#[test]
fn parents_are_inherited_and_own_labels_win() {
    let mut idx = Index::new();
    idx.update_selector("ns-prod", sel("pcns.env == 'prod'"));
    idx.update_selector("role-db", sel("role == 'db'"));
    // The item names its profile before the profile's labels are known.
    assert_eq!(
        idx.update_item("pod", labels(&[("role", "web")]), vec!["kns.prod"]),
        vec![]
    );
    assert_eq!(
        idx.update_parent("kns.prod", labels(&[("pcns.env", "prod"), ("role", "db")])),
        vec![("ns-prod", "pod", Started)],
        "the pod's own role=web wins over the profile's role=db"
    );
    assert_eq!(
        idx.item_labels(&"pod").unwrap(),
        &labels(&[("pcns.env", "prod"), ("role", "web")])
    );
    assert_eq!(
        idx.update_item("pod", labels(&[]), vec!["kns.prod"]),
        vec![("role-db", "pod", Started)]
    );
    // A second parent fills in only what the first does not have.
    idx.update_parent(
        "ksa.prod.default",
        labels(&[("role", "cache"), ("pcsa.x", "y")]),
    );
    assert_eq!(
        idx.update_item("pod", labels(&[]), vec!["kns.prod", "ksa.prod.default"]),
        vec![]
    );
    assert_eq!(
        idx.item_labels(&"pod")
            .unwrap()
            .get("pcsa.x")
            .map(String::as_str),
        Some("y")
    );
    assert_eq!(
        idx.remove_parent(&"kns.prod"),
        vec![("ns-prod", "pod", Stopped), ("role-db", "pod", Stopped)]
    );
    assert_eq!(
        idx.item_labels(&"pod")
            .unwrap()
            .get("role")
            .map(String::as_str),
        Some("cache")
    );
    assert_eq!(
        idx.update_parent("kns.prod", labels(&[("pcns.env", "prod")])),
        vec![("ns-prod", "pod", Started)]
    );
    assert_eq!(
        idx.update_parent("kns.prod", labels(&[("pcns.env", "prod")])),
        vec![]
    );
    assert_eq!(idx.remove_item(&"pod"), vec![("ns-prod", "pod", Stopped)]);
    assert_eq!(idx.remove_parent(&"kns.prod"), vec![]);
}

// ---- property test against a brute-force model ----------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    UpdateSelector(u8, Selector),
    RemoveSelector(u8),
    UpdateItem(u8, BTreeMap<String, String>, Vec<u8>),
    RemoveItem(u8),
    UpdateParent(u8, BTreeMap<String, String>),
    RemoveParent(u8),
}

fn small_label() -> impl Strategy<Value = String> {
    "[a-d]"
}

fn small_value() -> impl Strategy<Value = String> {
    "[x-z]{0,1}"
}

fn small_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(small_label(), small_value(), 0..4)
}

fn small_selector() -> impl Strategy<Value = Selector> {
    let cmp_op = prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Contains,
        CmpOp::StartsWith,
        CmpOp::EndsWith,
    ]);
    let set_op = prop::sample::select(vec![SetOp::In, SetOp::NotIn]);
    let leaf = prop_oneof![
        1 => Just(Node::All),
        3 => small_label().prop_map(Node::Has),
        6 => (small_label(), cmp_op, small_value()).prop_map(|(l, op, v)| Node::cmp(l, op, v)),
        3 => (small_label(), set_op, prop::collection::vec(small_value(), 0..3))
            .prop_map(|(l, op, vs)| Node::set(l, op, vs)),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            1 => inner.clone().prop_map(Node::negate),
            2 => prop::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
            1 => prop::collection::vec(inner, 2..4).prop_map(Node::Or),
        ]
    })
    .prop_map(Selector::from_node)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..6u8, small_selector()).prop_map(|(id, s)| Op::UpdateSelector(id, s)),
        1 => (0..6u8).prop_map(Op::RemoveSelector),
        4 => (0..8u8, small_labels(), prop::collection::vec(0..3u8, 0..3))
            .prop_map(|(id, l, p)| Op::UpdateItem(id, l, p)),
        1 => (0..8u8).prop_map(Op::RemoveItem),
        2 => (0..3u8, small_labels()).prop_map(|(id, l)| Op::UpdateParent(id, l)),
        1 => (0..3u8).prop_map(Op::RemoveParent),
    ]
}

/// The obvious implementation: evaluate everything against everything.
#[derive(Default)]
struct Model {
    selectors: BTreeMap<u8, Selector>,
    items: BTreeMap<u8, (BTreeMap<String, String>, Vec<u8>)>,
    parents: BTreeMap<u8, BTreeMap<String, String>>,
}

impl Model {
    fn matches(&self) -> BTreeSet<(u8, u8)> {
        let empty = BTreeMap::new();
        let mut out = BTreeSet::new();
        for (sid, s) in &self.selectors {
            for (iid, (own, parents)) in &self.items {
                // Inherited labels: the first parent that has a label wins.
                let mut inherited: BTreeMap<String, String> = BTreeMap::new();
                for p in parents {
                    for (k, v) in self.parents.get(p).unwrap_or(&empty) {
                        inherited.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                if s.matches(&Merged::new(own, &inherited)) {
                    out.insert((*sid, *iid));
                }
            }
        }
        out
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::UpdateSelector(id, s) => {
                self.selectors.insert(*id, s.clone());
            }
            Op::RemoveSelector(id) => {
                self.selectors.remove(id);
            }
            Op::UpdateItem(id, l, p) => {
                self.items.insert(*id, (l.clone(), p.clone()));
            }
            Op::RemoveItem(id) => {
                self.items.remove(id);
            }
            Op::UpdateParent(id, l) => {
                self.parents.insert(*id, l.clone());
            }
            Op::RemoveParent(id) => {
                self.parents.remove(id);
            }
        }
    }
}

fn apply_index(idx: &mut LabelIndex<u8, u8, u8>, op: &Op) -> Vec<MatchDelta<u8, u8>> {
    match op {
        Op::UpdateSelector(id, s) => idx.update_selector(*id, s.clone()),
        Op::RemoveSelector(id) => idx.remove_selector(id),
        Op::UpdateItem(id, l, p) => idx.update_item(*id, l.clone(), p.clone()),
        Op::RemoveItem(id) => idx.remove_item(id),
        Op::UpdateParent(id, l) => idx.update_parent(*id, l.clone()),
        Op::RemoveParent(id) => idx.remove_parent(id),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn index_agrees_with_brute_force(ops in prop::collection::vec(op(), 1..60)) {
        let mut idx = LabelIndex::<u8, u8, u8>::new();
        let mut model = Model::default();
        let mut before = BTreeSet::new();
        for op in &ops {
            let deltas = apply_index(&mut idx, op);
            model.apply(op);
            let after = model.matches();
            let mut want: Vec<MatchDelta<u8, u8>> = after
                .difference(&before)
                .map(|(s, i)| (*s, *i, calico_selector::MatchChange::Started))
                .chain(before.difference(&after).map(|(s, i)| (*s, *i, calico_selector::MatchChange::Stopped)))
                .collect();
            want.sort_unstable();
            prop_assert_eq!(&deltas, &want, "deltas after {:?}", op);
            let all: BTreeSet<(u8, u8)> = idx.all_matches().into_iter().collect();
            prop_assert_eq!(&all, &after, "state after {:?}", op);
            for (s, i) in &after {
                prop_assert!(idx.is_match(s, i));
                prop_assert!(idx.selectors_matching(i).any(|x| x == s));
                prop_assert!(idx.items_matching(s).any(|x| x == i));
            }
            before = after;
        }
    }
}
