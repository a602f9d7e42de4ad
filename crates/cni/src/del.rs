//! DEL: idempotent. The WorkloadEndpoint goes only if it belongs to this container (a DEL
//! for an old sandbox must not remove the running pod's endpoint); the container interface
//! is deleted (its host peer and routes go with it); the addresses are released by handle.
//! A missing namespace, link, endpoint or allocation is not an error.

use crate::context::{Deps, Invocation};
use crate::dataplane::clean_up_namespace;
use crate::error::CniError;

pub fn del(deps: &Deps<'_>, inv: &Invocation) -> Result<(), CniError> {
    // Without the datastore we cannot tell whose endpoint it is: fail, the runtime retries.
    deps.store.ready()?;
    let name = inv.ids.wep_name()?;
    match deps.store.workload_endpoint(&inv.ids.namespace, &name)? {
        None => deps.log.info(&format!(
            "WorkloadEndpoint {name} does not exist, moving on"
        )),
        Some(w)
            if !w.spec.container_id.is_empty() && w.spec.container_id != inv.env.container_id =>
        {
            deps.log.warn(&format!(
                "CNI_CONTAINERID {} does not match WorkloadEndpoint {name}'s {}: keeping the endpoint",
                inv.env.container_id, w.spec.container_id
            ));
        }
        Some(_) => {
            deps.store
                .delete_workload_endpoint(&inv.ids.namespace, &name)?;
        }
    }
    clean_up_namespace(deps.ops, &inv.env.netns, &inv.env.ifname)?;
    deps.ipam.del(&inv.ipam_request())?;
    deps.log.info("teardown processing complete");
    Ok(())
}
