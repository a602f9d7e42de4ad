//! The Felix dataplane of calico-rs (layer 2: I/O adapter).
//!
//! The calculation graph's [`calico_calc::messages::DataplaneMessage`]s are folded into a
//! [`DesiredState`]; a flush renders it (pure: [`render::render`]) into one nftables table
//! `inet calico` and programs the difference from what was programmed last as ONE `nft -f`
//! transaction ([`render::delta_script`]), or, on start/`InSync`/after a failure, replaces
//! the table atomically ([`render::Ruleset::full_script`]). Routes, the `vxlan.calico`
//! device, its neighbours and FDB entries and the forwarding sysctls are computed purely
//! ([`net::desired_net`], [`net::plan`]) and applied through rtnetlink.
//!
//! It owns exactly: the table `inet <cfg.table>`, routes with protocol
//! [`config::ROUTE_PROTOCOL`] (80), the VXLAN device and what hangs on it, and the
//! forwarding sysctls, all in one network namespace: the one of the thread that created the
//! [`Dataplane`] (or `Config::netns`). Every `nft` process and netlink socket is made on a
//! thread living in that namespace. It never touches another table or route.
//!
//! Semantics follow Felix (inventory §4.4, §7): see [`render`] for the chain layout and
//! [`render::render_rule`] for how one rule becomes nft rules. Each rule carries `counter`
//! and a `comment` with its rule ID; [`Dataplane::counters`] reads them back.

pub mod config;
mod dataplane;
pub mod error;
pub mod names;
pub mod net;
pub mod nft;
mod nsthread;
pub mod render;
pub mod state;

pub use config::{Config, EndpointToHostAction, ROUTE_PROTOCOL, VxlanConfig, VxlanMode};
pub use dataplane::{ApplyStats, Dataplane};
pub use error::{Error, Result};
pub use net::NetBackend;
pub use nft::{Counter, NftBackend};
pub use state::DesiredState;

#[cfg(test)]
mod tests {
    #[test]
    fn the_dataplane_can_move_to_its_own_thread() {
        fn send<T: Send>() {}
        send::<crate::Dataplane>();
    }
}
