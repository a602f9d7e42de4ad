//! Session FSM tests: two sessions wired back to back through the codec.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::time::Duration;

use calico_bgp::fsm::*;
use calico_bgp::wire::*;

const T0: Duration = Duration::from_secs(1000);

fn cfg(local: u32, remote: u32, id: u8) -> SessionConfig {
    SessionConfig::new(local, remote, Ipv4Addr::new(10, 0, 0, id))
}

/// Deliver every Send of `acts` to `to`, through encode/decode, returning `to`'s actions.
fn deliver(acts: &[Action], to: &mut Session, now: Duration) -> Vec<Action> {
    let mut out = Vec::new();
    for a in acts {
        if let Action::Send(m) = a {
            let b = m
                .encode(WireOptions {
                    four_octet_as: true,
                })
                .unwrap();
            let d = decode_message(
                &b,
                WireOptions {
                    four_octet_as: true,
                },
            )
            .unwrap();
            out.extend(to.handle(Event::Message(d), now));
        }
    }
    out
}

fn establish(a: &mut Session, b: &mut Session) -> (Vec<Action>, Vec<Action>) {
    let aa = a.handle(Event::ManualStart, T0);
    assert!(aa.contains(&Action::Connect));
    assert_eq!(a.state(), State::Connect);
    b.handle(Event::ManualStart, T0);
    assert_eq!(b.state(), State::Active, "passive side waits");
    let a1 = a.handle(Event::TcpConnectionConfirmed, T0);
    let b1 = b.handle(Event::TcpConnectionAccepted, T0);
    assert_eq!((a.state(), b.state()), (State::OpenSent, State::OpenSent));
    let b2 = deliver(&a1, b, T0);
    let a2 = deliver(&b1, a, T0);
    assert_eq!(
        (a.state(), b.state()),
        (State::OpenConfirm, State::OpenConfirm)
    );
    let b3 = deliver(&a2, b, T0);
    let a3 = deliver(&b2, a, T0);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    (a3, b3)
}

#[test]
fn establishes_and_negotiates() {
    let mut a = Session::new(cfg(64512, 64512, 1), T0);
    let mut bc = cfg(64512, 64512, 2);
    bc.passive = true;
    bc.hold_time = 90;
    let mut b = Session::new(bc, T0);
    let (a3, _) = establish(&mut a, &mut b);
    let up = a3.iter().find_map(|x| match x {
        Action::SessionUp(n) => Some(n.clone()),
        _ => None,
    });
    let n = up.unwrap();
    assert_eq!(n.hold_time, 90, "minimum of both hold times");
    assert_eq!(n.keepalive_time, 30);
    assert_eq!(n.families, vec![Family::Ipv4, Family::Ipv6]);
    assert!(n.wire.four_octet_as && n.route_refresh && n.enhanced_route_refresh);
    assert_eq!(
        n.peer_graceful_restart.as_ref().unwrap().restart_time,
        DEFAULT_RESTART_TIME
    );
    assert!(n.peer_forwarding_preserved(Family::Ipv6));
    // Keepalive timer fires: a KEEPALIVE goes out and the timer is re-armed.
    let k = a.handle(
        Event::Timer(TimerKind::Keepalive),
        T0 + Duration::from_secs(30),
    );
    assert!(k.contains(&Action::Send(Message::Keepalive)));
    assert_eq!(a.next_deadline(), Some(T0 + Duration::from_secs(60)));
    // Hold timer expiry: NOTIFICATION 4/0, session down, restart scheduled.
    let h = a.handle(Event::Timer(TimerKind::Hold), T0 + Duration::from_secs(90));
    assert!(
        h.iter()
            .any(|x| matches!(x, Action::Send(Message::Notification(n)) if n.code == 4))
    );
    assert!(
        h.iter()
            .any(|x| matches!(x, Action::SessionDown(r) if !r.graceful))
    );
    assert_eq!(a.state(), State::Idle);
    assert_eq!(
        a.expired(T0 + Duration::from_secs(95)),
        vec![TimerKind::ConnectRetry]
    );
    let r = a.handle(
        Event::Timer(TimerKind::ConnectRetry),
        T0 + Duration::from_secs(95),
    );
    assert!(r.contains(&Action::Connect));
}

#[test]
fn wrong_peer_as_is_refused() {
    let mut a = Session::new(cfg(64512, 65000, 1), T0);
    let mut b = Session::new(cfg(64999, 64512, 2), T0);
    a.handle(Event::ManualStart, T0);
    b.handle(Event::ManualStart, T0);
    a.handle(Event::TcpConnectionConfirmed, T0);
    let b1 = b.handle(Event::TcpConnectionAccepted, T0);
    let a2 = deliver(&b1, &mut a, T0);
    let n = a2.iter().find_map(|x| match x {
        Action::Send(Message::Notification(n)) => Some(n.clone()),
        _ => None,
    });
    assert_eq!(n.map(|n| (n.code, n.subcode)), Some((2, 2)));
    assert!(a2.contains(&Action::CloseConnection));
    assert_eq!(a.state(), State::Idle);
    assert!(
        a.last_error()
            .unwrap()
            .contains("peer AS 64999, expected 65000")
    );
}

#[test]
fn connection_loss_in_established_is_graceful_and_decode_errors_are_not() {
    let mut a = Session::new(cfg(1, 2, 1), T0);
    let mut bc = cfg(2, 1, 2);
    bc.passive = true;
    let mut b = Session::new(bc, T0);
    establish(&mut a, &mut b);
    let d = a.handle(Event::TcpConnectionFails, T0);
    assert!(
        d.iter()
            .any(|x| matches!(x, Action::SessionDown(r) if r.graceful))
    );
    let e = decode_message(&[0u8; 19], WireOptions::default()).unwrap_err();
    let d = b.handle(Event::DecodeError(e), T0);
    assert!(d.iter().any(
        |x| matches!(x, Action::Send(Message::Notification(n)) if (n.code, n.subcode) == (1, 1))
    ));
    assert!(
        d.iter()
            .any(|x| matches!(x, Action::SessionDown(r) if !r.graceful))
    );
}

#[test]
fn open_with_restart_bit_and_forwarding_flags() {
    let mut c = cfg(1, 1, 1);
    c.graceful_restart = Some(GrConfig {
        restart_time: 300,
        restarting: true,
        forwarding_preserved: true,
    });
    let o = c.open();
    let g = o.graceful_restart().unwrap();
    assert!(g.restarting);
    assert_eq!(g.restart_time, 300);
    assert!(g.families.iter().all(|(_, f)| *f));
    let mut c = cfg(1, 1, 1);
    c.graceful_restart = None;
    assert!(c.open().graceful_restart().is_none());
    assert_eq!(c.open().my_as, 1);
    assert_eq!(cfg(4_200_000_000, 1, 1).open().my_as, AS_TRANS);
}
