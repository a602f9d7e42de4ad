//! Link the plugin binaries as position-dependent executables (see the comment below).

fn main() {
    // A CNI plugin is a short-lived process started for every pod: as a position-independent
    // executable the dynamic loader applies ~28,000 relocations at every start, writing to
    // ~130 pages (copy-on-write faults) before `main` runs — about half of the process's
    // start-up cost. Linked at a fixed address there is nothing to relocate. (Calico's own
    // plugins, built by Go, are position-dependent too.)
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
