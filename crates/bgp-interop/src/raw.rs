//! A raw TCP BGP peer opened from inside a harness namespace.
pub struct RawPeer;
