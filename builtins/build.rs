//! Records the git commit, the compiler version and the build time for the
//! `version` job (what Docker's `dockerversion` package was linked with).

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = std::env::var("DOCKER_GITCOMMIT")
        .ok()
        .or_else(|| output("git", &["rev-parse", "--short=7", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    // "rustc 1.95.0 (59807616e 2026-04-14)" -> "rust1.95.0", shaped like "go1.3.1".
    let rust = output(&rustc, &["--version"])
        .and_then(|v| v.split_whitespace().nth(1).map(|n| format!("rust{n}")))
        .unwrap_or_else(|| "rust".into());
    let build_time = output("date", &["-u", "+%Y-%m-%dT%H:%M:%S.000000000+00:00"]).unwrap_or_default();
    println!("cargo:rustc-env=DOCKER_GITCOMMIT={commit}");
    println!("cargo:rustc-env=DOCKER_RUST_VERSION={rust}");
    println!("cargo:rustc-env=DOCKER_BUILDTIME={build_time}");
    println!("cargo:rerun-if-env-changed=DOCKER_GITCOMMIT");
    // HEAD names a branch; the branch's ref file (or packed-refs) changes
    // with each commit, and logs/HEAD with each commit or checkout.
    // (Only paths that exist: cargo reruns on every build for a missing one.)
    let mut watched = vec!["../.git/HEAD".to_string(), "../.git/logs/HEAD".into(), "../.git/packed-refs".into()];
    if let Ok(head) = std::fs::read_to_string("../.git/HEAD")
        && let Some(branch) = head.trim().strip_prefix("ref: ")
    {
        watched.push(format!("../.git/{branch}"));
    }
    for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
}
