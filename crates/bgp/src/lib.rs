//! A sans-IO BGP speaker for calico-node (layer 1: no sockets, no async runtime, no clock
//! reads; time is always an argument).
//!
//! # Modules
//!
//! - [`wire`]: the message codec. [`wire::Message::encode`] / [`wire::decode_message`] for
//!   OPEN (capabilities: multiprotocol IPv4/IPv6 unicast, route refresh, enhanced route
//!   refresh, graceful restart, 4-octet AS), UPDATE (ORIGIN, AS_PATH with AS4_PATH merge,
//!   NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES, ORIGINATOR_ID,
//!   CLUSTER_LIST, MP_REACH/MP_UNREACH, unknown transitive attributes), NOTIFICATION,
//!   KEEPALIVE, ROUTE-REFRESH and End-of-RIB. RFC 7606: a malformed UPDATE is either a
//!   [`wire::DecodeError`] (session reset, with the NOTIFICATION to send) or decodes with
//!   [`wire::AttrIssue`]s (attribute discard / treat-as-withdraw). [`wire::Framer`] cuts a
//!   byte stream into messages.
//! - [`fsm`]: one session's RFC 4271 §8 state machine ([`fsm::Session`]: [`fsm::Event`] in,
//!   [`fsm::Action`]s out, timers as deadlines), OPEN checks and capability negotiation
//!   ([`fsm::Negotiated`]).
//! - [`rib`]: one compact prefix table (Loc-RIB, with each prefix's Adj-RIB-Out state;
//!   a source's Adj-RIB-In is a walk of it) and the decision process
//!   ([`rib::best_path`]); graceful-restart stale marking and sweeping.
//! - [`export`]: what a path looks like towards one peer (next hop, AS_PATH prepend, route
//!   reflection) and the [`export::RoutePolicy`] hook for import/export filters (Calico's
//!   BGPFilter, `keepOriginalNextHop` via [`export::NextHopMode`]).
//! - [`speaker`]: the façade the I/O layer drives ([`speaker::Speaker`]).
//!
//! # Driving a [`speaker::Speaker`]
//!
//! `now` is a [`std::time::Duration`] since any fixed origin (e.g. the daemon's start).
//!
//! | I/O layer sees | calls |
//! |---|---|
//! | configuration | [`Speaker::add_peer`](speaker::Speaker::add_peer) (re-adding with a changed config restarts the session), [`Speaker::remove_peer`](speaker::Speaker::remove_peer), [`Speaker::set_policy`](speaker::Speaker::set_policy) then [`Speaker::policy_changed`](speaker::Speaker::policy_changed) (re-export, ROUTE-REFRESH for re-import) |
//! | routes to advertise | [`Speaker::originate`](speaker::Speaker::originate) / [`Speaker::withdraw`](speaker::Speaker::withdraw), or in bulk (packed UPDATEs) [`Speaker::originate_all`](speaker::Speaker::originate_all) / [`Speaker::withdraw_all`](speaker::Speaker::withdraw_all) |
//! | outbound connect result | [`Speaker::connected`](speaker::Speaker::connected)`(conn, local_addr, now)` / [`Speaker::connect_failed`](speaker::Speaker::connect_failed) |
//! | inbound connection | [`Speaker::accepted`](speaker::Speaker::accepted)`(peer, local, now) -> Option<ConnId>` (`None`: close it) |
//! | bytes read | [`Speaker::received`](speaker::Speaker::received)`(conn, bytes, now)` (any split) |
//! | EOF / error | [`Speaker::closed`](speaker::Speaker::closed)`(conn, now)` |
//! | time passes | [`Speaker::tick`](speaker::Speaker::tick) at [`Speaker::next_deadline`](speaker::Speaker::next_deadline) |
//!
//! After each call, take [`speaker::Output`]s with
//! [`Speaker::poll_output`](speaker::Speaker::poll_output): `Connect { conn, peer, port }`,
//! `Send { conn, bytes }`, `Close { conn }`, `Route { prefix, route: Option<KernelRoute> }`
//! (install/remove the kernel route), `SessionUp` / `SessionDown`.
//! [`Speaker::peer_status`](speaker::Speaker::peer_status) gives the rows of
//! `calicoctl node status`.
//!
//! ```
//! use std::time::Duration;
//! use calico_bgp::speaker::{LocalRoute, Output, PeerConfig, Speaker, SpeakerConfig};
//!
//! let mut s = Speaker::new(SpeakerConfig::new(64512, "10.0.0.1".parse().unwrap()));
//! let now = Duration::ZERO;
//! s.add_peer(PeerConfig::new("10.0.0.2".parse().unwrap(), 64512), now);
//! s.originate("10.244.1.0/26".parse().unwrap(), LocalRoute::default(), now);
//! let Some(Output::Connect { conn, .. }) = s.poll_output() else { panic!() };
//! s.connected(conn, "10.0.0.1".parse().unwrap(), now);
//! assert!(matches!(s.poll_output(), Some(Output::Send { bytes, .. }) if bytes[18] == 1)); // OPEN
//! ```
//!
//! Defaults follow BIRD as Calico configures it: hold time 240 s, keepalive a third of the
//! negotiated hold time, connect retry 5 s (`connect retry time 5`, also used as the wait
//! before restarting a failed session), graceful restart time 120 s.
//!
//! Not done yet: deferring best-path selection until peers' End-of-RIB after our own restart
//! (RFC 4724 §4.1), ADD-PATH, extended messages,
//! RFC 8538 (graceful restart on NOTIFICATION).
#![cfg_attr(test, allow(clippy::unwrap_used))]
// Messages (UPDATEs) are large and moved once; boxing them would only add allocations.
#![allow(clippy::large_enum_variant)]

pub mod export;
pub mod fsm;
pub mod rib;
pub mod speaker;
pub mod wire;
