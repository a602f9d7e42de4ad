//! The rendered table as data ([`Ruleset`]), its text as one `nft -f` script that replaces the
//! whole table atomically ([`Ruleset::full_script`]), and the minimal transaction that turns
//! one ruleset into another ([`delta_script`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use calico_policy::RuleId;

/// An nftables set or map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetDef {
    /// `ipv4_addr`, `ipv4_addr . inet_proto . inet_service`, `ifname : verdict`, ...
    pub type_: String,
    pub interval: bool,
    /// A verdict map (`map` keyword) rather than a set.
    pub is_map: bool,
    /// Element texts (`10.0.0.0/24`, `"cali1" : goto cali-tw-cali1`).
    pub elements: BTreeSet<String>,
}

impl SetDef {
    /// A map's element key is the text before ` : `.
    fn key(elem: &str) -> &str {
        elem.split_once(" : ").map_or(elem, |(k, _)| k)
    }
}

/// A chain: base chains carry their `type ... hook ... priority ...; policy ...;` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainDef {
    pub base: Option<String>,
    pub rules: Vec<String>,
}

/// The whole table, in a form that diffs cheaply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub table: String,
    pub sets: BTreeMap<String, SetDef>,
    pub chains: BTreeMap<String, ChainDef>,
    /// Rule comment → rule ID, for reading counters back.
    pub comments: BTreeMap<String, RuleId>,
}

fn set_header(out: &mut String, name: &str, s: &SetDef) {
    let kw = if s.is_map { "map" } else { "set" };
    let _ = write!(out, "{kw} {name} {{ type {};", s.type_);
    if s.interval {
        out.push_str(" flags interval;");
    }
}

fn elements(out: &mut String, elems: impl Iterator<Item = impl AsRef<str>>) {
    let mut first = true;
    for e in elems {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(e.as_ref());
    }
}

impl Ruleset {
    /// The table as nft text (`table inet NAME { ... }`), deterministic.
    pub fn table_text(&self) -> String {
        let mut out = String::with_capacity(self.text_len_hint());
        self.write_table(&mut out);
        out
    }

    /// Roughly how long the text is (so the script is built in one allocation).
    fn text_len_hint(&self) -> usize {
        let sets: usize = self
            .sets
            .iter()
            .map(|(n, s)| n.len() + 64 + s.elements.iter().map(|e| e.len() + 2).sum::<usize>())
            .sum();
        let chains: usize = self
            .chains
            .iter()
            .map(|(n, c)| n.len() + 16 + c.rules.iter().map(|r| r.len() + 5).sum::<usize>())
            .sum();
        sets + chains + 64
    }

    fn write_table(&self, out: &mut String) {
        let _ = writeln!(out, "table inet {} {{", self.table);
        for (name, s) in &self.sets {
            out.push_str("  ");
            set_header(out, name, s);
            if !s.elements.is_empty() {
                out.push_str(" elements = { ");
                elements(out, s.elements.iter());
                out.push_str(" };");
            }
            out.push_str(" }\n");
        }
        for (name, c) in &self.chains {
            let _ = writeln!(out, "  chain {name} {{");
            if let Some(b) = &c.base {
                let _ = writeln!(out, "    {b}");
            }
            for r in &c.rules {
                let _ = writeln!(out, "    {r}");
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
    }

    /// One transaction that replaces the table, whatever it held, with this ruleset.
    /// (`add` first so that `delete` cannot fail on a missing table.)
    pub fn full_script(&self) -> String {
        let mut out = String::with_capacity(self.text_len_hint() + 2 * self.table.len() + 32);
        let _ = write!(
            out,
            "add table inet {t}\ndelete table inet {t}\n",
            t = self.table
        );
        self.write_table(&mut out);
        out
    }
}

/// Why a delta cannot be written and the table must be replaced instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsFull(pub String);

/// The commands that turn `old` into `new` (both of the same table), in an order the kernel
/// accepts in one transaction: new sets and chains first (empty), then element changes,
/// then the changed chains' rules (flush + add), then map entries, then removals.
/// `Ok(None)` when nothing changed. A changed set type or base chain needs a full replace.
pub fn delta_script(old: &Ruleset, new: &Ruleset) -> Result<Option<String>, NeedsFull> {
    if old.table != new.table {
        return Err(NeedsFull("table renamed".into()));
    }
    let t = &new.table;
    let mut out = String::new();
    // 1. New sets and maps (with their elements: nothing refers to them yet).
    for (name, s) in &new.sets {
        match old.sets.get(name) {
            None => {
                let _ = write!(out, "add ");
                set_header(&mut out, &format!("inet {t} {name}"), s);
                out.push_str(" }\n");
            }
            Some(o) if o.type_ != s.type_ || o.interval != s.interval || o.is_map != s.is_map => {
                return Err(NeedsFull(format!("set {name} changed type")));
            }
            Some(_) => {}
        }
    }
    // 2. New chains (empty).
    for (name, c) in &new.chains {
        match old.chains.get(name) {
            None if c.base.is_some() => return Err(NeedsFull(format!("new base chain {name}"))),
            None => {
                let _ = writeln!(out, "add chain inet {t} {name}");
            }
            Some(o) if o.base != c.base => {
                return Err(NeedsFull(format!("base chain {name} changed")));
            }
            Some(_) => {}
        }
    }
    for (name, o) in &old.chains {
        if o.base.is_some() && !new.chains.contains_key(name) {
            return Err(NeedsFull(format!("base chain {name} removed")));
        }
    }
    // 3. Set elements (not maps: their verdicts may name chains about to change).
    let empty = BTreeSet::new();
    for (name, s) in new.sets.iter().filter(|(_, s)| !s.is_map) {
        let before = old.sets.get(name).map_or(&empty, |o| &o.elements);
        let gone: Vec<&String> = before.difference(&s.elements).collect();
        let added: Vec<&String> = s.elements.difference(before).collect();
        if !gone.is_empty() {
            let _ = write!(out, "delete element inet {t} {name} {{ ");
            elements(&mut out, gone.iter());
            out.push_str(" }\n");
        }
        if !added.is_empty() {
            let _ = write!(out, "add element inet {t} {name} {{ ");
            elements(&mut out, added.iter());
            out.push_str(" }\n");
        }
    }
    // 4. Rules of new and changed chains.
    for (name, c) in &new.chains {
        let before = old.chains.get(name);
        if before.map(|o| &o.rules) == Some(&c.rules) {
            continue;
        }
        if before.is_some_and(|o| !o.rules.is_empty()) {
            let _ = writeln!(out, "flush chain inet {t} {name}");
        }
        for r in &c.rules {
            let _ = writeln!(out, "add rule inet {t} {name} {r}");
        }
    }
    // 5. Map entries: removed or changed keys out, then new values in.
    for (name, s) in new.sets.iter().filter(|(_, s)| s.is_map) {
        let before = old.sets.get(name).map_or(&empty, |o| &o.elements);
        let gone: Vec<&str> = before
            .difference(&s.elements)
            .map(|e| SetDef::key(e))
            .collect();
        let added: Vec<&String> = s.elements.difference(before).collect();
        if !gone.is_empty() {
            let _ = write!(out, "delete element inet {t} {name} {{ ");
            elements(&mut out, gone.iter());
            out.push_str(" }\n");
        }
        if !added.is_empty() {
            let _ = write!(out, "add element inet {t} {name} {{ ");
            elements(&mut out, added.iter());
            out.push_str(" }\n");
        }
    }
    // 6. Removed chains: empty them all first (they may jump to each other), then delete.
    let removed: Vec<&String> = old
        .chains
        .keys()
        .filter(|n| !new.chains.contains_key(*n))
        .collect();
    for name in &removed {
        if old.chains.get(*name).is_some_and(|c| !c.rules.is_empty()) {
            let _ = writeln!(out, "flush chain inet {t} {name}");
        }
    }
    for name in &removed {
        let _ = writeln!(out, "delete chain inet {t} {name}");
    }
    // 7. Removed sets and maps.
    for name in old.sets.keys().filter(|n| !new.sets.contains_key(*n)) {
        let kw = if old.sets.get(name).is_some_and(|s| s.is_map) {
            "map"
        } else {
            "set"
        };
        let _ = writeln!(out, "delete {kw} inet {t} {name}");
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}
