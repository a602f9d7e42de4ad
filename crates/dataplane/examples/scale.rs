//! Prints the full nft script for a synthetic node (E endpoints, P policies each with a
//! 10-member set, one M-member set), for measuring `nft -f` by hand or from bench scripts:
//! `cargo run -p calico-dataplane --example scale -- 1000 1000 10000 > /tmp/s.nft`.

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use calico_dataplane::Config;
use calico_dataplane::render::render;
use synthetic::state;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(0))
        .collect();
    let (e, p, m) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(1000).max(1),
        args.get(2).copied().unwrap_or(10_000),
    );
    print!(
        "{}",
        render(&Config::default(), &state(e, p, m)).full_script()
    );
}
