//! Translation of etcd-client errors into [`DatastoreError`]s that name the endpoints and the
//! operation, so an operator can tell "etcd is down" from "etcd refused us".

use std::time::Duration;

use etcd_client::Error as EtcdError;
use tonic::Code;

use crate::backend::DatastoreError;

/// etcd's message for a revision older than the last compaction.
const COMPACTED: &str = "required revision has been compacted";
/// etcd's message for a revision newer than the current one.
const FUTURE: &str = "required revision is a future revision";

/// What went wrong, for callers that treat some etcd answers specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The requested revision has been compacted away.
    Compacted,
    /// The requested revision is newer than the store's.
    FutureRevision,
    /// The user may not do this (missing role permission).
    PermissionDenied,
    Other,
}

/// Classify an etcd-client error.
pub(crate) fn kind(err: &EtcdError) -> Kind {
    match err {
        EtcdError::GRpcStatus(s) if s.message().contains(COMPACTED) => Kind::Compacted,
        EtcdError::GRpcStatus(s) if s.message().contains(FUTURE) => Kind::FutureRevision,
        EtcdError::GRpcStatus(s) if s.code() == Code::PermissionDenied => Kind::PermissionDenied,
        _ => Kind::Other,
    }
}

/// Map an etcd-client error from `what` (e.g. `update /calico/x`) against `endpoints`.
pub(crate) fn map(endpoints: &str, what: &str, err: EtcdError) -> DatastoreError {
    match err {
        EtcdError::GRpcStatus(status) => {
            let msg = with_causes(status.message(), std::error::Error::source(&status));
            let msg = msg.as_str();
            match status.code() {
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted => {
                    DatastoreError::Unavailable(format!("etcd at {endpoints}: {what}: {msg}"))
                }
                // etcd reports a wrong password as InvalidArgument.
                _ if msg.contains("authentication failed") => DatastoreError::Config(format!(
                    "etcd at {endpoints} refused {what}: {msg} (check ETCD_USERNAME and \
                     ETCD_PASSWORD)"
                )),
                Code::Unauthenticated | Code::PermissionDenied => DatastoreError::Config(format!(
                    "etcd at {endpoints} refused {what}: {msg} (check ETCD_USERNAME/ETCD_PASSWORD \
                     and the roles granted to that user)"
                )),
                // A transport failure below gRPC (connection refused, TLS handshake) surfaces
                // as Unknown with the cause in the message.
                Code::Unknown if msg.contains("transport") || msg.contains("connect") => {
                    DatastoreError::Unavailable(format!("etcd at {endpoints}: {what}: {msg}"))
                }
                code => DatastoreError::Internal(format!(
                    "etcd at {endpoints} rejected {what}: {msg} (gRPC {code:?})"
                )),
            }
        }
        EtcdError::TransportError(e) => {
            DatastoreError::Unavailable(format!("etcd at {endpoints}: {what}: {}", error_chain(&e)))
        }
        EtcdError::IoError(e) => {
            DatastoreError::Unavailable(format!("etcd at {endpoints}: {what}: {e}"))
        }
        EtcdError::InvalidUri(e) => {
            DatastoreError::Config(format!("ETCD_ENDPOINTS {endpoints}: invalid URL: {e}"))
        }
        EtcdError::InvalidArgs(e) => {
            DatastoreError::Config(format!("etcd at {endpoints}: {what}: {e}"))
        }
        EtcdError::WatchError(e) => {
            DatastoreError::Unavailable(format!("etcd at {endpoints}: {what}: watch stream: {e}"))
        }
        other => DatastoreError::Internal(format!("etcd at {endpoints}: {what}: {other}")),
    }
}

/// The error for a request that got no answer in time.
pub(crate) fn timed_out(endpoints: &str, what: &str, after: Duration) -> DatastoreError {
    DatastoreError::Unavailable(format!(
        "etcd at {endpoints} did not answer {what} within {after:?}"
    ))
}

/// `err: cause: cause…`, since tonic's transport errors hide the useful part in `source()`.
fn error_chain(err: &dyn std::error::Error) -> String {
    with_causes(&err.to_string(), err.source())
}

/// `text: cause: cause…`, skipping causes already part of the text.
fn with_causes(text: &str, first: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut text = text.to_owned();
    let mut cur = first;
    // Bounded: error chains are short, but never trust a cycle.
    for _ in 0..8 {
        let Some(e) = cur else { break };
        let cause = e.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        cur = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_compaction_and_future_revisions() {
        let compacted = EtcdError::GRpcStatus(tonic::Status::out_of_range(
            "etcdserver: mvcc: required revision has been compacted",
        ));
        assert_eq!(kind(&compacted), Kind::Compacted);
        let future = EtcdError::GRpcStatus(tonic::Status::out_of_range(
            "etcdserver: mvcc: required revision is a future revision",
        ));
        assert_eq!(kind(&future), Kind::FutureRevision);
    }

    #[test]
    fn unavailable_names_the_endpoints() {
        let err = map(
            "http://127.0.0.1:1",
            "get /k",
            EtcdError::GRpcStatus(tonic::Status::unavailable("connection refused")),
        );
        assert!(
            matches!(&err, DatastoreError::Unavailable(m) if m.contains("http://127.0.0.1:1")),
            "{err}"
        );
        let denied = map(
            "http://e:2379",
            "get /k",
            EtcdError::GRpcStatus(tonic::Status::permission_denied(
                "etcdserver: permission denied",
            )),
        );
        assert!(matches!(denied, DatastoreError::Config(_)));
    }
}
