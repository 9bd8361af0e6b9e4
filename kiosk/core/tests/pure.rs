//! The core stays pure: Cargo says what it depends on, and its sources say what they use.
//!
//! Reads `cargo metadata` (the resolved dependency graph of the workspace) and follows
//! kiosk-core's normal dependencies, direct and indirect; none may be an async runtime,
//! a UI toolkit, a card, network or TLS stack, or one of the kiosk's driver crates. Then
//! scans the core's sources for the standard library's I/O and clock.
#![allow(clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

/// Crates the core must never reach, by name or name prefix.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "mio",
    "slint",
    "i-slint",
    "pcsc",
    "reqwest",
    "hyper",
    "rustls",
    "tokio-rustls",
    "ring",
    "serialport",
    "evdev",
    "rppal",
    "nix",
    "libc",
    "zbus",
    "kiosk-",
];

fn forbidden(name: &str) -> bool {
    name != "kiosk-core"
        && FORBIDDEN.iter().any(|f| {
            name == *f || (f.ends_with('-') && name.starts_with(f)) || name.starts_with(&format!("{f}-"))
        })
}

/// kiosk-core's normal (not dev, not build) dependencies, all the way down.
fn dependency_tree() -> BTreeSet<String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or(""), p["name"].as_str().unwrap_or("")))
        .collect();
    let nodes: HashMap<&str, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|n| (n["id"].as_str().unwrap_or(""), n))
        .collect();
    let root =
        names.iter().find(|(_, n)| **n == "kiosk-core").map(|(id, _)| *id).expect("kiosk-core is a member");
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap_or("");
            if normal && seen.insert(names[dep_id].to_owned()) {
                todo.push(dep_id);
            }
        }
    }
    seen
}

#[test]
fn the_core_depends_on_no_io_crate() {
    let tree = dependency_tree();
    assert!(
        tree.contains("heapless") && tree.contains("zeroize"),
        "the walk found the core's own dependencies: {tree:?}"
    );
    let bad: Vec<&String> = tree.iter().filter(|n| forbidden(n)).collect();
    assert!(bad.is_empty(), "kiosk-core must stay free of I/O, but depends on {bad:?} (all: {tree:?})");
}

#[test]
fn the_rule_catches_what_it_should() {
    for bad in [
        "tokio",
        "slint",
        "i-slint-core",
        "pcsc-sys",
        "reqwest",
        "rustls",
        "kiosk-card",
        "kiosk-ui",
        "tokio-util",
    ] {
        assert!(forbidden(bad), "{bad}");
    }
    for fine in ["kiosk-core", "heapless", "zeroize", "thiserror", "ringbuf"] {
        assert!(!forbidden(fine), "{fine}");
    }
}

/// Standard-library paths that reach outside the process or read a clock.
const IO: &[&str] =
    &["std::fs", "std::net", "std::process", "std::thread", "std::env", "SystemTime", "Instant", "std::io"];

#[test]
fn the_core_sources_do_no_io_and_read_no_clock() {
    let mut found = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if let Some(word) = IO.iter().find(|w| code.contains(*w)) {
                    found.push(format!("{}:{}: {word}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "the core reads no clock and does no I/O: {found:#?}");
}
