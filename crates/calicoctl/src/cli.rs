//! The command line, as Calico's calicoctl spells it: the same verbs, flags and defaults.
//! Global flags may also be given after the verb (`calicoctl get -c FILE ...`).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::input::FileArgs;

/// The default connection configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/calico/calicoctl.cfg";

#[derive(Debug, Parser)]
#[command(
    name = "calicoctl",
    version,
    about = "The calicoctl command line tool is used to manage Calico network and security \
             policy, to view and manage endpoint configuration.",
    after_help = "Connection: -c FILE (default /etc/calico/calicoctl.cfg) when it exists, else \
                  DATASTORE_TYPE (embedded|etcdv3), CALICO_DATASTORE_PATH, ETCD_ENDPOINTS, \
                  ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE from the environment."
)]
pub struct Cli {
    /// Set the log level (one of panic, fatal, error, warn, info, debug).
    #[arg(short = 'l', long, global = true, default_value = "panic")]
    pub log_level: String,

    /// Path to the file containing connection configuration in YAML or JSON format.
    #[arg(short = 'c', long, global = true, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,

    /// Allow client and cluster versions mismatch.
    #[arg(long, global = true)]
    pub allow_version_mismatch: bool,

    /// The name of the kubeconfig context to use. Accepted for compatibility and ignored:
    /// calico-rs has no Kubernetes API datastore.
    #[arg(long, global = true, value_name = "CONTEXT")]
    pub context: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a resource by file, directory or stdin.
    Create(CreateArgs),
    /// Replace a resource by file, directory or stdin.
    Replace(WriteArgs),
    /// Apply a resource by file, directory or stdin. This creates a resource if it does not
    /// exist, and replaces a resource if it does exist.
    Apply(WriteArgs),
    /// Patch a preexisting resource in place.
    Patch(PatchArgs),
    /// Delete a resource identified by file, directory, stdin or resource type and name.
    Delete(DeleteArgs),
    /// Get a resource identified by file, directory, stdin or resource type and name.
    Get(GetArgs),
    /// Add or update labels of resources.
    Label(LabelArgs),
    /// Validate a resource by file, directory or stdin without applying it.
    Validate(ValidateArgs),
    /// IP address management.
    Ipam(crate::commands::ipam::IpamArgs),
    /// Explain whether a new flow from one pod to another is allowed: the egress policy
    /// evaluation at the source and the ingress evaluation at the destination, tier by tier,
    /// policy by policy, rule by rule (matched, or which field did not match and why), and
    /// the verdict with the deciding rule's ID. Only policies that select an endpoint are
    /// shown. calico-rs only: Calico's calicoctl has no such command.
    #[command(
        after_help = "Example: calicoctl explain --from x/a --to y/b --protocol tcp --port 80\n\
                      Rule IDs: tier/<tier>/policy/<kind>/[<ns>/]<name>/<direction>/<index>, \
                      tier/<tier>/end-of-tier-deny, profile/<name>/<direction>/<index>, \
                      no-profile-deny, loopback-allow."
    )]
    Explain(crate::commands::explain::ExplainArgs),
    /// Calico node management: `node status` shows whether the node runs and its BGP peers
    /// (read from /var/run/calico/bgp-status.json, or the file named by
    /// CALICO_BGP_STATUS_FILE).
    Node(crate::commands::node::NodeArgs),
    /// Display the version of this binary.
    Version(VersionArgs),
}

/// `-f`, `-R`, `--skip-empty`.
#[derive(Debug, Args, Clone)]
pub struct FileOpts {
    /// Filename to use. "-" loads from stdin. A directory is processed for each .json, .yaml
    /// and .yml file within it.
    #[arg(short = 'f', long = "filename", value_name = "FILENAME")]
    pub filename: Option<String>,

    /// Process the directory given with -f recursively.
    #[arg(short = 'R', long, requires = "filename")]
    pub recursive: bool,

    /// Do not error if any files or directory specified using -f contain no data.
    #[arg(long, requires = "filename")]
    pub skip_empty: bool,
}

impl FileOpts {
    pub fn file_args(&self) -> Option<FileArgs> {
        self.filename.as_ref().map(|f| FileArgs {
            filename: f.clone(),
            recursive: self.recursive,
            skip_empty: self.skip_empty,
        })
    }
}

/// `replace` and `apply`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub file: RequiredFile,

    /// Namespace of the resource (namespaced kinds only; default "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// `-f` when it is mandatory.
#[derive(Debug, Args)]
pub struct RequiredFile {
    /// Filename to use. "-" loads from stdin. A directory is processed for each .json, .yaml
    /// and .yml file within it.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILENAME",
        required = true
    )]
    pub filename: String,

    /// Process the directory given with -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,

    /// Do not error if any files or directory specified using -f contain no data.
    #[arg(long)]
    pub skip_empty: bool,
}

impl RequiredFile {
    pub fn file_args(&self) -> FileArgs {
        FileArgs {
            filename: self.filename.clone(),
            recursive: self.recursive,
            skip_empty: self.skip_empty,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub write: WriteArgs,

    /// Skip over and treat as successful any attempts to create an entry that already exists.
    #[arg(long)]
    pub skip_exists: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The resource type (case-insensitive, may be pluralized or abbreviated).
    #[arg(
        value_name = "KIND",
        required_unless_present = "filename",
        conflicts_with = "filename"
    )]
    pub kind: Option<String>,

    /// Names of the resources to delete.
    #[arg(value_name = "NAME", requires = "kind")]
    pub names: Vec<String>,

    #[command(flatten)]
    pub file: FileOpts,

    /// Skip over and treat as successful, resources that don't exist.
    #[arg(short = 's', long)]
    pub skip_not_exists: bool,

    /// Namespace of the resource (namespaced kinds only; default "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The resource type (case-insensitive, may be pluralized or abbreviated).
    #[arg(
        value_name = "KIND",
        required_unless_present = "filename",
        conflicts_with = "filename"
    )]
    pub kind: Option<String>,

    /// Names of the resources to get (all when omitted).
    #[arg(value_name = "NAME", requires = "kind")]
    pub names: Vec<String>,

    #[command(flatten)]
    pub file: FileOpts,

    /// Output format. One of: yaml, json, ps, wide, custom-columns=COL1,COL2...
    #[arg(short = 'o', long, default_value = "ps", value_name = "OUTPUT")]
    pub output: String,

    /// Namespace of the resource (namespaced kinds only; default "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long, visible_short_alias = 'a', action = ArgAction::SetTrue)]
    pub all_namespaces: bool,

    /// Return the requested object(s) stripped of cluster-specific information. Ignored when
    /// no NAME is given.
    #[arg(long)]
    pub export: bool,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The resource type.
    #[arg(value_name = "KIND")]
    pub kind: String,

    /// The resource name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Spec to use to patch the resource (JSON).
    #[arg(short = 'p', long, value_name = "PATCH")]
    pub patch: String,

    /// Format of patch type: strategic or merge (both applied as a JSON merge patch, RFC 7386).
    #[arg(
        short = 't',
        long = "type",
        default_value = "strategic",
        value_name = "TYPE"
    )]
    pub patch_type: String,

    /// Namespace of the resource (namespaced kinds only; default "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct LabelArgs {
    /// The resource type.
    #[arg(value_name = "KIND")]
    pub kind: String,

    /// The resource name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// `key=value` to set, or `key` with --remove.
    #[arg(value_name = "LABEL")]
    pub label: String,

    /// Overwrite the value when the key is already present.
    #[arg(long, conflicts_with = "remove")]
    pub overwrite: bool,

    /// Remove the key from the labels of the resource.
    #[arg(long)]
    pub remove: bool,

    /// Namespace of the resource (namespaced kinds only; default "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: RequiredFile,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the client version only, without contacting the datastore.
    #[arg(long)]
    pub client: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_anywhere() {
        let cli = Cli::try_parse_from(["calicoctl", "get", "ippool", "-c", "/x.cfg", "-o", "wide"])
            .unwrap();
        assert_eq!(cli.config, PathBuf::from("/x.cfg"));
        let Command::Get(g) = cli.command else {
            panic!("not get")
        };
        assert_eq!(g.kind.as_deref(), Some("ippool"));
        assert_eq!(g.output, "wide");
    }

    #[test]
    fn get_needs_kind_or_file() {
        assert!(Cli::try_parse_from(["calicoctl", "get"]).is_err());
        assert!(Cli::try_parse_from(["calicoctl", "get", "-f", "x.yaml"]).is_ok());
        assert!(Cli::try_parse_from(["calicoctl", "get", "pool", "-f", "x.yaml"]).is_err());
        assert!(Cli::try_parse_from(["calicoctl", "get", "-a", "np"]).is_ok());
    }

    #[test]
    fn label_flags_conflict() {
        assert!(
            Cli::try_parse_from([
                "calicoctl",
                "label",
                "no",
                "n1",
                "k",
                "--remove",
                "--overwrite"
            ])
            .is_err()
        );
    }
}
