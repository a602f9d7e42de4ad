//! The datastore key layout (Calico's etcd v3 layout).

use calico_api::KindInfo;

const ROOT: &str = "/calico/resources/v3";

fn group(info: &KindInfo) -> &'static str {
    if info.is_calico() {
        "projectcalico.org"
    } else {
        "k8s"
    }
}

/// The key of one resource.
pub fn key_for(info: &KindInfo, namespace: &str, name: &str) -> String {
    if info.namespaced {
        format!("{ROOT}/{}/{}/{namespace}/{name}", group(info), info.plural)
    } else {
        format!("{ROOT}/{}/{}/{name}", group(info), info.plural)
    }
}

/// The prefix under which every resource of a kind (optionally of one namespace) lives.
pub fn kind_prefix(info: &KindInfo, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if info.namespaced => {
            format!("{ROOT}/{}/{}/{ns}/", group(info), info.plural)
        }
        _ => format!("{ROOT}/{}/{}/", group(info), info.plural),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use calico_api::find_kind;

    use super::*;

    #[test]
    fn layout() {
        let pool = find_kind("IPPool", None).unwrap();
        assert_eq!(
            key_for(pool, "", "p1"),
            "/calico/resources/v3/projectcalico.org/ippools/p1"
        );
        let np = find_kind("NetworkPolicy", None).unwrap();
        assert_eq!(
            key_for(np, "ns1", "a"),
            "/calico/resources/v3/projectcalico.org/networkpolicies/ns1/a"
        );
        assert_eq!(
            kind_prefix(np, Some("ns1")),
            "/calico/resources/v3/projectcalico.org/networkpolicies/ns1/"
        );
        let knp = find_kind("NetworkPolicy", Some("networking.k8s.io/v1")).unwrap();
        assert_eq!(
            key_for(knp, "ns1", "a"),
            "/calico/resources/v3/k8s/networkpolicies/ns1/a"
        );
    }
}
