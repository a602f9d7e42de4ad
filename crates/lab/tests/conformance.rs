//! The policy conformance suite on the kernel over the VXLAN overlay: every scenario of
//! `calico_policy::scenarios` on a two-node lab (`--encap vxlan`), half of the pairs crossing
//! the overlay; the runner is `common::conformance`. (That the reference evaluator agrees
//! with the written matrices is tested in the policy crate.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[test]
fn kernel_enforces_every_policy_scenario() {
    common::conformance::run("conf", &["--encap", "vxlan"], |lab| {
        common::assert_vxlan(lab, 1);
    });
}
