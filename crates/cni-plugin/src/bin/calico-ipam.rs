//! `calico-ipam`: Calico's CNI IPAM plugin (see `calico_cni::ipam_plugin`).

fn main() {
    calico_cni_plugin::plugin_main(calico_cni::Plugin::CalicoIpam)
}
