//! BGP message bytes for the raw peer.
