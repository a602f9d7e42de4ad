//! `calicoctl` for calico-rs: Calico's resource command line with the same verbs, flags,
//! messages and table columns, over the calico-rs datastore (embedded store or etcd v3).
//!
//! ```text
//! main ── cli (clap) ── commands::{crud, delete, get, patch, label, validate, version, ipam,
//!                                   explain, node}
//!                          │  input (-f files/dirs/stdin → documents)
//!                          │  precheck (decode + defaults + validation + tiers, all or nothing)
//!                          │  session (config, connect, version check, namespaces)
//!                          ├─ calico_client::Client ── datastore backend
//!                          ├─ ipam: calico_client::{ipam_store::ClientIpam, ipam_gc}
//!                          ├─ explain: calico_policy::{Model, evaluate, explain::render}
//!                          └─ report (Calico's result messages) / output (tables, YAML, JSON)
//! ```
//!
//! Output goes to stdout, errors to stderr with exit status 1.

mod cli;
mod commands;
mod input;
mod kinds;
mod log;
mod output;
mod precheck;
mod report;
mod session;
mod stdout;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::crud::WriteOpts;
use crate::report::Verb;
use crate::session::Globals;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
            // Printing help or a usage error can only fail if the terminal is gone.
            let _ = e.print();
            return code;
        }
    };
    if let Err(msg) = log::set_level(&cli.log_level) {
        stdout::error_line(&msg);
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            stdout::error_line(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(ctx) = &cli.context {
        log::info(format_args!(
            "--context {ctx} ignored: no Kubernetes datastore"
        ));
    }
    let g = Globals {
        config: cli.config,
        allow_version_mismatch: cli.allow_version_mismatch,
    };
    match cli.command {
        Command::Create(a) => commands::crud::run(
            &g,
            WriteOpts {
                verb: Verb::Create,
                file: a.write.file.file_args(),
                namespace: a.write.namespace,
                skip_exists: a.skip_exists,
            },
        ),
        Command::Apply(a) => commands::crud::run(&g, write_opts(Verb::Apply, a)),
        Command::Replace(a) => commands::crud::run(&g, write_opts(Verb::Replace, a)),
        Command::Delete(a) => commands::delete::run(&g, a),
        Command::Get(a) => commands::get::run(&g, a),
        Command::Patch(a) => commands::patch::run(&g, a),
        Command::Label(a) => commands::label::run(&g, a),
        Command::Validate(a) => commands::validate::run(&a.file.file_args()),
        Command::Ipam(a) => commands::ipam::run(&g, a),
        Command::Explain(a) => commands::explain::run(&g, a),
        Command::Node(a) => commands::node::run(a),
        Command::Version(a) => commands::version::run(&g, a.client),
    }
}

fn write_opts(verb: Verb, a: cli::WriteArgs) -> WriteOpts {
    WriteOpts {
        verb,
        file: a.file.file_args(),
        namespace: a.namespace,
        skip_exists: false,
    }
}
