//! `calico`: Calico's CNI network plugin (see `calico_cni`).

fn main() {
    calico_cni_plugin::plugin_main(calico_cni::Plugin::Calico)
}
