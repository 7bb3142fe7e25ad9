//! The `events` crate stays free of what the transport and the tools need: no tokio, no
//! networking, no command-line parser, in what it builds with (its build-dependency
//! `events-codegen` included) or links. (Run by cargo itself, on the workspace's own lock file.)

#[test]
fn the_events_crate_builds_without_an_async_runtime_a_network_stack_or_a_cli_parser() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "events",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("events v")), "not the tree of `events`:\n{tree}");
    for banned in [
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
    ] {
        let found: Vec<&str> = tree.lines().filter(|l| l.split(' ').next() == Some(banned)).collect();
        assert!(found.is_empty(), "`events` pulls in {banned}: {found:?}");
    }
}

/// The command-line tool builds without the transport and without the compiled registry, so that
/// it runs while the registry it checks does not build. (Its server, `events serve`, brings tokio.)
#[test]
fn the_command_line_tool_builds_without_the_transport_or_the_compiled_registry() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "events-cli",
            "-e",
            "normal",
            "-f",
            "{p} {f}",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8(output.stdout).unwrap();
    for banned in ["async-nats", "events-nats"] {
        let found: Vec<&str> = tree.lines().filter(|l| l.split(' ').next() == Some(banned)).collect();
        assert!(found.is_empty(), "`events-cli` pulls in {banned}: {found:?}");
    }
    let events: Vec<&str> = tree.lines().filter(|l| l.starts_with("events v")).collect();
    assert!(!events.is_empty(), "not the tree of the tool:\n{tree}");
    assert!(events.iter().all(|l| !l.contains("registry")), "the tool builds the compiled registry: {events:?}");
}
