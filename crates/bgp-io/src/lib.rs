//! The BGP speaker's I/O adapter (layer 2).
//!
//! - [`routes`]: pure decision of how a learned route is installed (directly via the next hop
//!   on a shared subnet, through `tunl0` for IP-in-IP pools, left to the dataplane for VXLAN
//!   pools), unit-tested.
//! - [`kernel`]: installs and removes those routes with rtnetlink, marked with
//!   [`kernel::BGP_ROUTE_PROTOCOL`] so calico-rs never touches anyone else's routes.
//! - [`runtime`]: [`runtime::SpeakerHandle::spawn`] runs the sans-IO `calico_bgp::speaker::Speaker`
//!   on a dedicated thread (in a given network namespace) with TCP, timers and the kernel.
//! - [`status`]: the peer table as a JSON file, written atomically, read by
//!   `calicoctl node status`.
//!
//! TCP MD5 (`TCP_MD5SIG`) is not settable here: neither nix nor socket2 exposes it safely and
//! this crate forbids `unsafe`; it belongs in calico-linux (which may hold scoped unsafe).

pub mod kernel;
pub mod routes;
pub mod runtime;
pub mod status;
