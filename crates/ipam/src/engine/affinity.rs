//! Releasing a node's affinity to a block: `confirmed → pendingDeletion`, then the block is
//! deleted (when empty) or made unaffine (compare-and-swap on the block as read, so a concurrent
//! allocation wins and the release backs off), then the affinity is deleted.

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::clock::Clock;
use crate::engine::claim::aff_key;
use crate::engine::records::is_race;
use crate::engine::{Ipam, check_node};
use crate::error::IpamError;
use crate::model::{AffinityState, BlockAffinity};
use crate::store::{IpamStore, Record, RecordKey, StoreError};

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// One attempt at releasing `host`'s affinity to `cidr`. With `must_be_empty`, a block with
    /// addresses in use keeps its affinity ([`IpamError::BlockNotEmpty`]); with `required_seq`,
    /// a block written since it was read is left alone ([`IpamError::BlockChanged`]).
    pub(crate) fn release_affinity_once(
        &self,
        host: &str,
        cidr: IpNet,
        must_be_empty: bool,
        required_seq: Option<u64>,
    ) -> Result<(), IpamError> {
        let Some(aff) = self.get_affinity(host, cidr)? else {
            return Err(IpamError::NotAffine {
                block: cidr,
                node: host.to_string(),
            });
        };
        let Some(block) = self.get_block(cidr)? else {
            // No block: only the affinity is left to remove.
            return match self.store.delete(&aff_key(host, cidr), aff.revision) {
                Ok(()) => Ok(()),
                Err(StoreError::NotFound { .. }) => Ok(()),
                Err(e) if is_race(&e) => Err(IpamError::BlockChanged { block: cidr }),
                Err(e) => Err(e.into()),
            };
        };
        if required_seq.is_some_and(|s| s != block.value.sequence_number) {
            return Err(IpamError::BlockChanged { block: cidr });
        }
        if !block.value.is_affine_to(host) {
            // A stale affinity: the block belongs to someone else (or nobody).
            let _ = self.store.delete(&aff_key(host, cidr), aff.revision);
            return Err(IpamError::NotAffine {
                block: cidr,
                node: host.to_string(),
            });
        }
        let empty = block.value.is_empty();
        if must_be_empty && !empty {
            return Err(IpamError::BlockNotEmpty {
                block: cidr,
                in_use: block.value.in_use(),
            });
        }
        let marked = BlockAffinity::new(host, cidr, AffinityState::PendingDeletion);
        let marked_rev = match self.store.update(&Record::Affinity(marked), aff.revision) {
            Ok(r) => r,
            Err(e) if is_race(&e) => return Err(IpamError::BlockChanged { block: cidr }),
            Err(e) => return Err(e.into()),
        };
        let write = if empty {
            self.store.delete(&RecordKey::Block(cidr), block.revision)
        } else {
            let mut b = block.value;
            b.affinity = None;
            b.affinity_claim_time = None;
            b.sequence_number = b.sequence_number.wrapping_add(1);
            self.store
                .update(&Record::Block(b), block.revision)
                .map(|_| ())
        };
        match write {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => {
                // The block changed under us (an allocation won): put the affinity back unless
                // someone else already touched it.
                let back = BlockAffinity::new(host, cidr, AffinityState::Confirmed);
                let _ = self.store.update(&Record::Affinity(back), marked_rev);
                return Err(if is_race(&e) {
                    IpamError::BlockChanged { block: cidr }
                } else {
                    e.into()
                });
            }
        }
        match self.store.delete(&aff_key(host, cidr), marked_rev) {
            Ok(()) | Err(StoreError::NotFound { .. }) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Release `host`'s affinity to block `cidr`, retrying races. With `must_be_empty`, refuses
    /// ([`IpamError::BlockNotEmpty`]) when addresses are in use; otherwise a non-empty block
    /// stays allocated but becomes unaffine (its addresses are then "borrowed").
    pub fn release_block_affinity(
        &self,
        host: &str,
        cidr: IpNet,
        must_be_empty: bool,
    ) -> Result<(), IpamError> {
        check_node(host)?;
        for _ in 0..self.opts.retries {
            match self.release_affinity_once(host, cidr, must_be_empty, None) {
                Err(IpamError::BlockChanged { .. }) => continue,
                other => return other,
            }
        }
        Err(self.too_many(&format!("releasing the affinity of {cidr} to {host}")))
    }

    /// Release every affinity of `host` (e.g. when the node is removed). Blocks that are not
    /// empty are skipped with `must_be_empty`; returns the blocks released.
    pub fn release_host_affinities(
        &self,
        host: &str,
        must_be_empty: bool,
    ) -> Result<Vec<IpNet>, IpamError> {
        check_node(host)?;
        let mut released = Vec::new();
        for aff in self.list_affinities(Some(host), None)? {
            match self.release_block_affinity(host, aff.value.cidr, must_be_empty) {
                Ok(()) => released.push(aff.value.cidr),
                Err(IpamError::BlockNotEmpty { .. } | IpamError::NotAffine { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(released)
    }

    /// After a release emptied `cidr` (now at sequence number `seq`): drop `host`'s affinity to
    /// it unless it is the node's last block of that IP version. Best effort: a concurrent
    /// allocation into the block wins.
    pub(crate) fn release_if_empty(
        &self,
        host: &str,
        cidr: IpNet,
        seq: u64,
    ) -> Result<(), IpamError> {
        if !self.opts.release_empty_blocks {
            return Ok(());
        }
        let owned = self.list_affinities(Some(host), Some(IpVersion::of_net(&cidr)))?;
        if owned.len() <= 1 {
            return Ok(());
        }
        match self.release_affinity_once(host, cidr, true, Some(seq)) {
            Ok(())
            | Err(
                IpamError::BlockChanged { .. }
                | IpamError::BlockNotEmpty { .. }
                | IpamError::NotAffine { .. },
            ) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
