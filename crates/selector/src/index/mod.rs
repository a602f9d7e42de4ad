//! An incremental index of which selectors match which labelled items.
//!
//! Items are endpoints (or anything labelled): each has its own labels and an ordered list of
//! parents (profiles) whose labels it inherits; its own labels win, then the first parent that
//! has the label. Parents are updated separately, so a profile's label change re-evaluates only
//! that profile's children.
//!
//! Every change returns the matches it started and stopped, sorted by selector then item.
//!
//! To avoid evaluating every selector against every item, each selector is filed under one
//! *anchor* taken from its [label restrictions](crate::LabelRestrictions): a label and the
//! values it must have (`app == "web"`, `tier in {...}`), else a label it must have
//! (`has(team)`, `x contains "y"`), else nothing (then it is checked against every item).
//! Items are filed by their (label, value) pairs and label names. A new or changed selector is
//! evaluated only against the items its anchor admits; a new or changed item only against the
//! selectors filed under its labels plus the anchorless ones. A selector whose restrictions can
//! never be met (`a == "x" && a == "y"`) is checked against nothing.

mod postings;
mod update;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use postings::{ByKey, ByKeyValue};

use crate::Selector;

/// Whether a selector started or stopped matching an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchChange {
    /// The selector matches the item now and did not before.
    Started,
    /// The selector matched the item before and does not now.
    Stopped,
}

/// One change of match state: (selector id, item id, started or stopped).
pub type MatchDelta<S, I> = (S, I, MatchChange);

type LabelMap = BTreeMap<String, String>;

/// Where a selector is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Anchor {
    /// Its restrictions cannot be met: it matches nothing.
    Never,
    /// A matching item has this label with one of these values.
    Values(String, BTreeSet<String>),
    /// A matching item has this label.
    Key(String),
    /// No usable restriction: check every item.
    Scan,
}

#[derive(Debug, Clone)]
struct SelEntry<I> {
    selector: Selector,
    anchor: Anchor,
    matches: HashSet<I>,
}

#[derive(Debug, Clone)]
struct ItemEntry<S, P> {
    own: LabelMap,
    parents: Vec<P>,
    /// Own labels merged with inherited ones; `None` when the parents add nothing.
    merged: Option<LabelMap>,
    /// The selectors matching this item, sorted (usually a handful).
    matches: Vec<S>,
}

impl<S, P> ItemEntry<S, P> {
    fn labels(&self) -> &LabelMap {
        self.merged.as_ref().unwrap_or(&self.own)
    }
}

#[derive(Debug, Clone)]
struct ParentEntry<I> {
    labels: Option<LabelMap>,
    children: HashSet<I>,
}

impl<I> ParentEntry<I> {
    fn empty() -> Self {
        ParentEntry {
            labels: None,
            children: HashSet::new(),
        }
    }
}

/// Which selectors (ids `S`) match which items (ids `I`, with parents of ids `P`).
#[derive(Debug, Clone)]
pub struct LabelIndex<S, I, P = String> {
    selectors: HashMap<S, SelEntry<I>>,
    items: HashMap<I, ItemEntry<S, P>>,
    parents: HashMap<P, ParentEntry<I>>,
    items_by_value: ByKeyValue<I>,
    items_by_key: ByKey<I>,
    sels_by_value: ByKeyValue<S>,
    sels_by_key: ByKey<S>,
    sels_scan: HashSet<S>,
}

impl<S, I, P> Default for LabelIndex<S, I, P> {
    fn default() -> Self {
        LabelIndex {
            selectors: HashMap::new(),
            items: HashMap::new(),
            parents: HashMap::new(),
            items_by_value: ByKeyValue::default(),
            items_by_key: ByKey::default(),
            sels_by_value: ByKeyValue::default(),
            sels_by_key: ByKey::default(),
            sels_scan: HashSet::new(),
        }
    }
}

impl<S, I, P> LabelIndex<S, I, P>
where
    S: Clone + Eq + Hash + Ord,
    I: Clone + Eq + Hash + Ord,
    P: Clone + Eq + Hash,
{
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds selector `id`, or replaces its expression.
    pub fn update_selector(&mut self, id: S, selector: Selector) -> Vec<MatchDelta<S, I>> {
        let old_matches = match self.selectors.remove(&id) {
            Some(old) if old.selector == selector => {
                self.selectors.insert(id, old);
                return Vec::new();
            }
            Some(old) => {
                self.unfile_selector(&id, &old.anchor);
                old.matches
            }
            None => HashSet::new(),
        };
        let anchor = self.choose_anchor(&selector);
        self.file_selector(&id, &anchor);
        let new_matches: HashSet<I> = self
            .candidate_items(&anchor)
            .filter(|item| {
                self.items
                    .get(*item)
                    .is_some_and(|e| selector.matches(e.labels()))
            })
            .cloned()
            .collect();

        let mut deltas = Vec::new();
        for item in old_matches.difference(&new_matches) {
            if let Some(e) = self.items.get_mut(item) {
                remove_sorted(&mut e.matches, &id);
            }
            deltas.push((id.clone(), item.clone(), MatchChange::Stopped));
        }
        for item in new_matches.difference(&old_matches) {
            if let Some(e) = self.items.get_mut(item) {
                insert_sorted(&mut e.matches, id.clone());
            }
            deltas.push((id.clone(), item.clone(), MatchChange::Started));
        }
        self.selectors.insert(
            id,
            SelEntry {
                selector,
                anchor,
                matches: new_matches,
            },
        );
        sorted(deltas)
    }

    /// Removes selector `id`; every match it had stops.
    pub fn remove_selector(&mut self, id: &S) -> Vec<MatchDelta<S, I>> {
        let Some(old) = self.selectors.remove(id) else {
            return Vec::new();
        };
        self.unfile_selector(id, &old.anchor);
        let mut deltas = Vec::with_capacity(old.matches.len());
        for item in old.matches {
            if let Some(e) = self.items.get_mut(&item) {
                remove_sorted(&mut e.matches, id);
            }
            deltas.push((id.clone(), item, MatchChange::Stopped));
        }
        sorted(deltas)
    }

    /// Adds item `id` or replaces its own labels and its parents (in priority order).
    pub fn update_item(
        &mut self,
        id: I,
        labels: BTreeMap<String, String>,
        parents: Vec<P>,
    ) -> Vec<MatchDelta<S, I>> {
        let (old_labels, old_matches) = match self.items.remove(&id) {
            Some(old) => {
                for parent in &old.parents {
                    self.unlink_parent(parent, &id);
                }
                (Some(old.merged.unwrap_or(old.own)), old.matches)
            }
            None => (None, Vec::new()),
        };
        for parent in &parents {
            self.parents
                .entry(parent.clone())
                .or_insert_with(ParentEntry::empty)
                .children
                .insert(id.clone());
        }
        let merged = self.merge(&labels, &parents);
        let entry = ItemEntry {
            own: labels,
            parents,
            merged,
            matches: old_matches,
        };
        self.items.insert(id.clone(), entry);
        self.relabelled(&id, old_labels)
    }

    /// Removes item `id`; every match it had stops.
    pub fn remove_item(&mut self, id: &I) -> Vec<MatchDelta<S, I>> {
        let Some(old) = self.items.remove(id) else {
            return Vec::new();
        };
        for parent in &old.parents {
            self.unlink_parent(parent, id);
        }
        self.unfile_item(id, old.labels());
        let mut deltas = Vec::with_capacity(old.matches.len());
        for sel in old.matches {
            if let Some(e) = self.selectors.get_mut(&sel) {
                e.matches.remove(id);
            }
            deltas.push((sel, id.clone(), MatchChange::Stopped));
        }
        deltas
    }

    /// Sets the labels of parent `id`; its children inherit them.
    pub fn update_parent(
        &mut self,
        id: P,
        labels: BTreeMap<String, String>,
    ) -> Vec<MatchDelta<S, I>> {
        let entry = self
            .parents
            .entry(id.clone())
            .or_insert_with(ParentEntry::empty);
        if entry.labels.as_ref() == Some(&labels) {
            return Vec::new();
        }
        entry.labels = Some(labels);
        sorted(self.refresh_children(&id))
    }

    /// Forgets the labels of parent `id`. Items that name it as a parent keep naming it and
    /// inherit nothing from it until it is updated again.
    pub fn remove_parent(&mut self, id: &P) -> Vec<MatchDelta<S, I>> {
        let Some(entry) = self.parents.get_mut(id) else {
            return Vec::new();
        };
        if entry.labels.take().is_none() {
            return Vec::new();
        }
        let deltas = self.refresh_children(id);
        if self.parents.get(id).is_some_and(|e| e.children.is_empty()) {
            self.parents.remove(id);
        }
        sorted(deltas)
    }

    /// The items selector `id` matches, in no particular order.
    pub fn items_matching(&self, id: &S) -> impl Iterator<Item = &I> {
        self.selectors
            .get(id)
            .into_iter()
            .flat_map(|e| e.matches.iter())
    }

    /// The selectors that match item `id`, sorted.
    pub fn selectors_matching(&self, id: &I) -> impl Iterator<Item = &S> {
        self.items
            .get(id)
            .into_iter()
            .flat_map(|e| e.matches.iter())
    }

    /// Whether selector `sel` matches item `item`.
    pub fn is_match(&self, sel: &S, item: &I) -> bool {
        self.selectors
            .get(sel)
            .is_some_and(|e| e.matches.contains(item))
    }

    /// The selector filed as `id`.
    pub fn selector(&self, id: &S) -> Option<&Selector> {
        self.selectors.get(id).map(|e| &e.selector)
    }

    /// Item `id`'s labels with inherited ones merged in.
    pub fn item_labels(&self, id: &I) -> Option<&BTreeMap<String, String>> {
        self.items.get(id).map(ItemEntry::labels)
    }

    /// How many selectors are indexed.
    #[must_use]
    pub fn selector_count(&self) -> usize {
        self.selectors.len()
    }

    /// How many items are indexed.
    #[must_use]
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// Every current match, sorted (mainly for tests and debugging).
    #[must_use]
    pub fn all_matches(&self) -> Vec<(S, I)> {
        let mut all: Vec<(S, I)> = self
            .selectors
            .iter()
            .flat_map(|(s, e)| e.matches.iter().map(|i| (s.clone(), i.clone())))
            .collect();
        all.sort_unstable();
        all
    }
}

/// Sorts deltas so the output of every operation is deterministic.
fn sorted<S: Ord, I: Ord>(mut deltas: Vec<MatchDelta<S, I>>) -> Vec<MatchDelta<S, I>> {
    deltas.sort_unstable();
    deltas
}

fn insert_sorted<T: Ord>(v: &mut Vec<T>, x: T) {
    if let Err(at) = v.binary_search(&x) {
        v.insert(at, x);
    }
}

fn remove_sorted<T: Ord>(v: &mut Vec<T>, x: &T) {
    if let Ok(at) = v.binary_search(x) {
        v.remove(at);
    }
}
