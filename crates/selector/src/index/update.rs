//! The index's internals: merging inherited labels, filing items and selectors in the posting
//! lists, choosing anchors, and re-evaluating the candidates after a change.

use std::collections::BTreeMap;
use std::hash::Hash;

use super::postings::{ByKey, ByKeyValue};
use super::{Anchor, LabelIndex, LabelMap, MatchChange, MatchDelta};
use crate::{LabelRestriction, Selector};

impl<S, I, P> LabelIndex<S, I, P>
where
    S: Clone + Eq + Hash + Ord,
    I: Clone + Eq + Hash + Ord,
    P: Clone + Eq + Hash,
{
    /// `own` layered over the parents' labels (first parent first), or `None` when the parents
    /// contribute nothing.
    pub(super) fn merge(&self, own: &LabelMap, parents: &[P]) -> Option<LabelMap> {
        let mut merged: Option<LabelMap> = None;
        for parent in parents {
            let Some(labels) = self.parents.get(parent).and_then(|p| p.labels.as_ref()) else {
                continue;
            };
            for (k, v) in labels {
                if !own.contains_key(k) {
                    let m = merged.get_or_insert_with(|| own.clone());
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        merged
    }

    pub(super) fn unlink_parent(&mut self, parent: &P, child: &I) {
        if let Some(entry) = self.parents.get_mut(parent) {
            entry.children.remove(child);
            if entry.children.is_empty() && entry.labels.is_none() {
                self.parents.remove(parent);
            }
        }
    }

    /// Re-merges the labels of every child of `parent` after the parent's labels changed.
    pub(super) fn refresh_children(&mut self, parent: &P) -> Vec<MatchDelta<S, I>> {
        let children: Vec<I> = self
            .parents
            .get(parent)
            .map(|e| e.children.iter().cloned().collect())
            .unwrap_or_default();
        let mut deltas = Vec::new();
        for child in children {
            let Some(entry) = self.items.get(&child) else {
                continue;
            };
            let merged = self.merge(&entry.own, &entry.parents);
            let Some(entry) = self.items.get_mut(&child) else {
                continue;
            };
            let old = match std::mem::replace(&mut entry.merged, merged) {
                Some(old) => old,
                None => entry.own.clone(),
            };
            deltas.extend(self.relabelled(&child, Some(old)));
        }
        deltas
    }

    /// After item `id`'s labels changed from `old` (`None`: the item is new) to what its entry
    /// now holds: refiles it and re-evaluates the candidate selectors. Deltas come out sorted.
    pub(super) fn relabelled(&mut self, id: &I, old: Option<LabelMap>) -> Vec<MatchDelta<S, I>> {
        let LabelIndex {
            selectors,
            items,
            items_by_value,
            items_by_key,
            sels_by_value,
            sels_by_key,
            sels_scan,
            ..
        } = self;
        let Some(entry) = items.get_mut(id) else {
            return Vec::new();
        };
        let new = entry.merged.as_ref().unwrap_or(&entry.own);
        if old.as_ref() == Some(new) {
            return Vec::new();
        }
        refile(
            items_by_value,
            items_by_key,
            id,
            &old.unwrap_or_default(),
            new,
        );

        let mut candidates: Vec<&S> = sels_scan.iter().collect();
        for (k, v) in new {
            candidates.extend(sels_by_value.get(k, v).into_iter().flatten());
            candidates.extend(sels_by_key.get(k).into_iter().flatten());
        }
        candidates.sort_unstable();
        candidates.dedup();
        let new_matches: Vec<S> = candidates
            .into_iter()
            .filter(|s| selectors.get(*s).is_some_and(|e| e.selector.matches(new)))
            .cloned()
            .collect();
        let old_matches = std::mem::replace(&mut entry.matches, new_matches);

        // Both lists are sorted: walk them together.
        let mut deltas = Vec::new();
        let (mut olds, mut news) = (
            old_matches.into_iter().peekable(),
            entry.matches.iter().peekable(),
        );
        loop {
            let change = match (olds.peek(), news.peek()) {
                (None, None) => break,
                (Some(o), Some(n)) if o == *n => {
                    olds.next();
                    news.next();
                    continue;
                }
                (Some(o), Some(n)) if o < *n => MatchChange::Stopped,
                (Some(_), None) => MatchChange::Stopped,
                _ => MatchChange::Started,
            };
            let sel = match change {
                MatchChange::Stopped => olds.next(),
                MatchChange::Started => news.next().cloned(),
            };
            let Some(sel) = sel else { break };
            if let Some(e) = selectors.get_mut(&sel) {
                match change {
                    MatchChange::Started => e.matches.insert(id.clone()),
                    MatchChange::Stopped => e.matches.remove(id),
                };
            }
            deltas.push((sel, id.clone(), change));
        }
        deltas
    }

    pub(super) fn unfile_item(&mut self, id: &I, labels: &LabelMap) {
        for (k, v) in labels {
            self.items_by_value.remove(k, v, id);
            self.items_by_key.remove(k, id);
        }
    }

    /// Picks the most selective anchor: a label with required values (fewest candidate items
    /// now, then fewest values), else a required label (fewest items), else a scan.
    pub(super) fn choose_anchor(&self, selector: &Selector) -> Anchor {
        let restrictions = selector.label_restrictions();
        if restrictions
            .values()
            .any(LabelRestriction::is_unsatisfiable)
        {
            return Anchor::Never;
        }
        let by_values = restrictions
            .iter()
            .filter_map(|(k, r)| r.one_of.as_ref().map(|vs| (k, vs)))
            .min_by_key(|(k, vs)| {
                let count: usize = vs.iter().map(|v| self.items_by_value.count(k, v)).sum();
                (count, vs.len())
            });
        if let Some((k, vs)) = by_values {
            return Anchor::Values(k.clone(), vs.clone());
        }
        restrictions
            .iter()
            .filter(|(_, r)| r.must_be_present)
            .min_by_key(|(k, _)| self.items_by_key.count(k))
            .map_or(Anchor::Scan, |(k, _)| Anchor::Key(k.clone()))
    }

    pub(super) fn file_selector(&mut self, id: &S, anchor: &Anchor) {
        match anchor {
            Anchor::Never => {}
            Anchor::Values(k, vs) => {
                for v in vs {
                    self.sels_by_value.insert(k, v, id.clone());
                }
            }
            Anchor::Key(k) => self.sels_by_key.insert(k, id.clone()),
            Anchor::Scan => {
                self.sels_scan.insert(id.clone());
            }
        }
    }

    pub(super) fn unfile_selector(&mut self, id: &S, anchor: &Anchor) {
        match anchor {
            Anchor::Never => {}
            Anchor::Values(k, vs) => {
                for v in vs {
                    self.sels_by_value.remove(k, v, id);
                }
            }
            Anchor::Key(k) => self.sels_by_key.remove(k, id),
            Anchor::Scan => {
                self.sels_scan.remove(id);
            }
        }
    }

    /// The items a selector with this anchor could match (each at most once: an item has one
    /// value per label).
    pub(super) fn candidate_items<'a>(
        &'a self,
        anchor: &'a Anchor,
    ) -> Box<dyn Iterator<Item = &'a I> + 'a> {
        match anchor {
            Anchor::Never => Box::new(std::iter::empty()),
            Anchor::Values(k, vs) => Box::new(
                vs.iter()
                    .flat_map(move |v| self.items_by_value.get(k, v).into_iter().flatten()),
            ),
            Anchor::Key(k) => Box::new(self.items_by_key.get(k).into_iter().flatten()),
            Anchor::Scan => Box::new(self.items.keys()),
        }
    }
}

/// Moves an item's postings from `old` labels to `new` labels, touching only what changed.
fn refile<I: Clone + Eq + Hash>(
    by_value: &mut ByKeyValue<I>,
    by_key: &mut ByKey<I>,
    id: &I,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) {
    for (k, v) in old {
        match new.get(k) {
            Some(nv) if nv == v => {}
            Some(_) => by_value.remove(k, v, id),
            None => {
                by_value.remove(k, v, id);
                by_key.remove(k, id);
            }
        }
    }
    for (k, v) in new {
        match old.get(k) {
            Some(ov) if ov == v => {}
            Some(_) => by_value.insert(k, v, id.clone()),
            None => {
                by_value.insert(k, v, id.clone());
                by_key.insert(k, id.clone());
            }
        }
    }
}
