//! `labbench`: the benchmarks of issue 5, calico-rs on calico-lab beside a floor wired by hand
//! and an iptables peer, in one run (see BENCH_RESULTS.md for how to read the output).
//!
//! Everything runs in namespaces this program makes: a calico-lab named `lb<pid>` (its
//! namespaces `cl-lb<pid>-*`) and the floor `lbf<pid>-*`; both are removed on exit (drop
//! guards) and leftovers of a crashed earlier run are removed at start.

mod bench;
mod floor;
mod lab;
mod pingpong;
mod resources;
mod stats;
mod sys;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "labbench",
    about = "calico-rs dataplane benchmarks of issue 5 (run as root)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benchmarks side by side and print the tables.
    Run(bench::Options),
    /// The ping-pong server (started inside a pod by `run`).
    #[command(hide = true)]
    PpServer {
        #[arg(long)]
        port: u16,
    },
    /// The ping-pong client: prints one JSON line.
    #[command(hide = true)]
    PpClient {
        #[arg(long)]
        addr: SocketAddr,
        /// rr or crr.
        #[arg(long)]
        mode: String,
        #[arg(long, default_value_t = 200)]
        warmup: usize,
        #[arg(long, default_value_t = 20000)]
        count: usize,
        #[arg(long, default_value_t = 2000)]
        max_ms: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r: Result<()> = match cli.cmd {
        Cmd::Run(o) => bench::run(&o),
        Cmd::PpServer { port } => pingpong::serve(port),
        Cmd::PpClient {
            addr,
            mode,
            warmup,
            count,
            max_ms,
        } => {
            let mode = match mode.as_str() {
                "rr" => Ok(pingpong::Mode::Rr),
                "crr" => Ok(pingpong::Mode::Crr),
                m => Err(anyhow::anyhow!("--mode {m:?}: expected rr or crr")),
            };
            mode.and_then(|m| {
                pingpong::client(addr, m, warmup, count, Duration::from_millis(max_ms))
            })
            .map(|s| println!("{}", s.to_json()))
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labbench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
