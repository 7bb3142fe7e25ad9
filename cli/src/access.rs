//! The registry's access rules, as the CLI shows them and as the broker enforces them.

use std::collections::BTreeMap;
use std::path::Path;

use events_broker::authorization::{Policy, Rule};
use events_broker::Secrets;
use events_codegen::registry::{ContractKind, Registry};
use events_codegen::Config;

use crate::failure::{Failure, FailureKind, Outcome};
use crate::tools;

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
pub fn nats_config(config: &Config, secrets: &Path, out: Option<&Path>) -> Result<Outcome, Failure> {
    let registry = tools::load(config)?;
    let policy = policy(registry.registry());
    let secrets =
        Secrets::open(secrets).map_err(|e| Failure::caused(FailureKind::Usage, "cannot open the secrets folder", e))?;
    let mut hashes = BTreeMap::new();
    for user in policy.users() {
        let credentials = secrets.ensure(user).map_err(|e| {
            Failure::caused(FailureKind::Io, format!("cannot read or make the credentials of {user}"), e)
        })?;
        hashes.insert(user.to_string(), credentials.hash());
    }
    let text = policy.render(|u| hashes[u].clone());
    match out {
        Some(path) => std::fs::write(path, &text).map_err(|e| {
            Failure::caused(FailureKind::Io, format!("cannot write the configuration to {}", path.display()), e)
        })?,
        None => print!("{text}"),
    }
    eprintln!(
        "{} users ({} operator{}); each service's credentials: {}",
        hashes.len(),
        policy.operators.len(),
        if policy.operators.len() == 1 { "" } else { "s" },
        secrets.path_of("<service>").display()
    );
    Ok(Outcome::Clean)
}
