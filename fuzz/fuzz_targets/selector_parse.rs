//! Feeds arbitrary UTF-8 to the selector parser. Whatever parses must print to a canonical form
//! that reparses to the same tree (and is a fixpoint), and evaluating it must not panic.
#![no_main]

use std::collections::BTreeMap;

use calico_selector::Selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let selector = match Selector::parse(input) {
        Ok(selector) => selector,
        Err(err) => {
            assert!(input.is_char_boundary(err.offset));
            let _ = err.to_string();
            return;
        }
    };
    let canonical = selector.to_string();
    let reparsed = Selector::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical form {canonical:?} of {input:?} does not parse: {e}"));
    assert_eq!(reparsed, selector, "canonical form {canonical:?} of {input:?}");
    assert_eq!(reparsed.to_string(), canonical);
    let _ = selector.unique_id();

    // Evaluate against labels built from the selector's own names, so comparisons get exercised.
    let names = selector.label_names();
    let empty = BTreeMap::new();
    let present: BTreeMap<String, String> =
        names.iter().map(|n| ((*n).to_owned(), String::new())).collect();
    let own_name: BTreeMap<String, String> =
        names.iter().map(|n| ((*n).to_owned(), (*n).to_owned())).collect();
    for labels in [&empty, &present, &own_name] {
        let matched = selector.matches(labels);
        assert_eq!(matched, reparsed.matches(labels));
        if matched {
            for (name, r) in selector.label_restrictions() {
                assert!(r.allows(labels.get(&name).map(String::as_str)), "{canonical}: {name}");
            }
        }
    }
});
