//! Posting lists: sets of ids filed under a label name, or under a label name and value.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Ids filed under a label name.
#[derive(Debug, Clone)]
pub(super) struct ByKey<T> {
    map: HashMap<String, HashSet<T>>,
}

impl<T> Default for ByKey<T> {
    fn default() -> Self {
        ByKey {
            map: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash> ByKey<T> {
    pub(super) fn insert(&mut self, key: &str, id: T) {
        match self.map.get_mut(key) {
            Some(set) => {
                set.insert(id);
            }
            None => {
                self.map.insert(key.to_owned(), HashSet::from([id]));
            }
        }
    }

    pub(super) fn remove(&mut self, key: &str, id: &T) {
        if let Some(set) = self.map.get_mut(key) {
            set.remove(id);
            if set.is_empty() {
                self.map.remove(key);
            }
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&HashSet<T>> {
        self.map.get(key)
    }

    pub(super) fn count(&self, key: &str) -> usize {
        self.get(key).map_or(0, HashSet::len)
    }
}

/// Ids filed under a (label name, value) pair.
#[derive(Debug, Clone)]
pub(super) struct ByKeyValue<T> {
    map: HashMap<String, ByKey<T>>,
}

impl<T> Default for ByKeyValue<T> {
    fn default() -> Self {
        ByKeyValue {
            map: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash> ByKeyValue<T> {
    pub(super) fn insert(&mut self, key: &str, value: &str, id: T) {
        match self.map.get_mut(key) {
            Some(values) => values.insert(value, id),
            None => {
                let mut values = ByKey::default();
                values.insert(value, id);
                self.map.insert(key.to_owned(), values);
            }
        }
    }

    pub(super) fn remove(&mut self, key: &str, value: &str, id: &T) {
        if let Some(values) = self.map.get_mut(key) {
            values.remove(value, id);
            if values.map.is_empty() {
                self.map.remove(key);
            }
        }
    }

    pub(super) fn get(&self, key: &str, value: &str) -> Option<&HashSet<T>> {
        self.map.get(key).and_then(|values| values.get(value))
    }

    pub(super) fn count(&self, key: &str, value: &str) -> usize {
        self.get(key, value).map_or(0, HashSet::len)
    }
}
