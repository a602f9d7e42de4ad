//! The two writes every allocation makes: the handle count (first) and the block (second, the
//! compare-and-swap that decides who gets an address).

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::clock::Clock;
use crate::engine::records::is_race;
use crate::engine::{Assigned, Ipam};
use crate::error::IpamError;
use crate::model::{Block, Handle};
use crate::pools::AddrFilter;
use crate::store::{IpamStore, Record, RecordKey, StoreError, Stored};

/// A change to one handle's count for one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleDelta {
    Add(i64),
    /// Forget the block (the handle holds nothing there any more).
    Clear,
}

/// What to allocate from a block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TakeRequest<'a> {
    pub handle: &'a str,
    pub attrs: &'a BTreeMap<String, String>,
    pub reserved: &'a AddrFilter,
    /// Only take from the block while it is affine to this node.
    pub affine_to: Option<&'a str>,
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// Apply `delta` to `handle`'s count for `block`, creating the handle on first use and
    /// deleting it when it holds nothing.
    pub(crate) fn adjust_handle(
        &self,
        handle: &str,
        block: IpNet,
        delta: HandleDelta,
    ) -> Result<(), IpamError> {
        // Handles are usually new when counted up (one per container): try creating first.
        if let HandleDelta::Add(d) = delta
            && d > 0
        {
            let mut h = Handle::new(handle);
            h.adjust(block, d);
            match self.store.create(&Record::Handle(h)) {
                Ok(_) => return Ok(()),
                Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.adjust_handle_from(handle, block, delta, None)
    }

    /// [`Self::adjust_handle`] starting from a reading of the handle the caller already has.
    pub(crate) fn adjust_handle_from(
        &self,
        handle: &str,
        block: IpNet,
        delta: HandleDelta,
        first_read: Option<Stored<Handle>>,
    ) -> Result<(), IpamError> {
        let mut first_read = first_read;
        for _ in 0..self.opts.retries {
            let read = match first_read.take() {
                Some(h) => Some(h),
                None => self.get_handle(handle)?,
            };
            let res = match read {
                None => match delta {
                    HandleDelta::Add(d) if d > 0 => {
                        let mut h = Handle::new(handle);
                        h.adjust(block, d);
                        self.store.create(&Record::Handle(h)).map(|_| ())
                    }
                    _ => return Ok(()),
                },
                Some(cur) => {
                    let mut h = cur.value.clone();
                    h.handle_id = handle.to_string();
                    match delta {
                        HandleDelta::Add(d) => h.adjust(block, d),
                        HandleDelta::Clear => {
                            h.block.remove(&block);
                        }
                    }
                    if h == cur.value {
                        return Ok(());
                    }
                    if h.block.is_empty() {
                        self.store
                            .delete(&RecordKey::Handle(handle.to_string()), cur.revision)
                    } else {
                        self.store
                            .update(&Record::Handle(h), cur.revision)
                            .map(|_| ())
                    }
                }
            };
            match res {
                Ok(()) => return Ok(()),
                Err(e) if is_race(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.too_many(&format!("updating handle {handle}")))
    }

    /// Allocate up to `want` addresses from block `cidr`, appending them to `got`; returns how
    /// many; `first_read` saves the first read when the caller has just read the block. Zero
    /// when the block is missing, full, malformed, or (with `affine_to`) no longer
    /// affine to that node.
    pub(crate) fn take_from_block(
        &self,
        cidr: IpNet,
        want: usize,
        req: TakeRequest<'_>,
        got: &mut Vec<Assigned>,
        first_read: Option<Stored<Block>>,
    ) -> Result<usize, IpamError> {
        // How much the handle has been raised for this block so far.
        let mut counted: i64 = 0;
        let mut first_read = first_read.filter(|b| b.value.cidr == cidr);
        for _ in 0..self.opts.retries {
            let read = match first_read.take() {
                Some(b) => Some(b),
                None => self.get_block(cidr)?,
            };
            let Some(stored) = read else {
                self.undo_count(req.handle, cidr, counted)?;
                return Ok(0);
            };
            let usable = req.affine_to.is_none_or(|h| stored.value.is_affine_to(h))
                && stored.value.problems().is_empty();
            if !usable {
                self.undo_count(req.handle, cidr, counted)?;
                return Ok(0);
            }
            let mut block = stored.value;
            let ips = block.auto_assign(want, req.handle, req.attrs, req.reserved);
            if ips.is_empty() {
                self.undo_count(req.handle, cidr, counted)?;
                return Ok(0);
            }
            let n = i64::try_from(ips.len()).unwrap_or(i64::MAX);
            if n != counted {
                self.adjust_handle(req.handle, cidr, HandleDelta::Add(n - counted))?;
                counted = n;
            }
            let seq = block.sequence_number;
            block.sequence_number = seq.wrapping_add(1);
            match self.store.update(&Record::Block(block), stored.revision) {
                Ok(_) => {
                    got.extend(ips.iter().map(|(ip, _)| Assigned {
                        address: *ip,
                        block: cidr,
                        sequence_number: seq,
                    }));
                    return Ok(ips.len());
                }
                Err(e) if is_race(&e) => continue,
                Err(e) => {
                    // Best effort: the handle count is only too high if this fails too.
                    let _ = self.undo_count(req.handle, cidr, counted);
                    return Err(e.into());
                }
            }
        }
        self.undo_count(req.handle, cidr, counted)?;
        Err(self.too_many(&format!("allocating from block {cidr}")))
    }

    fn undo_count(&self, handle: &str, cidr: IpNet, counted: i64) -> Result<(), IpamError> {
        if counted == 0 {
            return Ok(());
        }
        self.adjust_handle(handle, cidr, HandleDelta::Add(-counted))
    }
}
