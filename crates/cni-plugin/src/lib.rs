//! The `calico` and `calico-ipam` CNI plugin binaries: read stdin and the environment, run
//! `calico_cni::run`, print its output and exit with its status. Nothing else lives here.

use std::io::Read;
use std::process::ExitCode;

use calico_cni::error::{CODE_IO_FAILURE, CniError};
use calico_cni::node::MTU_FILE;
use calico_cni::version::LATEST;
use calico_cni::{Host, Plugin};
use calico_linux::Kernel;

/// The whole of a plugin binary's `main`.
pub fn plugin_main(plugin: Plugin) -> ExitCode {
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        let err = CniError::new(
            CODE_IO_FAILURE,
            format!("cannot read the network configuration from stdin: {e}"),
        );
        println!("{}", err.to_json(LATEST));
        return ExitCode::FAILURE;
    }
    let kernel = Kernel::new();
    let host = Host {
        ops: &kernel,
        // The plugin runs in the host's (node's) network namespace.
        host_ns: "/proc/self/ns/net".into(),
        mtu_file: MTU_FILE.into(),
    };
    let out = calico_cni::run(plugin, &|k| std::env::var(k).ok(), &stdin, &host);
    drop(kernel);
    print!("{}", out.stdout);
    if out.exit_code == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
