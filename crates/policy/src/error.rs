//! Errors building a [`Model`](crate::Model) from resources.

use thiserror::Error;

/// Why the datastore contents could not be turned into a policy model.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A selector field of a resource does not parse.
    #[error("{kind} {name}: {field}: {source}")]
    Selector {
        kind: &'static str,
        name: String,
        field: String,
        #[source]
        source: Box<calico_selector::ParseError>,
    },
    /// A CIDR in a rule or network set does not parse.
    #[error("{kind} {name}: {field}: {value:?} is not a CIDR or IP address")]
    Cidr {
        kind: &'static str,
        name: String,
        field: String,
        value: String,
    },
    /// The YAML/JSON input does not decode.
    #[error("document {index}: {message}")]
    Decode { index: usize, message: String },
    /// A resource fails Calico's validation.
    #[error(transparent)]
    Invalid(Box<calico_api::ValidationError>),
}
