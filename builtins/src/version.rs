//! The `version` job and the build facts it reports (Docker 1.2's
//! `dockerVersion` builtin, in the v1.24 shape: `MinAPIVersion` and
//! `BuildTime` added, and `GoVersion` carrying the Rust compiler's version).

use std::sync::LazyLock;

use engine::{Job, Status};
use serde::Serialize;

/// The daemon's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit it was built from (7 hex digits, or `unknown`).
pub const GIT_COMMIT: &str = env!("DOCKER_GITCOMMIT");
/// The compiler, in Go's `go1.3.1` shape: `rust1.95.0`.
pub const RUST_VERSION: &str = env!("DOCKER_RUST_VERSION");
/// When it was built.
pub const BUILD_TIME: &str = env!("DOCKER_BUILDTIME");

/// The architecture as Go names it (what clients print and compare).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        other => other,
    }
}

/// The running kernel's release, read once.
pub fn kernel_version() -> &'static str {
    static KERNEL: LazyLock<String> = LazyLock::new(|| {
        nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
    });
    &KERNEL
}

/// The body of `GET /version`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionInfo {
    /// Daemon version.
    pub version: &'static str,
    /// API level.
    pub api_version: String,
    /// Oldest API level answered.
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    /// Commit.
    pub git_commit: &'static str,
    /// Compiler version (the field name is Go's, clients look for it).
    pub go_version: &'static str,
    /// Always `linux`.
    pub os: &'static str,
    /// Go-style architecture.
    pub arch: &'static str,
    /// Kernel release; omitted when unknown.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub kernel_version: &'static str,
    /// Build time.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub build_time: &'static str,
}

/// What this daemon reports.
pub fn version_info() -> VersionInfo {
    VersionInfo {
        version: VERSION,
        api_version: api_server::API_VERSION.to_string(),
        min_api_version: api_server::MIN_API_VERSION.to_string(),
        git_commit: GIT_COMMIT,
        go_version: RUST_VERSION,
        os: std::env::consts::OS,
        arch: go_arch(),
        kernel_version: kernel_version(),
        build_time: BUILD_TIME,
    }
}

/// The `version` job: one JSON object on stdout. Args are ignored, as in 1.2.
pub async fn version(job: Job) -> Status {
    static BODY: LazyLock<String> =
        LazyLock::new(|| serde_json::to_string(&version_info()).expect("plain strings serialise"));
    let _ = job.print(BODY.as_str()).await;
    Status::OK
}
