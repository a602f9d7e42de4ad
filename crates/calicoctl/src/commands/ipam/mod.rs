//! `ipam show | check | release | configure`: Calico's IPAM commands over
//! [`calico_client::ipam_store::ClientIpam`], judging leaks with the collector's rules
//! ([`calico_client::ipam_gc`]).
//!
//! ```text
//! args ── show ───── table (go-pretty boxes, %.5g numbers)
//!      ├─ check ──── check::scan (Findings) ── report (JSON) ──┐
//!      ├─ release ── ipam_gc::release_leaked / delete_leaked_handle ◄┘ (--from-report)
//!      └─ configure
//! ```

pub mod args;
mod check;
mod configure;
mod release;
mod report;
mod show;
pub(crate) mod table;

use anyhow::Result;

pub use self::args::{IpamArgs, IpamCommand};
use crate::session::Globals;

pub fn run(g: &Globals, args: IpamArgs) -> Result<()> {
    match args.command {
        IpamCommand::Show(a) => show::run(g, a),
        IpamCommand::Check(a) => check::run(g, a),
        IpamCommand::Release(a) => release::run(g, a),
        IpamCommand::Configure(a) => configure::run(g, a),
    }
}
