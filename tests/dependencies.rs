//! What each crate builds with. The `events` crate stays free of what the transport and the tools
//! need: no tokio, no networking, no command-line parser, in what it builds with (its
//! build-dependency `events-codegen` included) or links. The command-line tool stays free of the
//! transport and of the compiled registry. (Run by cargo itself, on the workspace's own lock file.)

/// `cargo tree` of `package` over `edges`: one line per package, `name vX.Y.Z (features)`.
fn tree(package: &str, edges: &str) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "-p", package, "-e", edges, "--prefix", "none", "--format", "{p} {f}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn assert_none_of(tree: &str, package: &str, banned: &[&str]) {
    assert!(tree.lines().any(|l| l.starts_with(&format!("{package} v"))), "not the tree of `{package}`:\n{tree}");
    for banned in banned {
        let found: Vec<&str> = tree.lines().filter(|l| l.split(' ').next() == Some(banned)).collect();
        assert!(found.is_empty(), "`{package}` pulls in {banned}: {found:?}");
    }
}

#[test]
fn the_events_crate_builds_without_an_async_runtime_a_network_stack_or_a_cli_parser() {
    let tree = tree("events", "normal,build");
    let banned = [
        "tokio",
        "async-nats",
        "mio",
        "hyper",
        "rustls",
        "futures-util",
        "socket2",
        "clap",
        "clap_builder",
        "axum",
        "tower",
    ];
    assert_none_of(&tree, "events", &banned);
}

/// The command-line tool builds without the transport and without the compiled registry, so that
/// it runs while the registry it checks does not build. (Its server, `events serve`, brings tokio.)
#[test]
fn the_command_line_tool_builds_without_the_transport_or_the_compiled_registry() {
    let tree = tree("events-cli", "normal");
    assert_none_of(&tree, "events-cli", &["async-nats", "events-nats"]);
    let events: Vec<&str> = tree.lines().filter(|l| l.starts_with("events v")).collect();
    assert!(!events.is_empty(), "the tool builds the runtime:\n{tree}");
    assert!(events.iter().all(|l| !l.contains("registry")), "the tool builds the compiled registry: {events:?}");
}
