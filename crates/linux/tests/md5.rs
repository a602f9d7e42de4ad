//! Kernel test of TCP MD5 signatures: run as root inside a namespace it creates and removes.
//! A listener with a key for the client's address accepts a client signing with the same key,
//! and completes no connection from a client without a key or with another key.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::process::Command;
use std::time::Duration;

use calico_linux::{NamedNetns, remove_stale_netns, set_tcp_md5sig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const PREFIX: &str = "md5t-";

fn netns(tag: &str) -> NamedNetns {
    remove_stale_netns(PREFIX);
    let name = format!("{PREFIX}{}-{tag}", std::process::id());
    let ns = NamedNetns::create(&name).unwrap_or_else(|e| {
        panic!("cannot create network namespace {name} (this test needs root): {e}")
    });
    let ok = Command::new("ip")
        .args(["netns", "exec", &name, "ip", "link", "set", "lo", "up"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "ip link set lo up in {name}");
    ns
}

/// Run `f` on a dedicated thread inside `ns`, with a current-thread runtime created there.
fn in_netns<T: Send + 'static>(
    ns: &NamedNetns,
    f: impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = T>>> + Send + 'static,
) -> T {
    let path = ns.path().to_owned();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(f())
    })
    .join()
    .unwrap()
}

fn socket(addr: SocketAddr) -> TcpSocket {
    if addr.is_ipv4() {
        TcpSocket::new_v4().unwrap()
    } else {
        TcpSocket::new_v6().unwrap()
    }
}

async fn listener(addr: SocketAddr, key: &[u8]) -> TcpListener {
    let s = socket(addr);
    s.bind(addr).unwrap();
    // The client connects from the same loopback address.
    set_tcp_md5sig(s.as_fd(), SocketAddr::new(addr.ip(), 0), key).unwrap();
    s.listen(8).unwrap()
}

/// Connect with `key` (none: unsigned). Bounded: a connection that does not complete within
/// 3 s counts as refused (segments failing the MD5 check are silently dropped).
async fn connect(to: SocketAddr, key: Option<&[u8]>) -> Option<TcpStream> {
    let s = socket(to);
    if let Some(k) = key {
        set_tcp_md5sig(s.as_fd(), to, k).unwrap();
    }
    tokio::time::timeout(Duration::from_secs(3), s.connect(to))
        .await
        .ok()
        .and_then(Result::ok)
}

async fn scenario(ip: &str) {
    let l = listener(SocketAddr::new(ip.parse().unwrap(), 0), b"s3cret").await;
    let addr = l.local_addr().unwrap();

    // Same key: the connection completes and carries data.
    let (c, a) = tokio::join!(connect(addr, Some(b"s3cret")), l.accept());
    let mut c = c.expect("client with the right key connects");
    let (mut a, _) = a.unwrap();
    c.write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 2];
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hi");

    // No key, wrong key: no connection completes, nothing is accepted.
    assert!(
        connect(addr, None).await.is_none(),
        "unsigned client connected"
    );
    assert!(
        connect(addr, Some(b"wrong")).await.is_none(),
        "client with a wrong key connected"
    );
    let none = tokio::time::timeout(Duration::from_millis(200), l.accept()).await;
    assert!(
        none.is_err(),
        "listener accepted an unauthenticated connection"
    );
}

#[test]
fn md5_listener_accepts_only_matching_key_v4() {
    let ns = netns("v4");
    in_netns(&ns, || Box::pin(scenario("127.0.0.1")));
}

#[test]
fn md5_listener_accepts_only_matching_key_v6() {
    let ns = netns("v6");
    in_netns(&ns, || Box::pin(scenario("::1")));
}

#[test]
fn md5_key_of_80_bytes_is_accepted() {
    let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    set_tcp_md5sig(s.as_fd(), "127.0.0.1:0".parse().unwrap(), &[b'k'; 80]).unwrap();
}
