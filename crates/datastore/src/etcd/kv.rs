//! The key/value operations of the etcd backend as async functions over an etcd-client
//! [`Client`]: CAS writes as etcd transactions, paginated consistent listings, compaction.
//!
//! Writes are one transaction each, so a precondition and its write are atomic on the server:
//! - create: `create_revision(key) == 0` → put + get, else → AlreadyExists;
//! - update: `create_revision(key) > 0` [and `mod_revision(key) == expected`] → put + get,
//!   else get → NotFound or Conflict with the stored revision;
//! - delete: same preconditions → delete with the previous pair, else get → NotFound/Conflict.

use std::sync::Arc;

use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, GetOptions, GetResponse, Txn, TxnOp, TxnOpResponse,
    TxnResponse,
};

use super::error::{self, Kind};
use crate::backend::{DatastoreError, KeyValue, ListResult, Result, Revision};

/// Keys fetched per range request when listing.
pub(crate) const PAGE_SIZE: i64 = 1000;

/// A cheap handle on the connection plus the endpoint list for messages.
#[derive(Clone)]
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) endpoints: Arc<str>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.endpoints)
    }
}

impl Conn {
    pub(crate) fn err(&self, what: &str, e: etcd_client::Error) -> DatastoreError {
        error::map(&self.endpoints, what, e)
    }
}

/// Convert an etcd pair. Keys that are not UTF-8 (never written by this code) are converted
/// lossily rather than failing a whole listing.
pub(crate) fn convert(kv: &etcd_client::KeyValue) -> KeyValue {
    KeyValue {
        key: String::from_utf8_lossy(kv.key()).into_owned(),
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
    }
}

/// The first key after every key that starts with `prefix` (etcd's `range_end` for a prefix);
/// `[0]` means "to the end of the keyspace".
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The range `[start, end)` covering every key with `prefix` (all keys for an empty prefix).
pub(crate) fn prefix_range(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    if prefix.is_empty() {
        (vec![0], vec![0])
    } else {
        (prefix.as_bytes().to_vec(), prefix_end(prefix.as_bytes()))
    }
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Revision {
    header.map_or(0, etcd_client::ResponseHeader::revision)
}

pub(crate) async fn get(conn: Conn, key: String) -> Result<Option<KeyValue>> {
    let mut client = conn.client.clone();
    let resp = client
        .get(key.as_bytes(), None)
        .await
        .map_err(|e| conn.err(&format!("get {key}"), e))?;
    Ok(resp.kvs().first().map(convert))
}

/// Every pair under `prefix` at one revision (the current one for `at == None`), fetched in
/// pages of [`PAGE_SIZE`]; `keys_only` leaves the values empty.
pub(crate) async fn list_at(
    conn: &Conn,
    prefix: &str,
    at: Option<Revision>,
    keys_only: bool,
) -> std::result::Result<ListResult, (Kind, DatastoreError)> {
    let mut client = conn.client.clone();
    let (mut start, end) = prefix_range(prefix);
    let mut revision = at.unwrap_or(0);
    let mut kvs = Vec::new();
    // Each page starts strictly after the previous one, so this ends; the cap is a guard
    // against a misbehaving server.
    for _page in 0..10_000_000 {
        let mut opts = GetOptions::new()
            .with_range(end.clone())
            .with_limit(PAGE_SIZE)
            .with_revision(revision);
        if keys_only {
            opts = opts.with_keys_only();
        }
        let resp: GetResponse = client
            .get(start.clone(), Some(opts))
            .await
            .map_err(|e| (error::kind(&e), conn.err(&format!("list {prefix}"), e)))?;
        if revision == 0 {
            revision = header_revision(resp.header());
        }
        kvs.extend(resp.kvs().iter().map(convert));
        let Some(last) = resp.kvs().last() else {
            break;
        };
        if !resp.more() {
            break;
        }
        start = last.key().to_vec();
        start.push(0);
    }
    Ok(ListResult { kvs, revision })
}

pub(crate) async fn list(conn: Conn, prefix: String) -> Result<ListResult> {
    list_at(&conn, &prefix, None, false)
        .await
        .map_err(|(_, e)| e)
}

/// The current store revision, from a linearizable (quorum) read's header. Falls back to the
/// status call when the user may not read the sentinel key.
pub(crate) async fn revision(conn: Conn) -> Result<Revision> {
    let mut client = conn.client.clone();
    match client
        .get(vec![0u8], Some(GetOptions::new().with_count_only()))
        .await
    {
        Ok(resp) => Ok(header_revision(resp.header())),
        Err(e) if error::kind(&e) == Kind::PermissionDenied => {
            let status = client
                .status()
                .await
                .map_err(|e| conn.err("read the store revision", e))?;
            Ok(header_revision(status.header()))
        }
        Err(e) => Err(conn.err("read the store revision", e)),
    }
}

/// The pair a transaction's `get` op returned, if any.
fn txn_get(resp: &TxnResponse) -> Option<KeyValue> {
    resp.op_responses().iter().find_map(|op| match op {
        TxnOpResponse::Get(get) => get.kvs().first().map(convert),
        _ => None,
    })
}

/// NotFound or Conflict, from the failure branch's `get` of the key.
fn precondition_failed(
    key: &str,
    expected: Option<Revision>,
    resp: &TxnResponse,
) -> DatastoreError {
    match (txn_get(resp), expected) {
        (None, _) => DatastoreError::NotFound {
            key: key.to_owned(),
        },
        (Some(current), Some(expected)) => DatastoreError::Conflict {
            key: key.to_owned(),
            expected,
            actual: current.mod_revision,
        },
        // The key exists and no revision was required, so the transaction cannot have failed.
        (Some(_), None) => DatastoreError::Internal(format!(
            "etcd reported a failed precondition on {key}, which exists"
        )),
    }
}

fn exists_and_matches(key: &str, expected: Option<Revision>) -> Vec<Compare> {
    let mut cmp = vec![Compare::create_revision(key, CompareOp::Greater, 0)];
    if let Some(rev) = expected {
        cmp.push(Compare::mod_revision(key, CompareOp::Equal, rev));
    }
    cmp
}

/// After a successful put + get: the stored pair (built from the header if the get is missing).
fn written(key: &str, value: Vec<u8>, resp: &TxnResponse, create: Option<Revision>) -> KeyValue {
    txn_get(resp).unwrap_or_else(|| {
        let rev = header_revision(resp.header());
        KeyValue {
            key: key.to_owned(),
            value,
            create_revision: create.unwrap_or(rev),
            mod_revision: rev,
        }
    })
}

pub(crate) async fn create(conn: Conn, key: String, value: Vec<u8>) -> Result<KeyValue> {
    let mut client = conn.client.clone();
    let txn = Txn::new()
        .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
        .and_then([
            TxnOp::put(key.as_str(), value.clone(), None),
            TxnOp::get(key.as_str(), None),
        ]);
    let resp = client
        .txn(txn)
        .await
        .map_err(|e| conn.err(&format!("create {key}"), e))?;
    if !resp.succeeded() {
        return Err(DatastoreError::AlreadyExists { key });
    }
    Ok(written(&key, value, &resp, None))
}

pub(crate) async fn update(
    conn: Conn,
    key: String,
    value: Vec<u8>,
    expected: Option<Revision>,
) -> Result<KeyValue> {
    let mut client = conn.client.clone();
    let txn = Txn::new()
        .when(exists_and_matches(&key, expected))
        .and_then([
            TxnOp::put(key.as_str(), value.clone(), None),
            TxnOp::get(key.as_str(), None),
        ])
        .or_else([TxnOp::get(key.as_str(), None)]);
    let resp = client
        .txn(txn)
        .await
        .map_err(|e| conn.err(&format!("update {key}"), e))?;
    if !resp.succeeded() {
        return Err(precondition_failed(&key, expected, &resp));
    }
    Ok(written(&key, value, &resp, None))
}

pub(crate) async fn delete(
    conn: Conn,
    key: String,
    expected: Option<Revision>,
) -> Result<KeyValue> {
    let mut client = conn.client.clone();
    let txn = Txn::new()
        .when(exists_and_matches(&key, expected))
        .and_then([TxnOp::delete(
            key.as_str(),
            Some(DeleteOptions::new().with_prev_key()),
        )])
        .or_else([TxnOp::get(key.as_str(), None)]);
    let resp = client
        .txn(txn)
        .await
        .map_err(|e| conn.err(&format!("delete {key}"), e))?;
    if !resp.succeeded() {
        return Err(precondition_failed(&key, expected, &resp));
    }
    resp.op_responses()
        .iter()
        .find_map(|op| match op {
            TxnOpResponse::Delete(del) => del.prev_kvs().first().map(convert),
            _ => None,
        })
        .ok_or_else(|| {
            DatastoreError::Internal(format!("etcd deleted {key} but returned no previous value"))
        })
}

/// Compact the history below `revision`; at or below an earlier compaction is a no-op.
pub(crate) async fn compact(conn: Conn, revision: Revision) -> Result<()> {
    let mut client = conn.client.clone();
    match client.compact(revision, None).await {
        Ok(_) => Ok(()),
        Err(e) => match error::kind(&e) {
            Kind::Compacted => Ok(()),
            Kind::FutureRevision => Err(DatastoreError::Config(format!(
                "cannot compact etcd at {} to revision {revision}: it is newer than the current \
                 revision",
                conn.endpoints
            ))),
            _ => Err(conn.err(&format!("compact to revision {revision}"), e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/calico/"), b"/calico0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_range(""), (vec![0], vec![0]));
    }
}
