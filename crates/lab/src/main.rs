//! `calico-lab`: command line over the `calico_lab` library (see its docs for the layout).

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use calico_lab::probe::ProbeOptions;
use calico_lab::serve::{ServeOptions, parse_ports};
use calico_lab::{DatastoreKind, Encap, ExecTarget, PodAddOptions, Protocol, UpOptions};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "calico-lab",
    version,
    about = "A multi-node Calico cluster made of network namespaces: nodes running calico-node, \
             pods wired by the calico CNI plugin, and a connectivity prober",
    after_help = "Example:\n  calico-lab up --nodes 2\n  calico-lab pod add x/a --node 1 --labels pod=a --serve tcp/80,udp/80\n  \
                  calico-lab pod add x/b --node 2 --labels pod=b --serve tcp/80,udp/80\n  calico-lab probe\n  \
                  calico-lab exec --node 1 -- calicoctl apply -f policy.yaml\n  calico-lab probe --protocol udp --output json\n  \
                  calico-lab down\n\nWithout encapsulation (BGP between the nodes):\n  \
                  calico-lab up --encap none --nodes 3 --route-reflector 1\n  \
                  calico-lab exec --node 2 -- calicoctl node status\n\nState, logs and the embedded datastore: /run/calico-lab/NAME/ ($CALICO_LAB_STATE/NAME/)."
)]
struct Cli {
    /// The lab to work on (several labs can exist side by side).
    #[arg(long, global = true, default_value = "default")]
    name: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum EncapArg {
    Vxlan,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum DatastoreArg {
    Embedded,
    Etcd,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputArg {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Make the underlay, the datastore and N nodes running calico-node; returns when every
    /// node is ready.
    Up {
        #[arg(long, default_value_t = 2)]
        nodes: usize,
        /// vxlan: a VXLAN overlay; none: no encapsulation, BGP between the nodes.
        #[arg(long, value_enum, default_value = "vxlan")]
        encap: EncapArg,
        #[arg(long, value_enum, default_value = "embedded")]
        datastore: DatastoreArg,
        /// The default IPv4 pool (calico-node's CALICO_IPV4POOL_CIDR).
        #[arg(long, default_value = "10.244.0.0/16")]
        pool: String,
        /// Make these nodes (1-based, e.g. 1 or 1,2) BGP route reflectors and turn the
        /// node-to-node mesh off (--encap none only).
        #[arg(long = "route-reflector", value_delimiter = ',', num_args = 1..)]
        route_reflectors: Vec<usize>,
        /// Seconds to wait for the nodes to be ready (and, with --encap none, for their BGP
        /// sessions).
        #[arg(long, default_value_t = 90)]
        timeout: u64,
    },
    /// Pods: add, relabel, delete.
    Pod {
        #[command(subcommand)]
        command: PodCmd,
    },
    /// Stop or start a node's calico-node (to test crashes and resyncs).
    Node {
        #[command(subcommand)]
        command: NodeCmd,
    },
    /// Probe every pod to every pod; rows are clients, columns servers.
    Probe {
        #[arg(long, default_value_t = 80)]
        port: u16,
        /// tcp, udp or icmp.
        #[arg(long, default_value = "tcp")]
        protocol: String,
        #[arg(long, value_enum, default_value = "table")]
        output: OutputArg,
        /// Timeout of one probe, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
    },
    /// Print the `export` lines that point calicoctl at the lab's datastore.
    Env,
    /// Run a command inside a node's (or pod's) namespace with the lab's datastore environment.
    Exec {
        /// 1-based node index.
        #[arg(long, conflicts_with = "pod", required_unless_present = "pod")]
        node: Option<usize>,
        /// NS/NAME of a pod.
        #[arg(long)]
        pod: Option<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Nodes (ready or not) and pods (node, address, servers).
    Status,
    /// Remove everything the lab made, and nothing else.
    Down,
    /// The servers inside a pod (started by `pod add`).
    #[command(hide = true)]
    Serve {
        #[arg(long, default_value = "")]
        id: String,
        #[arg(long, default_value = "")]
        tcp: String,
        #[arg(long, default_value = "")]
        udp: String,
        #[arg(long)]
        ready_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum NodeCmd {
    /// Stop calico-node on node I (SIGTERM; --kill: SIGKILL, as a crash).
    Stop {
        #[arg(long)]
        node: usize,
        #[arg(long)]
        kill: bool,
    },
    /// Start calico-node on node I again and wait until it is ready.
    Start {
        #[arg(long)]
        node: usize,
        /// Seconds to wait for readiness.
        #[arg(long, default_value_t = 90)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum PodCmd {
    /// Create the Namespace and Pod, wire the pod with the calico CNI plugin, start servers.
    Add {
        /// NS/NAME.
        pod: String,
        /// 1-based node index (default: the nodes in turn).
        #[arg(long)]
        node: Option<usize>,
        /// k=v,k2=v2.
        #[arg(long, default_value = "")]
        labels: String,
        /// tcp/80,tcp/81,udp/80,udp/81.
        #[arg(long, default_value = "")]
        serve: String,
        /// A fixed address (Calico's cni.projectcalico.org/ipAddrs annotation).
        #[arg(long)]
        ip: Option<Ipv4Addr>,
        /// The Pod's serviceAccountName.
        #[arg(long)]
        service_account: Option<String>,
    },
    /// Replace a pod's labels (the Pod and its WorkloadEndpoint).
    Label {
        pod: String,
        #[arg(long)]
        labels: String,
    },
    /// Remove a pod: servers, CNI DEL, its namespace, the Pod.
    Del { pod: String },
}

fn print_line(s: &str) {
    println!("{s}");
}

fn run(cli: Cli) -> Result<i32> {
    let name = cli.name;
    match cli.command {
        Cmd::Up {
            nodes,
            encap,
            datastore,
            pool,
            route_reflectors,
            timeout,
        } => {
            let opts = UpOptions {
                name,
                nodes,
                encap: match encap {
                    EncapArg::Vxlan => Encap::Vxlan,
                    EncapArg::None => Encap::None,
                },
                datastore: match datastore {
                    DatastoreArg::Embedded => DatastoreKind::Embedded,
                    DatastoreArg::Etcd => DatastoreKind::Etcd,
                },
                pool,
                route_reflectors,
                timeout: Duration::from_secs(timeout),
            };
            calico_lab::up(&opts, &mut |l: &str| print_line(l))?;
        }
        Cmd::Pod { command } => match command {
            PodCmd::Add {
                pod,
                node,
                labels,
                serve,
                ip,
                service_account,
            } => {
                let o = PodAddOptions {
                    pod,
                    node,
                    labels: calico_lab::parse_labels(&labels)?,
                    serve: calico_lab::parse_serve(&serve)?,
                    ip,
                    service_account,
                };
                let p = calico_lab::pod::add(&name, &o)?;
                println!("pod {} on node {}: {} ({})", p.key(), p.node, p.ip, p.netns);
            }
            PodCmd::Label { pod, labels } => {
                calico_lab::pod::label(&name, &pod, calico_lab::parse_labels(&labels)?)?;
                println!("pod {pod} relabelled");
            }
            PodCmd::Del { pod } => {
                calico_lab::pod::del(&name, &pod)?;
                println!("pod {pod} removed");
            }
        },
        Cmd::Node { command } => match command {
            NodeCmd::Stop { node, kill } => {
                println!("{}", calico_lab::node::stop(&name, node, kill)?);
            }
            NodeCmd::Start { node, timeout } => calico_lab::node::start(
                &name,
                node,
                Duration::from_secs(timeout),
                &mut |l: &str| print_line(l),
            )?,
        },
        Cmd::Probe {
            port,
            protocol,
            output,
            timeout_ms,
        } => {
            let o = ProbeOptions {
                protocol: Protocol::parse(&protocol)?,
                port,
                timeout: Duration::from_millis(timeout_ms.clamp(50, 30_000)),
            };
            let m = calico_lab::probe_lab(&name, &o)?;
            match output {
                OutputArg::Table => print!("{}", m.table()),
                OutputArg::Json => println!("{}", serde_json::to_string(&m)?),
            }
        }
        Cmd::Env => print!("{}", calico_lab::env(&name)?),
        Cmd::Exec { node, pod, command } => {
            let target = match (node, pod) {
                (Some(i), _) => ExecTarget::Node(i),
                (None, Some(p)) => ExecTarget::Pod(p),
                (None, None) => anyhow::bail!("exec: give --node I or --pod NS/NAME"),
            };
            return Ok(calico_lab::exec(&name, &target, &command)?);
        }
        Cmd::Status => print!("{}", calico_lab::status(&name)?),
        Cmd::Down => calico_lab::down(&name, &mut |l: &str| print_line(l))?,
        Cmd::Serve {
            id,
            tcp,
            udp,
            ready_file,
        } => {
            let o = ServeOptions {
                id,
                tcp: parse_ports("--tcp", &tcp)?,
                udp: parse_ports("--udp", &udp)?,
                ready_file,
                bind: None,
            };
            calico_lab::serve::serve(&o).context("serve")?;
        }
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("calico-lab: {e:#}");
            ExitCode::FAILURE
        }
    }
}
