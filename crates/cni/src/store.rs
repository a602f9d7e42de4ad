//! What the plugin needs from the datastore, behind [`Store`]: readiness, pods and
//! namespaces (labels, annotations), and WorkloadEndpoints. [`ClientStore`] implements it
//! with `calico-client`.

use calico_api::{Namespace, Pod, Resource, WorkloadEndpoint, find_kind};
use calico_client::{Client, ClientError};
use calico_datastore::DatastoreError;

use crate::error::{CODE_INVALID_CONFIG, CODE_TRY_AGAIN_LATER, CniError};

/// The datastore operations of the CNI plugin.
pub trait Store: Send + Sync {
    /// Fails with code 11 when the datastore cannot be reached or is not ready.
    fn ready(&self) -> Result<(), CniError>;
    fn pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>, CniError>;
    fn namespace(&self, name: &str) -> Result<Option<Namespace>, CniError>;
    fn workload_endpoint(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<WorkloadEndpoint>, CniError>;
    /// Create or replace.
    fn put_workload_endpoint(&self, wep: &WorkloadEndpoint) -> Result<(), CniError>;
    /// `Ok(false)` when there was none.
    fn delete_workload_endpoint(&self, namespace: &str, name: &str) -> Result<bool, CniError>;
}

/// Map a client error to a CNI error: unreachable is "try again later" (11).
pub fn client_error(context: &str, e: ClientError) -> CniError {
    match e {
        ClientError::Datastore(DatastoreError::Unavailable(m)) => CniError::new(
            CODE_TRY_AGAIN_LATER,
            format!("{context}: the datastore is unreachable"),
        )
        .with_details(m),
        ClientError::Datastore(DatastoreError::Config(m)) | ClientError::Config(m) => {
            CniError::new(
                CODE_INVALID_CONFIG,
                format!("{context}: invalid datastore configuration"),
            )
            .with_details(m)
        }
        other => CniError::internal(format!("{context}: {other}")),
    }
}

/// [`Store`] over the typed client.
#[derive(Clone, Debug)]
pub struct ClientStore {
    client: Client,
}

impl ClientStore {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn get(
        &self,
        kind: &str,
        api: Option<&str>,
        ns: &str,
        name: &str,
    ) -> Result<Option<Resource>, CniError> {
        let info = find_kind(kind, api)
            .ok_or_else(|| CniError::internal(format!("kind {kind} is not registered")))?;
        match self.client.get(info, ns, name) {
            Ok(r) => Ok(Some(r)),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(client_error(&format!("get {kind} {ns}/{name}"), e)),
        }
    }
}

impl Store for ClientStore {
    fn ready(&self) -> Result<(), CniError> {
        let ci = self
            .client
            .ensure_cluster_information()
            .map_err(|e| client_error("read ClusterInformation", e))?;
        if let Resource::ClusterInformation(ci) = ci
            && !ci.spec.is_datastore_ready()
        {
            return Err(CniError::new(
                CODE_TRY_AGAIN_LATER,
                "Calico is currently not ready to process requests",
            ));
        }
        Ok(())
    }

    fn pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>, CniError> {
        Ok(
            match self.get(
                "Pod",
                Some(calico_api::K8S_CORE_API_VERSION),
                namespace,
                name,
            )? {
                Some(Resource::Pod(p)) => Some(p),
                _ => None,
            },
        )
    }

    fn namespace(&self, name: &str) -> Result<Option<Namespace>, CniError> {
        Ok(
            match self.get(
                "Namespace",
                Some(calico_api::K8S_CORE_API_VERSION),
                "",
                name,
            )? {
                Some(Resource::Namespace(n)) => Some(n),
                _ => None,
            },
        )
    }

    fn workload_endpoint(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<WorkloadEndpoint>, CniError> {
        Ok(match self.get("WorkloadEndpoint", None, namespace, name)? {
            Some(Resource::WorkloadEndpoint(w)) => Some(w),
            _ => None,
        })
    }

    fn put_workload_endpoint(&self, wep: &WorkloadEndpoint) -> Result<(), CniError> {
        let mut w = wep.clone();
        w.metadata.resource_version.clear();
        self.client
            .apply(Resource::WorkloadEndpoint(w))
            .map(|_| ())
            .map_err(|e| client_error(&format!("write WorkloadEndpoint {}", wep.metadata.name), e))
    }

    fn delete_workload_endpoint(&self, namespace: &str, name: &str) -> Result<bool, CniError> {
        let info = find_kind("WorkloadEndpoint", None)
            .ok_or_else(|| CniError::internal("kind WorkloadEndpoint is not registered"))?;
        match self.client.delete(info, namespace, name, None) {
            Ok(_) => Ok(true),
            Err(ClientError::NotFound { .. }) => Ok(false),
            Err(e) => Err(client_error(
                &format!("delete WorkloadEndpoint {namespace}/{name}"),
                e,
            )),
        }
    }
}

impl ClientStore {
    /// The stored endpoint; panics when absent. For tests.
    #[doc(hidden)]
    pub fn workload_endpoint_for_test(&self, namespace: &str, name: &str) -> WorkloadEndpoint {
        match self.workload_endpoint(namespace, name) {
            Ok(Some(w)) => w,
            other => panic!("WorkloadEndpoint {namespace}/{name}: {other:?}"),
        }
    }
}
