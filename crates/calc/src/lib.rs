//! Felix's calculation graph (layer 1: pure, sans-IO).
//!
//! Datastore updates go in; [`messages::DataplaneMessage`]s come out. The messages are the
//! contract with the dataplane (`crates/dataplane`) and are modelled on Felix's
//! `felix/proto/felixbackend.proto`.

pub mod messages;
