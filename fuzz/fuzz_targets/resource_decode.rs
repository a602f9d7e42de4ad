//! Feeds arbitrary text to the resource decoder (YAML or JSON, multi-document, Lists). Nothing
//! may panic; every resource that decodes and validates must survive a YAML and a JSON round
//! trip unchanged.
#![no_main]

use calico_api::codec::{decode_all, to_json, to_yaml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = decode_all(text) else {
        return;
    };
    for (_, doc) in docs {
        let Ok(mut r) = doc else { continue };
        r.apply_defaults();
        if r.validate().is_err() {
            continue;
        }
        let value = r.to_value();
        for text in [to_yaml(&value).expect("yaml"), to_json(&value).expect("json")] {
            let back = decode_all(&text).expect("own output parses");
            assert_eq!(back.len(), 1, "{text}");
            let again = back.into_iter().next().and_then(|(_, r)| r.ok()).expect("decodes");
            assert_eq!(again, r, "round trip through {text}");
        }
    }
});
