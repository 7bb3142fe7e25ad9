//! The registry's access rules, as the CLI shows them and as the broker enforces them.

use std::collections::BTreeMap;
use std::path::Path;

use events_broker::authorization::{Policy, Rule};
use events_broker::Secrets;
use events_codegen::registry::{ContractKind, Registry};
use events_codegen::Config;

use crate::tools::{self, FINDINGS, USAGE};

/// The rules of a registry read from disk, one per contract name (its newest version states it).
pub fn policy(registry: &Registry) -> Policy {
    Policy {
        services: registry.services().into_iter().map(str::to_string).collect(),
        operators: registry.access.operators.clone(),
        rules: registry
            .newest_by_name()
            .into_values()
            .map(|f| Rule {
                name: f.contract.name.clone(),
                event_type: match f.contract.kind {
                    ContractKind::Event(t) => Some(crate::decode::runtime_type(t)),
                    ContractKind::Command => None,
                },
                publishers: registry.publishers(f),
                consumers: registry.consumers(f),
            })
            .collect(),
    }
}

/// `events nats-config`.
pub fn nats_config(config: &Config, secrets: &Path, out: Option<&Path>) -> u8 {
    let registry = match tools::inspect(config) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let policy = policy(registry.registry());
    let secrets = match Secrets::open(secrets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return USAGE;
        }
    };
    let mut hashes = BTreeMap::new();
    for user in policy.users() {
        match secrets.ensure(user) {
            Ok(credentials) => {
                hashes.insert(user.to_string(), credentials.hash());
            }
            Err(e) => {
                eprintln!("error: {e}");
                return FINDINGS;
            }
        }
    }
    let text = policy.render(|u| hashes[u].clone());
    let written = match out {
        Some(path) => std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    };
    if let Err(e) = written {
        eprintln!("error: cannot write the configuration to {e}");
        return FINDINGS;
    }
    eprintln!(
        "{} users ({} operator{}); each service's credentials: {}",
        hashes.len(),
        policy.operators.len(),
        if policy.operators.len() == 1 { "" } else { "s" },
        secrets.path_of("<service>").display()
    );
    0
}
