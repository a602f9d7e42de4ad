//! Kernel test (root, in a namespace of its own): the netlink route table installs, lists and
//! deletes routes with protocol 186 (`proto bgp`) and never lists or deletes other routes.

use std::fs::File;
use std::process::Command;

use calico_bgp_io::kernel::{BGP_ROUTE_PROTOCOL, Netlink, RouteTable};
use calico_bgp_io::routes::RouteSpec;
use calico_linux::{NamedNetns, remove_stale_netns};
use nix::sched::{CloneFlags, setns};

fn ip(ns: &str, args: &str) -> String {
    let mut full = vec!["-n", ns];
    full.extend(args.split_whitespace());
    let out = Command::new("ip").args(&full).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn netlink_table_owns_only_its_protocol() {
    remove_stale_netns("bgpio-");
    let ns = NamedNetns::create(&format!("bgpio-{}-k", std::process::id())).expect("netns");
    let n = ns.name().to_owned();
    ip(&n, "link set lo up");
    ip(&n, "link add eth0 type veth peer name eth1");
    ip(&n, "addr add 10.88.0.1/24 dev eth0");
    ip(&n, "link set eth0 up");
    ip(&n, "link set eth1 up");
    ip(&n, "route add 192.168.6.0/26 via 10.88.0.2 proto static");
    let path = ns.path().to_owned();
    let listed = std::thread::spawn(move || {
        setns(
            File::open(&path).expect("open netns"),
            CloneFlags::CLONE_NEWNET,
        )
        .expect("setns");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut t = Netlink::open(BGP_ROUTE_PROTOCOL).expect("netlink");
            let r = RouteSpec {
                dst: "192.168.5.0/26".parse().expect("net"),
                gateway: "10.88.0.2".parse().expect("ip"),
                dev: "eth0".into(),
                onlink: false,
            };
            t.replace(&r).await.expect("replace");
            t.replace(&r).await.expect("replace is idempotent");
            let before = t.list().await.expect("list");
            let missing = RouteSpec {
                dev: "nope0".into(),
                ..r.clone()
            };
            let e = t.replace(&missing).await.expect_err("no such device");
            assert!(e.to_string().contains("device nope0 does not exist"), "{e}");
            (before, r)
        })
    })
    .join()
    .expect("thread");
    let (before, r) = listed;
    assert_eq!(before, vec![r]);
    let shown = ip(&n, "route show 192.168.5.0/26");
    assert!(
        shown.contains("via 10.88.0.2 dev eth0 proto bgp"),
        "{shown}"
    );

    let path = ns.path().to_owned();
    std::thread::spawn(move || {
        setns(
            File::open(&path).expect("open netns"),
            CloneFlags::CLONE_NEWNET,
        )
        .expect("setns");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut t = Netlink::open(BGP_ROUTE_PROTOCOL).expect("netlink");
            t.delete("192.168.5.0/26".parse().expect("net"))
                .await
                .expect("delete");
            t.delete("192.168.6.0/26".parse().expect("net"))
                .await
                .expect("deleting a foreign route is a no-op");
            assert!(t.list().await.expect("list").is_empty());
            // Blackholes (an affine block) are ours too, listed and deleted by destination.
            let hole: ipnet::IpNet = "192.168.7.0/26".parse().expect("net");
            t.replace_blackhole(hole).await.expect("blackhole");
            t.replace_blackhole(hole)
                .await
                .expect("blackhole is idempotent");
            assert_eq!(t.destinations().await.expect("destinations"), vec![hole]);
            t.delete(hole).await.expect("delete blackhole");
            t.delete(hole).await.expect("deleting twice is a no-op");
            assert!(t.destinations().await.expect("destinations").is_empty());
        })
    })
    .join()
    .expect("thread");
    let all = ip(&n, "route show");
    assert!(!all.contains("192.168.5.0/26"), "{all}");
    assert!(
        all.contains("192.168.6.0/26 via 10.88.0.2 dev eth0 proto static"),
        "{all}"
    );
}
