//! Typed access to the store: each helper checks the record kind it gets back.

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::clock::Clock;
use crate::engine::Ipam;
use crate::error::IpamError;
use crate::model::{Block, BlockAffinity, Handle, IpamConfig};
use crate::store::{IpamStore, Listing, Record, RecordKey, StoreError, Stored};

fn wrong_kind(key: &RecordKey, got: &Record) -> IpamError {
    IpamError::Corrupt {
        what: key.path(),
        detail: format!("the store returned a {} for it", got.kind()),
    }
}

macro_rules! typed {
    ($name:ident, $variant:ident, $ty:ty) => {
        fn $name(key: &RecordKey, s: Stored<Record>) -> Result<Stored<$ty>, IpamError> {
            match s.value {
                Record::$variant(v) => Ok(Stored {
                    value: v,
                    revision: s.revision,
                }),
                other => Err(wrong_kind(key, &other)),
            }
        }
    };
}

typed!(as_block, Block, Block);
typed!(as_affinity, Affinity, BlockAffinity);
typed!(as_handle, Handle, Handle);
typed!(as_config, Config, IpamConfig);

/// True for the errors a compare-and-swap loop retries.
pub(crate) fn is_race(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict { .. }
            | StoreError::NotFound { .. }
            | StoreError::AlreadyExists { .. }
    )
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    pub(crate) fn get_block(&self, cidr: IpNet) -> Result<Option<Stored<Block>>, IpamError> {
        let key = RecordKey::Block(cidr);
        self.store.get(&key)?.map(|s| as_block(&key, s)).transpose()
    }

    pub(crate) fn list_blocks(
        &self,
        version: Option<IpVersion>,
    ) -> Result<Vec<Stored<Block>>, IpamError> {
        self.store
            .list(&Listing::Blocks { version })?
            .into_iter()
            .map(|s| {
                let key = s.value.key();
                as_block(&key, s)
            })
            .collect()
    }

    pub(crate) fn get_affinity(
        &self,
        host: &str,
        cidr: IpNet,
    ) -> Result<Option<Stored<BlockAffinity>>, IpamError> {
        let key = RecordKey::Affinity {
            host: host.to_string(),
            cidr,
        };
        self.store
            .get(&key)?
            .map(|s| as_affinity(&key, s))
            .transpose()
    }

    pub(crate) fn list_affinities(
        &self,
        host: Option<&str>,
        version: Option<IpVersion>,
    ) -> Result<Vec<Stored<BlockAffinity>>, IpamError> {
        self.store
            .list(&Listing::Affinities {
                host: host.map(str::to_string),
                version,
            })?
            .into_iter()
            .map(|s| {
                let key = s.value.key();
                as_affinity(&key, s)
            })
            .collect()
    }

    pub(crate) fn get_handle(&self, id: &str) -> Result<Option<Stored<Handle>>, IpamError> {
        let key = RecordKey::Handle(id.to_string());
        self.store
            .get(&key)?
            .map(|s| as_handle(&key, s))
            .transpose()
    }

    pub(crate) fn list_handles(&self) -> Result<Vec<Stored<Handle>>, IpamError> {
        self.store
            .list(&Listing::Handles)?
            .into_iter()
            .map(|s| {
                let key = s.value.key();
                as_handle(&key, s)
            })
            .collect()
    }

    /// The stored configuration, if any.
    pub(crate) fn get_config(&self) -> Result<Option<Stored<IpamConfig>>, IpamError> {
        let key = RecordKey::Config;
        self.store
            .get(&key)?
            .map(|s| as_config(&key, s))
            .transpose()
    }

    /// The configuration in effect (Calico's defaults when none is stored).
    pub fn config(&self) -> Result<IpamConfig, IpamError> {
        Ok(self.get_config()?.map(|s| s.value).unwrap_or_default())
    }

    /// Store a new configuration, checking Calico's rules: strictAffinity and
    /// autoAllocateBlocks cannot both be off, and a block limit requires strictAffinity.
    pub fn set_config(&self, cfg: IpamConfig) -> Result<(), IpamError> {
        if !cfg.strict_affinity && !cfg.auto_allocate_blocks {
            return Err(IpamError::InvalidConfig {
                detail: "strictAffinity and autoAllocateBlocks cannot both be disabled".into(),
            });
        }
        if cfg.max_blocks_per_host > 0 && !cfg.strict_affinity {
            return Err(IpamError::InvalidConfig {
                detail: "maxBlocksPerHost requires strictAffinity to be enabled".into(),
            });
        }
        for _ in 0..self.opts.retries {
            let res = match self.get_config()? {
                None => self.store.create(&Record::Config(cfg)).map(|_| ()),
                Some(cur) => self
                    .store
                    .update(&Record::Config(cfg), cur.revision)
                    .map(|_| ()),
            };
            match res {
                Ok(()) => return Ok(()),
                Err(e) if is_race(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.too_many("setting the IPAM configuration"))
    }

    pub(crate) fn too_many(&self, what: &str) -> IpamError {
        IpamError::TooManyRetries {
            what: what.to_string(),
            retries: self.opts.retries,
        }
    }
}
