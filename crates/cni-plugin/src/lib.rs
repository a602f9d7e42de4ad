//! The `calico` and `calico-ipam` CNI plugin binaries: read stdin and the environment, run
//! `calico_cni::run`, print its output and exit with its status. Nothing else lives here.

use std::io::{Read, Write};

use calico_cni::error::{CODE_IO_FAILURE, CniError};
use calico_cni::node::MTU_FILE;
use calico_cni::version::LATEST;
use calico_cni::{Host, Plugin};
use calico_linux::Kernel;

/// The whole of a plugin binary's `main`.
pub fn plugin_main(plugin: Plugin) -> ! {
    // A network configuration is a few hundred bytes: read it in one go.
    let mut stdin = Vec::with_capacity(16 * 1024);
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        let err = CniError::new(
            CODE_IO_FAILURE,
            format!("cannot read the network configuration from stdin: {e}"),
        );
        println!("{}", err.to_json(LATEST));
        std::process::exit(1);
    }
    let kernel = Kernel::new();
    let host = Host {
        ops: &kernel,
        // The plugin runs in the host's (node's) network namespace.
        host_ns: "/proc/self/ns/net".into(),
        mtu_file: MTU_FILE.into(),
    };
    let out = calico_cni::run(plugin, &|k| std::env::var(k).ok(), &stdin, &host);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    // Every kernel request has completed by now: exit without waiting for the namespace
    // worker threads to wind down (the kernel closes their sockets).
    std::process::exit(if out.exit_code == 0 { 0 } else { 1 })
}
