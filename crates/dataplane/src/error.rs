//! The dataplane's errors: each says what failed and, for `nft`, what the kernel said.

use std::path::PathBuf;

/// What went wrong while programming the dataplane.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "nftables transaction on table inet {table} failed (the previous ruleset stays in place; the next apply resyncs): {stderr}"
    )]
    NftTransaction { table: String, stderr: String },
    #[error("cannot run {nft}: {source}")]
    NftSpawn {
        nft: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read table inet {table}: {detail}")]
    NftList { table: String, detail: String },
    #[error("netlink: {what}: {detail}")]
    Netlink { what: String, detail: String },
    #[error("network namespace {path}: {detail}")]
    Netns { path: PathBuf, detail: String },
    #[error("sysctl {key}: {detail}")]
    Sysctl { key: String, detail: String },
    #[error("configuration: {field}: {detail}")]
    Config { field: &'static str, detail: String },
    #[error("the dataplane's worker thread is gone")]
    WorkerGone,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
