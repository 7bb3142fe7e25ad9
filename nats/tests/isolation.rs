//! The `events` crate stays free of the transport: no tokio, no networking, in what it builds
//! with or links. (Run by cargo itself, on the workspace's own lock file.)

#[test]
fn the_events_crate_depends_on_no_async_runtime_or_network_stack() {
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
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("events v")), "not the tree of `events`:\n{tree}");
    for banned in ["tokio", "async-nats", "mio", "hyper", "rustls", "futures-util", "socket2"] {
        let found: Vec<&str> = tree.lines().filter(|l| l.split(' ').next() == Some(banned)).collect();
        assert!(found.is_empty(), "`events` pulls in {banned}: {found:?}");
    }
}
