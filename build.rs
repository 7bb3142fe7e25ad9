// Generates the typed contracts of `schemas/` (see [package.metadata.events] in Cargo.toml).
fn main() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    // The runtime alone (`default-features = false`): nothing to generate.
    if std::env::var_os("CARGO_FEATURE_REGISTRY").is_none() {
        return;
    }
    if let Err(e) = events_codegen::Config::from_cargo_metadata().and_then(|c| c.compile()) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
