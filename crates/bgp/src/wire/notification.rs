//! NOTIFICATION messages and the RFC 4271 §4.5 / §6 error codes.

use std::fmt;

/// NOTIFICATION (RFC 4271 §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

/// Error codes and subcodes.
pub mod codes {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const HDR_NOT_SYNCHRONIZED: u8 = 1;
    pub const HDR_BAD_LENGTH: u8 = 2;
    pub const HDR_BAD_TYPE: u8 = 3;

    pub const OPEN: u8 = 2;
    pub const OPEN_UNSUPPORTED_VERSION: u8 = 1;
    pub const OPEN_BAD_PEER_AS: u8 = 2;
    pub const OPEN_BAD_BGP_ID: u8 = 3;
    pub const OPEN_UNSUPPORTED_OPT_PARAM: u8 = 4;
    pub const OPEN_UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const OPEN_UNSUPPORTED_CAPABILITY: u8 = 7;

    pub const UPDATE: u8 = 3;
    pub const UPD_MALFORMED_ATTR_LIST: u8 = 1;
    pub const UPD_UNRECOGNIZED_WELL_KNOWN: u8 = 2;
    pub const UPD_MISSING_WELL_KNOWN: u8 = 3;
    pub const UPD_ATTR_FLAGS: u8 = 4;
    pub const UPD_ATTR_LENGTH: u8 = 5;
    pub const UPD_INVALID_ORIGIN: u8 = 6;
    pub const UPD_INVALID_NEXT_HOP: u8 = 8;
    pub const UPD_OPTIONAL_ATTR: u8 = 9;
    pub const UPD_INVALID_NETWORK: u8 = 10;
    pub const UPD_MALFORMED_AS_PATH: u8 = 11;

    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    pub const CEASE_MAX_PREFIXES: u8 = 1;
    pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
    pub const CEASE_PEER_DECONFIGURED: u8 = 3;
    pub const CEASE_ADMIN_RESET: u8 = 4;
    pub const CEASE_CONNECTION_REJECTED: u8 = 5;
    pub const CEASE_COLLISION: u8 = 7;

    pub const ROUTE_REFRESH: u8 = 7;
    pub const RR_INVALID_LENGTH: u8 = 1;
}

impl Notification {
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Notification {
        Notification {
            code,
            subcode,
            data,
        }
    }

    pub fn cease(subcode: u8) -> Notification {
        Notification::new(codes::CEASE, subcode, Vec::new())
    }

    /// Human text for the code/subcode, as BIRD/FRR log it.
    pub fn describe(&self) -> String {
        use codes::*;
        let code = match self.code {
            MESSAGE_HEADER => "Message header error",
            OPEN => "OPEN message error",
            UPDATE => "UPDATE message error",
            HOLD_TIMER_EXPIRED => "Hold timer expired",
            FSM => "Finite state machine error",
            CEASE => "Cease",
            ROUTE_REFRESH => "ROUTE-REFRESH message error",
            _ => "Unknown error",
        };
        let sub = match (self.code, self.subcode) {
            (MESSAGE_HEADER, 1) => "connection not synchronized",
            (MESSAGE_HEADER, 2) => "bad message length",
            (MESSAGE_HEADER, 3) => "bad message type",
            (OPEN, 1) => "unsupported version number",
            (OPEN, 2) => "bad peer AS",
            (OPEN, 3) => "bad BGP identifier",
            (OPEN, 4) => "unsupported optional parameter",
            (OPEN, 6) => "unacceptable hold time",
            (OPEN, 7) => "unsupported capability",
            (UPDATE, 1) => "malformed attribute list",
            (UPDATE, 2) => "unrecognized well-known attribute",
            (UPDATE, 3) => "missing well-known attribute",
            (UPDATE, 4) => "attribute flags error",
            (UPDATE, 5) => "attribute length error",
            (UPDATE, 6) => "invalid ORIGIN attribute",
            (UPDATE, 8) => "invalid NEXT_HOP attribute",
            (UPDATE, 9) => "optional attribute error",
            (UPDATE, 10) => "invalid network field",
            (UPDATE, 11) => "malformed AS_PATH",
            (CEASE, 1) => "maximum number of prefixes reached",
            (CEASE, 2) => "administrative shutdown",
            (CEASE, 3) => "peer de-configured",
            (CEASE, 4) => "administrative reset",
            (CEASE, 5) => "connection rejected",
            (CEASE, 6) => "other configuration change",
            (CEASE, 7) => "connection collision resolution",
            (CEASE, 8) => "out of resources",
            (_, 0) => "",
            _ => "unknown subcode",
        };
        if sub.is_empty() {
            code.to_string()
        } else {
            format!("{code}: {sub}")
        }
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}/{})", self.describe(), self.code, self.subcode)
    }
}
