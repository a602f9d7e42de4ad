//! Felix's configuration as calico-node applies it: the global FelixConfiguration `default`,
//! the per-node `node.<name>`, and `FELIX_<NAME>` environment variables, with Felix's
//! precedence: environment > per-node > global > Felix's default.
//!
//! A `FELIX_*` variable names a FelixConfiguration field case-insensitively
//! (`FELIX_LOGSEVERITYSCREEN` is `logSeverityScreen`); its text is converted to the field's
//! type (number, boolean as Felix spells them, duration, string). Variables that name no
//! FelixConfiguration field (`FELIX_FELIXHOSTNAME`, `FELIX_DATASTORETYPE`, ...) are reported as
//! ignored; a value of the wrong type is an error naming the variable.

use std::time::Duration;

use calico_api::{FELIX_DEFAULTS, FelixConfigurationSpec};
use serde_json::{Map, Value};

use crate::log::Level;

/// A `FELIX_*` variable that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?} is not valid for FelixConfiguration field {field}: {detail}")]
pub struct FelixEnvError {
    pub var: String,
    pub value: String,
    pub field: String,
    pub detail: String,
}

/// The `FELIX_*` overrides, as FelixConfiguration JSON fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FelixEnv {
    pub fields: Map<String, Value>,
    /// Variables naming no FelixConfiguration field.
    pub ignored: Vec<String>,
}

fn bool_word(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

fn capitalised(v: &str) -> String {
    let lower = v.trim().to_ascii_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn fits(field: &str, value: &Value) -> Result<(), String> {
    let mut m = Map::new();
    m.insert(field.to_string(), value.clone());
    serde_json::from_value::<FelixConfigurationSpec>(Value::Object(m))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl FelixEnv {
    /// From the process environment.
    pub fn from_env() -> Result<Self, FelixEnvError> {
        Self::from_vars(std::env::vars())
    }

    /// From `(name, value)` pairs; only names starting with `FELIX_` are looked at.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, FelixEnvError> {
        let mut out = FelixEnv::default();
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with("FELIX_"))
            .collect();
        vars.sort();
        for (var, value) in vars {
            let wanted = var["FELIX_".len()..].to_ascii_lowercase();
            let Some((field, _)) = FELIX_DEFAULTS
                .iter()
                .find(|(name, _)| name.to_ascii_lowercase() == wanted)
            else {
                out.ignored.push(var);
                continue;
            };
            let field = (*field).to_string();
            let text = if field.starts_with("logSeverity") {
                capitalised(&value)
            } else {
                value.trim().to_string()
            };
            let mut candidates = Vec::new();
            if let Ok(n) = text.parse::<i64>() {
                candidates.push(Value::from(n));
            } else if let Ok(f) = text.parse::<f64>() {
                candidates.push(Value::from(f));
            }
            if let Some(b) = bool_word(&text) {
                candidates.push(Value::Bool(b));
            }
            candidates.push(Value::String(text.clone()));
            if text.contains(',') {
                candidates.push(Value::Array(
                    text.split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                ));
            }
            let mut last_err = String::new();
            let mut chosen = None;
            for c in candidates {
                match fits(&field, &c) {
                    Ok(()) => {
                        chosen = Some(c);
                        break;
                    }
                    Err(e) => last_err = e,
                }
            }
            match chosen {
                Some(v) => {
                    out.fields.insert(field, v);
                }
                None => {
                    return Err(FelixEnvError {
                        var,
                        value,
                        field,
                        detail: last_err,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The FelixConfiguration in effect: `env` over `node` over `global`. Fields set nowhere stay
/// unset (Felix's defaults come from the `effective_*` accessors).
pub fn effective_spec(
    global: Option<&FelixConfigurationSpec>,
    node: Option<&FelixConfigurationSpec>,
    env: &FelixEnv,
) -> FelixConfigurationSpec {
    let empty = FelixConfigurationSpec::default();
    let merged = FelixConfigurationSpec::merged(global.unwrap_or(&empty), node.unwrap_or(&empty));
    let Ok(Value::Object(mut base)) = serde_json::to_value(&merged) else {
        return merged;
    };
    base.extend(env.fields.clone());
    serde_json::from_value(Value::Object(base)).unwrap_or(merged)
}

/// The settings calico-node itself acts on, resolved from the effective spec.
#[derive(Clone, Debug, PartialEq)]
pub struct FelixSettings {
    pub spec: FelixConfigurationSpec,
    pub log_level: Level,
    /// `None`: derived from the IP pools (a pool with VXLAN enabled turns it on).
    pub vxlan_enabled: Option<bool>,
    pub vxlan_vni: u32,
    pub vxlan_port: u16,
    /// 0: automatic.
    pub vxlan_mtu: u32,
    pub health_enabled: bool,
    pub health_host: String,
    pub health_port: u16,
    pub metrics_enabled: bool,
    pub metrics_host: String,
    pub metrics_port: u16,
    pub watchdog_timeout: Duration,
}

fn port(v: i64, default: u16) -> u16 {
    u16::try_from(v).unwrap_or(default)
}

impl FelixSettings {
    /// Resolve `spec`. `healthEnabled` defaults to true here, as the calico-node manifests set
    /// `FELIX_HEALTHENABLED=true`; every other default is Felix's.
    pub fn from_spec(spec: FelixConfigurationSpec) -> Self {
        let log_level = Level::parse(spec.effective_log_severity_screen()).unwrap_or(Level::Info);
        Self {
            log_level,
            vxlan_enabled: spec.vxlan_enabled,
            vxlan_vni: u32::try_from(spec.effective_vxlan_vni()).unwrap_or(4096),
            vxlan_port: port(spec.effective_vxlan_port(), 4789),
            vxlan_mtu: u32::try_from(spec.effective_vxlan_mtu()).unwrap_or(0),
            health_enabled: spec.health_enabled.unwrap_or(true),
            health_host: spec.effective_health_host().to_string(),
            health_port: port(spec.effective_health_port(), 9099),
            metrics_enabled: spec.effective_prometheus_metrics_enabled(),
            metrics_host: spec.prometheus_metrics_host.clone(),
            metrics_port: port(spec.effective_prometheus_metrics_port(), 9091),
            watchdog_timeout: spec
                .effective_dataplane_watchdog_timeout()
                .as_std()
                .unwrap_or(Duration::from_secs(90)),
            spec,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Result<FelixEnv, FelixEnvError> {
        FelixEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn spec(json: &str) -> FelixConfigurationSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn env_names_are_case_insensitive_and_typed() {
        let e = env(&[
            ("FELIX_LOGSEVERITYSCREEN", "debug"),
            ("FELIX_VXLANVNI", "5000"),
            ("FELIX_VXLANENABLED", "true"),
            ("FELIX_HEALTHHOST", "0.0.0.0"),
            ("FELIX_PROMETHEUSMETRICSENABLED", "yes"),
            ("FELIX_DATAPLANEWATCHDOGTIMEOUT", "30s"),
            ("FELIX_FELIXHOSTNAME", "n1"),
            ("PATH", "/bin"),
        ])
        .unwrap();
        assert_eq!(e.fields["logSeverityScreen"], "Debug");
        assert_eq!(e.fields["vxlanVNI"], 5000);
        assert_eq!(e.fields["vxlanEnabled"], true);
        assert_eq!(e.fields["healthHost"], "0.0.0.0");
        assert_eq!(e.fields["prometheusMetricsEnabled"], true);
        assert_eq!(e.ignored, vec!["FELIX_FELIXHOSTNAME".to_string()]);
        let s = FelixSettings::from_spec(effective_spec(None, None, &e));
        assert_eq!(s.log_level, Level::Debug);
        assert_eq!(s.vxlan_vni, 5000);
        assert_eq!(s.watchdog_timeout, Duration::from_secs(30));
        assert!(s.metrics_enabled);
    }

    #[test]
    fn bad_env_value_names_variable_and_field() {
        let e = env(&[("FELIX_VXLANPORT", "lots")]).unwrap_err();
        assert_eq!(e.var, "FELIX_VXLANPORT");
        assert_eq!(e.field, "vxlanPort");
        assert!(
            e.to_string()
                .starts_with("FELIX_VXLANPORT=\"lots\" is not valid"),
            "{e}"
        );
    }

    #[test]
    fn precedence_env_then_node_then_global_then_default() {
        let global = spec(
            r#"{"vxlanVNI": 4100, "vxlanPort": 4790, "healthPort": 9100, "logSeverityScreen": "Warning"}"#,
        );
        let node = spec(r#"{"vxlanPort": 4791, "healthPort": 9101}"#);
        let e = env(&[("FELIX_HEALTHPORT", "9102")]).unwrap();
        let s = FelixSettings::from_spec(effective_spec(Some(&global), Some(&node), &e));
        assert_eq!(s.health_port, 9102, "env wins");
        assert_eq!(s.vxlan_port, 4791, "per-node over global");
        assert_eq!(s.vxlan_vni, 4100, "global over default");
        assert_eq!(s.log_level, Level::Warning);
        assert_eq!(s.metrics_port, 9091, "Felix default");
        assert!(!s.metrics_enabled);
        assert!(s.health_enabled, "calico-node enables health by default");
        assert_eq!(s.health_host, "localhost");
        assert_eq!(s.vxlan_enabled, None);
        let none = FelixSettings::from_spec(effective_spec(None, None, &FelixEnv::default()));
        assert_eq!(
            (none.vxlan_vni, none.vxlan_port, none.vxlan_mtu),
            (4096, 4789, 0)
        );
        assert_eq!((none.health_port, none.metrics_port), (9099, 9091));
    }
}
