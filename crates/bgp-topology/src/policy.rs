//! BGPFilter rules and Calico's default export filter as a route policy (being written).
