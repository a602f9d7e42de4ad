//! The validation context and the checks shared by many kinds (names, labels, CIDRs,
//! selectors, interface names).
//!
//! A kind's `validate` walks its fields with [`Validator::field`] / [`Validator::index`] and
//! records every problem with [`Validator::error`]; nothing stops at the first error, so one run
//! reports everything wrong with a resource, each with its field path.

use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;
use regex::Regex;

use crate::error::FieldError;

/// Collects field errors while walking a resource.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<String>,
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run `f` with `name` appended to the current path.
    pub fn field<R>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(format!(".{name}"));
        let r = f(self);
        self.path.pop();
        r
    }

    /// Run `f` with `[i]` appended to the current path.
    pub fn index<R>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(format!("[{i}]"));
        let r = f(self);
        self.path.pop();
        r
    }

    /// Run `f` with `[key]` appended (for map entries).
    pub fn key<R>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(format!("[{key}]"));
        let r = f(self);
        self.path.pop();
        r
    }

    /// The current path, e.g. `spec.ingress[0].action`.
    pub fn path(&self) -> String {
        let joined: String = self.path.concat();
        joined.strip_prefix('.').unwrap_or(&joined).to_string()
    }

    /// Record an error at the current path.
    pub fn error(&mut self, message: impl Into<String>) {
        let path = self.path();
        self.errors.push(FieldError {
            path,
            message: message.into(),
        });
    }

    /// Record an error at `field` below the current path.
    pub fn error_at(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        self.field(field, |v| v.error(message));
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    // ----- common checks; each records an error at the current path and returns validity -----

    /// A DNS-1123 subdomain (the generic resource name rule), at most 253 characters.
    pub fn check_dns_subdomain(&mut self, value: &str) -> bool {
        if is_dns_subdomain(value) {
            return true;
        }
        self.error(format!(
            "{value:?} is not a valid name: expected lower-case alphanumerics, '-' and '.', \
             starting and ending with an alphanumeric, at most 253 characters"
        ));
        false
    }

    /// A DNS-1123 label: at most 63 characters, no dots.
    pub fn check_dns_label(&mut self, value: &str) -> bool {
        if is_dns_label(value) {
            return true;
        }
        self.error(format!(
            "{value:?} is not a valid name: expected lower-case alphanumerics and '-', starting \
             and ending with an alphanumeric, at most 63 characters"
        ));
        false
    }

    /// A selector in Calico's selector language.
    pub fn check_selector(&mut self, value: &str) -> Option<calico_selector::Selector> {
        match calico_selector::Selector::parse(value) {
            Ok(s) => Some(s),
            Err(e) => {
                self.error(format!("invalid selector: {e}"));
                None
            }
        }
    }

    /// A CIDR that must be strictly masked (no host bits), e.g. `10.0.0.0/16`.
    pub fn check_cidr_masked(&mut self, value: &str) -> Option<IpNet> {
        let net = self.check_cidr(value)?;
        if net.trunc() != net {
            self.error(format!(
                "{value:?} has host bits set: expected the network address {}",
                net.trunc()
            ));
            return None;
        }
        Some(net)
    }

    /// A CIDR (host bits allowed) or a bare IP (taken as /32 or /128).
    pub fn check_cidr(&mut self, value: &str) -> Option<IpNet> {
        match parse_cidr_or_ip(value) {
            Some(n) => Some(n),
            None => {
                self.error(format!("{value:?} is not a valid CIDR or IP address"));
                None
            }
        }
    }

    /// An IP address.
    pub fn check_ip(&mut self, value: &str) -> Option<IpAddr> {
        match value.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.error(format!("{value:?} is not a valid IP address"));
                None
            }
        }
    }

    /// A Linux interface name: 1–15 characters of `[a-zA-Z0-9_.-]`.
    pub fn check_interface_name(&mut self, value: &str) -> bool {
        static RE: LazyLock<Option<Regex>> =
            LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.\-]{1,15}$").ok());
        if RE.as_ref().is_some_and(|re| re.is_match(value)) {
            return true;
        }
        self.error(format!(
            "{value:?} is not a valid interface name: expected 1-15 characters of letters, \
             digits, '_', '.' and '-'"
        ));
        false
    }

    /// Kubernetes label keys and values (also used for annotations' keys).
    pub fn check_labels<'a>(&mut self, labels: impl IntoIterator<Item = (&'a String, &'a String)>) {
        for (k, val) in labels {
            self.key(k, |v| {
                if let Err(msg) = label_key_problem(k) {
                    v.error(msg);
                }
                if !is_label_value(val) {
                    v.error(format!(
                        "label value {val:?} is invalid: expected at most 63 characters of \
                         alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric"
                    ));
                }
            });
        }
    }
}

/// Parse `a.b.c.d/n`, `x::/n`, or a bare address (as a host route).
pub fn parse_cidr_or_ip(value: &str) -> Option<IpNet> {
    if let Ok(n) = value.parse::<IpNet>() {
        return Some(n);
    }
    value.parse::<IpAddr>().ok().map(IpNet::from)
}

pub fn is_dns_label(value: &str) -> bool {
    static RE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").ok());
    value.len() <= 63 && RE.as_ref().is_some_and(|re| re.is_match(value))
}

pub fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && !value.is_empty() && value.split('.').all(is_dns_subdomain_part)
}

fn is_dns_subdomain_part(part: &str) -> bool {
    static RE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").ok());
    RE.as_ref().is_some_and(|re| re.is_match(part))
}

fn is_qualified_name_part(value: &str) -> bool {
    static RE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$").ok());
    value.len() <= 63 && RE.as_ref().is_some_and(|re| re.is_match(value))
}

/// A Kubernetes label value: empty, or a qualified-name part of at most 63 characters.
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_qualified_name_part(value)
}

/// Why `key` is not a valid Kubernetes label key (`[prefix/]name`), if it is not.
pub fn label_key_problem(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        return Err(format!(
            "label key {key:?} has an invalid prefix {p:?}: expected a DNS subdomain"
        ));
    }
    if !is_qualified_name_part(name) {
        return Err(format!(
            "label key {key:?} is invalid: expected an optional DNS-subdomain prefix and '/', \
             then at most 63 characters of alphanumerics, '-', '_' and '.', starting and ending \
             with an alphanumeric"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest() {
        let mut v = Validator::new();
        v.field("spec", |v| {
            v.field("ingress", |v| {
                v.index(0, |v| v.error_at("action", "bad"));
            })
        });
        assert_eq!(v.into_errors()[0].path, "spec.ingress[0].action");
    }

    #[test]
    fn names_and_labels() {
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("A"));
        assert!(!is_dns_subdomain("-a"));
        assert!(is_dns_label("abc-1"));
        assert!(!is_dns_label("a.b"));
        assert!(label_key_problem("projectcalico.org/namespace").is_ok());
        assert!(label_key_problem("app").is_ok());
        assert!(label_key_problem("bad key").is_err());
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
    }

    #[test]
    fn cidrs() {
        let mut v = Validator::new();
        assert!(v.check_cidr_masked("10.0.0.0/16").is_some());
        assert!(v.check_cidr_masked("10.0.0.1/16").is_none());
        let e = v.into_errors();
        assert!(e[0].message.contains("host bits"), "{}", e[0].message);
        assert_eq!(parse_cidr_or_ip("1.2.3.4").unwrap().prefix_len(), 32);
    }
}
