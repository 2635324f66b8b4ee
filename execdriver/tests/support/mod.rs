//! What the driver's integration suites share: a busybox root filesystem
//! with the applets a suite names, and the driver with the crate's own
//! `dockerinit`.
#![allow(dead_code)]

use std::os::unix::fs::symlink;

use execdriver::NativeDriver;

/// A root filesystem with Debian's static busybox, a symlink per applet
/// in `applets`, and `passwd`/`group` (root plus `extra_user`, a
/// `name:uid` given both files, when not empty).
pub fn rootfs(applets: &[&str], extra_user: Option<(&str, u32)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("bin")).expect("mkdir bin");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("copy busybox");
    for a in applets {
        symlink("busybox", root.join("bin").join(a)).expect("symlink applet");
    }
    let (mut passwd, mut group) = ("root:x:0:0:root:/root:/bin/sh\n".to_string(), "root:x:0:\n".to_string());
    if let Some((name, id)) = extra_user {
        passwd.push_str(&format!("{name}:x:{id}:{id}::/home/{name}:/bin/sh\n"));
        group.push_str(&format!("{name}:x:{id}:\n"));
    }
    std::fs::write(root.join("etc/passwd"), passwd).expect("passwd");
    std::fs::write(root.join("etc/group"), group).expect("group");
    dir
}

/// The native driver with this crate's `dockerinit` binary as the init.
pub fn driver() -> NativeDriver {
    NativeDriver::with_init(env!("CARGO_BIN_EXE_dockerinit"))
}
