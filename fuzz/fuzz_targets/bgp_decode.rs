//! Feeds arbitrary bytes to the BGP framer and message decoder (both AS-number widths).
//! Nothing may panic; every message that decodes without attribute issues must re-encode
//! and decode to the same value.
#![no_main]

use calico_bgp::wire::{Framer, WireOptions, decode_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for four_octet_as in [false, true] {
        let opts = WireOptions { four_octet_as };
        let mut framer = Framer::default();
        framer.push(data);
        while let Ok(Some(frame)) = framer.next_frame() {
            let Ok(d) = decode_message(&frame, opts) else { continue };
            if !d.issues.is_empty() {
                continue;
            }
            let Ok(bytes) = d.message.encode(opts) else { continue };
            let again = decode_message(&bytes, opts).expect("own encoding decodes");
            assert_eq!(again.message, d.message);
        }
        let _ = decode_message(data, opts);
    }
});
