//! A sans-IO BGP speaker (layer 1: no sockets, no async runtime, no clock reads).
//!
//! - [`wire`]: the message codec (RFC 4271, 4760, 6793, 2918, 4724, 7313) with RFC 7606
//!   error classification and a stream [`wire::Framer`].
#![cfg_attr(test, allow(clippy::unwrap_used))]
// Messages (UPDATEs) are large and moved once; boxing them would only add allocations.
#![allow(clippy::large_enum_variant)]

pub mod export;
pub mod fsm;
pub mod rib;
pub mod speaker;
pub mod wire;
