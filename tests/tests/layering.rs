//! The crate layering of ARCHITECTURE.md, enforced: a crate may depend only
//! on the workspace crates its row lists. Read from `cargo metadata`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// crate → the workspace crates it may use (normal and build dependencies).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("engine", &[][..]),
        ("runconfig", &["engine"][..]),
        ("execdriver", &[][..]),
        ("registry", &["engine", "runconfig"][..]),
        ("graph", &["engine", "runconfig", "registry"][..]),
        ("networkdriver", &["engine"][..]),
        ("daemon", &["engine", "runconfig", "graph", "execdriver", "registry"][..]),
        ("api-server", &["engine"][..]),
        ("builtins", &["engine", "api-server", "networkdriver", "registry"][..]),
        (
            "cli",
            &[
                "engine",
                "runconfig",
                "execdriver",
                "registry",
                "graph",
                "networkdriver",
                "daemon",
                "api-server",
                "builtins",
            ][..],
        ),
        ("tests", &[][..]),
    ])
}

#[test]
fn crates_depend_only_on_lower_layers() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(common::workspace())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    let rules = allowed();

    let mut violations = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        let Some(ok) = rules.get(name) else {
            violations.push(format!("{name} is not a crate of ARCHITECTURE.md"));
            continue;
        };
        for dep in p["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let kind = dep["kind"].as_str().unwrap_or("normal");
            if !members.contains(dep_name) {
                continue;
            }
            if kind == "dev" && name == "tests" {
                continue;
            }
            if !ok.contains(&dep_name) {
                violations.push(format!("{name} -> {dep_name} ({kind})"));
            }
        }
    }
    assert!(violations.is_empty(), "dependency edges the layering forbids:\n{}", violations.join("\n"));
}
