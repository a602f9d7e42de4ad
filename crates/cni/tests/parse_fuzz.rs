//! The stdin parser and the CNI_ARGS parser never panic, whatever the bytes; errors always
//! carry a spec code.

use calico_cni::env::CniArgs;
use calico_cni::parse_netconf;
use proptest::prelude::*;

fn json_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z0-9_.:/ -]{0,12}".prop_map(|s| format!("{s:?}")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop_oneof![
            Just("cniVersion"),
            Just("name"),
            Just("type"),
            Just("ipam"),
            Just("mtu"),
            Just("assign_ipv4"),
            Just("ipv4_pools"),
            Just("container_settings"),
            Just("allow_ip_forwarding"),
            Just("prevResult"),
            Just("nodename"),
            Just("x"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((keys, inner), 0..5).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = parse_netconf(&bytes) {
            prop_assert!(matches!(e.code, 1 | 6 | 7), "{e:?}");
        }
    }

    #[test]
    fn json_shapes_never_panic(doc in json_like()) {
        match parse_netconf(doc.as_bytes()) {
            Ok(p) => { let _ = p.conf.validate(); }
            Err(e) => prop_assert!(matches!(e.code, 1 | 6 | 7), "{e:?}"),
        }
    }

    #[test]
    fn cni_args_never_panic(s in "[A-Za-z0-9_=;.:]{0,64}") {
        if let Err(e) = CniArgs::parse(&s) {
            prop_assert_eq!(e.code, 4);
        }
    }
}
