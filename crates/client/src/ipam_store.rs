//! IPAM over the datastore: [`DatastoreIpamStore`] implements the engine's compare-and-swap
//! [`IpamStore`] on any [`Backend`] with Calico's etcd keys, and [`ClientIpam`] feeds the engine
//! the pools, reservations, node labels and configuration it needs from the typed client. This
//! is the API `calicoctl ipam` and the `calico-ipam` CNI plugin call.
//!
//! Records are stored as Calico stores them:
//! - `/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26` — the block (JSON, Calico's fields);
//! - `/calico/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26` — `{"state": ..., "deleted": ...}`;
//! - `/calico/ipam/v2/handle/<handle id>` — `{"block": {"10.0.0.0/26": 1}, ...}`.
//!
//! The configuration is the `projectcalico.org/v3` `IPAMConfiguration` named `default` (what
//! `calicoctl apply` writes), read and written through the typed client; without one, Calico's
//! defaults apply.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use calico_api::{IPAMConfiguration, IPAMConfigurationSpec, IPPool, ObjectMeta, Resource};
use calico_datastore::{Backend, DatastoreError, KeyValue};
use calico_ipam::{
    AddrFilter, AssignIpArgs, Assigned, AssignmentMode, Assignments, AutoAssignArgs, Block,
    BlockAffinity, Clock, ConsistencyReport, Handle, IntendedUse, Ipam, IpamConfig, IpamError,
    IpamStore, Labels, Listing, PoolInfo, Pools, Record, RecordKey, ReleaseOptions, ReleaseOutcome,
    Revision, StoreError, Stored,
};
use calico_selector::Selector;
use ipnet::IpNet;

use crate::{Client, ClientError};

/// The wall clock, for the engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

fn store_err(e: DatastoreError) -> StoreError {
    match e {
        DatastoreError::AlreadyExists { key } => StoreError::AlreadyExists { key },
        DatastoreError::NotFound { key } => StoreError::NotFound { key },
        DatastoreError::Conflict { key, .. } => StoreError::Conflict { key },
        other => StoreError::Backend(other.to_string()),
    }
}

fn client_store_err(e: ClientError) -> StoreError {
    match e {
        ClientError::AlreadyExists { kind, name } => StoreError::AlreadyExists {
            key: format!("{kind}({name})"),
        },
        ClientError::NotFound { kind, name } => StoreError::NotFound {
            key: format!("{kind}({name})"),
        },
        ClientError::Conflict { kind, name, .. } => StoreError::Conflict {
            key: format!("{kind}({name})"),
        },
        ClientError::Datastore(d) => store_err(d),
        other => StoreError::Backend(other.to_string()),
    }
}

/// The engine's store over a datastore backend.
#[derive(Clone)]
pub struct DatastoreIpamStore {
    backend: Arc<dyn Backend>,
    client: Client,
}

impl std::fmt::Debug for DatastoreIpamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatastoreIpamStore({})", self.backend.name())
    }
}

impl DatastoreIpamStore {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        let client = Client::new(backend.clone());
        Self { backend, client }
    }

    fn decode(key: &RecordKey, kv: &KeyValue) -> Result<Record, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            key: kv.key.clone(),
            detail: e.to_string(),
        };
        Ok(match key {
            RecordKey::Block(_) => {
                Record::Block(serde_json::from_slice::<Block>(&kv.value).map_err(corrupt)?)
            }
            RecordKey::Affinity { host, cidr } => {
                let mut a: BlockAffinity = serde_json::from_slice(&kv.value).map_err(corrupt)?;
                a.node = host.clone();
                a.cidr = *cidr;
                Record::Affinity(a)
            }
            RecordKey::Handle(id) => {
                let mut h: Handle = serde_json::from_slice(&kv.value).map_err(corrupt)?;
                h.handle_id = id.clone();
                Record::Handle(h)
            }
            RecordKey::Config => {
                Record::Config(serde_json::from_slice::<IpamConfig>(&kv.value).map_err(corrupt)?)
            }
        })
    }

    fn encode(record: &Record) -> Result<Vec<u8>, StoreError> {
        let v = match record {
            Record::Block(b) => serde_json::to_vec(b),
            Record::Affinity(a) => serde_json::to_vec(a),
            Record::Handle(h) => serde_json::to_vec(h),
            Record::Config(c) => serde_json::to_vec(c),
        };
        v.map_err(|e| StoreError::Backend(format!("cannot encode {}: {e}", record.kind())))
    }

    fn config_info() -> Result<&'static calico_api::KindInfo, StoreError> {
        kind("IPAMConfiguration").map_err(client_store_err)
    }

    fn get_config(&self) -> Result<Option<Stored<Record>>, StoreError> {
        match self.client.get(Self::config_info()?, "", "default") {
            Ok(Resource::IPAMConfiguration(c)) => {
                let revision = c.metadata.resource_version.parse().unwrap_or(0);
                Ok(Some(Stored {
                    value: Record::Config(IpamConfig {
                        strict_affinity: c.spec.strict_affinity,
                        auto_allocate_blocks: c.spec.auto_allocate_blocks,
                        max_blocks_per_host: u32::try_from(c.spec.max_blocks_per_host.max(0))
                            .unwrap_or(u32::MAX),
                    }),
                    revision,
                }))
            }
            Ok(other) => Err(StoreError::Corrupt {
                key: "IPAMConfiguration(default)".into(),
                detail: format!("read a {}", other.kind()),
            }),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(client_store_err(e)),
        }
    }

    fn config_resource(cfg: &IpamConfig, revision: Option<Revision>) -> Resource {
        let mut meta = ObjectMeta::named("default");
        if let Some(r) = revision {
            meta.resource_version = r.to_string();
        }
        Resource::IPAMConfiguration(IPAMConfiguration {
            metadata: meta,
            spec: IPAMConfigurationSpec {
                strict_affinity: cfg.strict_affinity,
                max_blocks_per_host: i64::from(cfg.max_blocks_per_host),
                auto_allocate_blocks: cfg.auto_allocate_blocks,
                ..IPAMConfigurationSpec::default()
            },
        })
    }

    fn write_config(
        &self,
        cfg: &IpamConfig,
        expected: Option<Revision>,
    ) -> Result<Revision, StoreError> {
        let written = match expected {
            None => self.client.create(Self::config_resource(cfg, None)),
            // Change only the fields the engine owns: labels, annotations and the other spec
            // fields (kubeVirtVMAddressPersistence, ipCooldownSeconds) stay as stored.
            Some(rev) => {
                let r = match self.client.get(Self::config_info()?, "", "default") {
                    Ok(Resource::IPAMConfiguration(mut c)) => {
                        c.spec.strict_affinity = cfg.strict_affinity;
                        c.spec.max_blocks_per_host = i64::from(cfg.max_blocks_per_host);
                        c.spec.auto_allocate_blocks = cfg.auto_allocate_blocks;
                        c.metadata.resource_version = rev.to_string();
                        Resource::IPAMConfiguration(c)
                    }
                    _ => Self::config_resource(cfg, expected),
                };
                self.client.update(r)
            }
        }
        .map_err(client_store_err)?;
        Ok(written.metadata().resource_version.parse().unwrap_or(0))
    }
}

impl IpamStore for DatastoreIpamStore {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        if *key == RecordKey::Config {
            return self.get_config();
        }
        let Some(kv) = self.backend.get(&key.path()).map_err(store_err)? else {
            return Ok(None);
        };
        Ok(Some(Stored {
            value: Self::decode(key, &kv)?,
            revision: kv.mod_revision,
        }))
    }

    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        let res = self.backend.list(&what.prefix()).map_err(store_err)?;
        let mut out = Vec::with_capacity(res.kvs.len());
        for kv in res.kvs {
            let Some(key) = RecordKey::parse(&kv.key).filter(|k| what.selects(k)) else {
                continue;
            };
            out.push(Stored {
                value: Self::decode(&key, &kv)?,
                revision: kv.mod_revision,
            });
        }
        Ok(out)
    }

    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        if let Record::Config(c) = record {
            return self.write_config(c, None);
        }
        let kv = self
            .backend
            .create(&record.key().path(), &Self::encode(record)?)
            .map_err(store_err)?;
        Ok(kv.mod_revision)
    }

    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        if let Record::Config(c) = record {
            return self.write_config(c, Some(expected));
        }
        let kv = self
            .backend
            .update(&record.key().path(), &Self::encode(record)?, Some(expected))
            .map_err(store_err)?;
        Ok(kv.mod_revision)
    }

    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        if *key == RecordKey::Config {
            let rv = expected.to_string();
            return self
                .client
                .delete(Self::config_info()?, "", "default", Some(&rv))
                .map(|_| ())
                .map_err(client_store_err);
        }
        self.backend
            .delete(&key.path(), Some(expected))
            .map(|_| ())
            .map_err(store_err)
    }
}

/// Errors from [`ClientIpam`].
#[derive(Debug, thiserror::Error)]
pub enum IpamClientError {
    #[error("{0}")]
    Ipam(#[from] IpamError),
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("failed to get node {node} for host: resource does not exist: Node({node})")]
    NodeNotFound { node: String },
}

/// Convert an `IPPool` to the engine's view (defaults applied as Calico does).
pub fn pool_info(p: &IPPool) -> Result<PoolInfo, String> {
    let name = p.metadata.name.clone();
    let cidr: IpNet = p
        .spec
        .cidr
        .parse()
        .map_err(|_| format!("spec.cidr {:?} is not a CIDR", p.spec.cidr))?;
    let block_size = if p.spec.block_size == 0 {
        calico_ipam::IpVersion::of_net(&cidr).default_block_size()
    } else {
        u8::try_from(p.spec.block_size)
            .map_err(|_| format!("spec.blockSize {} is out of range", p.spec.block_size))?
    };
    let mut info = PoolInfo::with_block_size(name, cidr, block_size).map_err(|e| e.to_string())?;
    info.disabled = p.spec.disabled;
    if !p.spec.node_selector.trim().is_empty() {
        info.node_selector = Selector::parse(&p.spec.node_selector).map_err(|e| e.to_string())?;
    }
    if !p.spec.namespace_selector.trim().is_empty() {
        info.namespace_selector =
            Some(Selector::parse(&p.spec.namespace_selector).map_err(|e| e.to_string())?);
    }
    if !p.spec.allowed_uses.is_empty() {
        info.allowed_uses = p
            .spec
            .allowed_uses
            .iter()
            .map(|u| IntendedUse::parse(u).ok_or_else(|| format!("allowedUses: unknown use {u:?}")))
            .collect::<Result<_, _>>()?;
    }
    if p.spec.assignment_mode.as_deref() == Some("Manual") {
        info.assignment_mode = AssignmentMode::Manual;
    }
    Ok(info)
}

/// IPAM for one datastore: the engine plus the inputs it needs, loaded fresh for every call
/// (a CNI plugin process makes one call).
#[derive(Debug)]
pub struct ClientIpam {
    client: Client,
    ipam: Ipam<DatastoreIpamStore, SystemClock>,
}

fn kind(name: &str) -> Result<&'static calico_api::KindInfo, ClientError> {
    calico_api::find_kind(name, None)
        .ok_or_else(|| ClientError::Config(format!("the API has no kind {name}")))
}

impl ClientIpam {
    pub fn new(client: Client) -> Self {
        let store = DatastoreIpamStore::new(client.backend().clone());
        Self {
            client,
            ipam: Ipam::new(store, SystemClock),
        }
    }

    /// The engine, for listing, checking and releasing affinities.
    pub fn engine(&self) -> &Ipam<DatastoreIpamStore, SystemClock> {
        &self.ipam
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every IP pool and reservation.
    pub fn pools(&self) -> Result<Pools, IpamClientError> {
        let (pools, _) = self.client.list(kind("IPPool")?, None)?;
        let mut out = Pools::default();
        for r in pools {
            if let Resource::IPPool(p) = r {
                match pool_info(&p) {
                    Ok(info) => out.pools.push(info),
                    Err(reason) => out.unusable.push((p.metadata.name.clone(), reason)),
                }
            }
        }
        let (resv, _) = self.client.list(kind("IPReservation")?, None)?;
        let mut nets = Vec::new();
        for r in resv {
            if let Resource::IPReservation(x) = r {
                let f = AddrFilter::parse(x.spec.reserved_cidrs.iter().map(String::as_str))
                    .map_err(|e| {
                        ClientError::Config(format!("IPReservation {}: {e}", x.metadata.name))
                    })?;
                nets.extend(f.nets().iter().copied());
            }
        }
        out.reserved = AddrFilter::new(nets);
        Ok(out)
    }

    /// The labels of a `Node` (which must exist, as in Calico).
    pub fn node_labels(&self, node: &str) -> Result<Labels, IpamClientError> {
        match self.client.get(kind("Node")?, "", node) {
            Ok(r) => Ok(r.metadata().labels.clone()),
            Err(ClientError::NotFound { .. }) => Err(IpamClientError::NodeNotFound {
                node: node.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    fn namespace_labels(
        &self,
        pools: &Pools,
        args: &AutoAssignArgs,
    ) -> Result<Option<Labels>, IpamClientError> {
        if !pools.pools.iter().any(|p| p.namespace_selector.is_some()) {
            return Ok(None);
        }
        let Some(ns) = args.attrs.get(calico_ipam::attrs::NAMESPACE) else {
            return Ok(None);
        };
        match self.client.get(kind("Namespace")?, "", ns) {
            Ok(r) => Ok(Some(r.metadata().labels.clone())),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Automatic assignment; the node's labels (and the namespace's, for pools with a
    /// namespaceSelector) are looked up, replacing those in `args`.
    pub fn auto_assign(&self, mut args: AutoAssignArgs) -> Result<Assignments, IpamClientError> {
        let pools = self.pools()?;
        args.node_labels = self.node_labels(&args.hostname)?;
        if args.namespace_labels.is_none() {
            args.namespace_labels = self.namespace_labels(&pools, &args)?;
        }
        Ok(self.ipam.auto_assign(&pools, &args)?)
    }

    /// Assign one specific address.
    pub fn assign_ip(&self, args: &AssignIpArgs) -> Result<Assigned, IpamClientError> {
        let pools = self.pools()?;
        Ok(self.ipam.assign_ip(&pools, args)?)
    }

    /// Release addresses (see [`Ipam::release_ips`]).
    pub fn release_ips(&self, reqs: &[ReleaseOptions]) -> Result<ReleaseOutcome, IpamClientError> {
        let pools = self.pools()?;
        Ok(self.ipam.release_ips(&pools, reqs)?)
    }

    /// Release everything held by a handle; an unknown handle releases nothing.
    pub fn release_by_handle(&self, handle: &str) -> Result<Vec<IpAddr>, IpamClientError> {
        Ok(self.ipam.release_by_handle(handle)?)
    }

    /// The allocation holding `ip`, if any.
    pub fn get_assignment_attributes(
        &self,
        ip: IpAddr,
    ) -> Result<Option<calico_ipam::AllocationInfo>, IpamClientError> {
        let pools = self.pools()?;
        Ok(self.ipam.get_assignment_attributes(&pools, ip)?)
    }

    /// Check the stored IPAM state against the pools.
    pub fn check(&self) -> Result<ConsistencyReport, IpamClientError> {
        let pools = self.pools()?;
        Ok(self.ipam.check_consistency(Some(&pools))?)
    }

    /// The IPAM configuration in effect.
    pub fn config(&self) -> Result<IpamConfig, IpamClientError> {
        Ok(self.ipam.config()?)
    }

    /// Set the IPAM configuration (Calico's cross-field rules are checked).
    pub fn set_config(&self, cfg: IpamConfig) -> Result<(), IpamClientError> {
        Ok(self.ipam.set_config(cfg)?)
    }
}

/// Attributes Calico's CNI plugin stores with a pod's address.
pub fn pod_attrs(
    namespace: &str,
    pod: &str,
    node: &str,
    timestamp: &str,
) -> BTreeMap<String, String> {
    use calico_ipam::attrs;
    BTreeMap::from([
        (attrs::NAMESPACE.to_string(), namespace.to_string()),
        (attrs::POD.to_string(), pod.to_string()),
        (attrs::NODE.to_string(), node.to_string()),
        (attrs::TIMESTAMP.to_string(), timestamp.to_string()),
    ])
}
