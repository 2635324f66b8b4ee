//! Our own client's container commands against our daemon, before any
//! container runs: `create` (flags, labels, env), `ps` (table, `-q`,
//! label filter), `inspect -f`, `rename`, `rm`, and the pull that `create`
//! attempts for a missing image.

mod common;

use common::image_tools::{import_busybox, ok};
use common::images;
use common::{Daemon, require, stderr, stdout};

#[test]
fn our_client_creates_lists_inspects_renames_and_removes() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);

    let id = ok(&d.client(&["create", "--name", "web", "-l", "a=b", "-e", "X=1", "busybox", "sleep", "1"]));
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");

    let table = ok(&d.client(&["ps", "-a"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header = lines[0];
    for column in ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines[1];
    assert!(row.starts_with(&format!("{}   busybox   ", &id[..12])), "{row}");
    assert!(row.contains("\"sleep 1\""), "{row}");
    let status_at = header.find("STATUS").unwrap();
    assert!(row[status_at..].starts_with("Created "), "{row}");
    assert!(row.ends_with("   web"), "{row}");
    // Not running: the default listing leaves it out.
    assert_eq!(ok(&d.client(&["ps"])).lines().count(), 1);

    assert_eq!(ok(&d.client(&["ps", "-a", "-q", "--filter", "label=a=b"])), format!("{}\n", &id[..12]));
    assert_eq!(ok(&d.client(&["ps", "-a", "-q", "--filter", "label=a=c"])), "");
    assert_eq!(ok(&d.client(&["ps", "-a", "-q", "--no-trunc"])), format!("{id}\n"));

    let env = ok(&d.client(&["inspect", "-f", "{{.Config.Env}}", "web"]));
    assert!(env.trim().starts_with('[') && env.contains("X=1"), "{env}");
    assert_eq!(ok(&d.client(&["inspect", "-f", "{{.Name}} {{.Config.Labels.a}}", "web"])), "/web b\n");

    assert_eq!(ok(&d.client(&["rename", "web", "web2"])), "");
    assert!(ok(&d.client(&["ps", "-a"])).lines().nth(1).unwrap().ends_with("   web2"));

    let out = d.client(&["rm", "web2", "nosuch"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "web2\n");
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
    assert_eq!(ok(&d.client(&["ps", "-a", "-q"])), "");

    let out = d.client(&["create", "-m", "lots", "busybox"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid value \"lots\" for flag -m: invalid size: 'lots'"), "{}", stderr(&out));
}

#[test]
fn create_pulls_a_missing_image_and_reports_a_failed_pull() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = Daemon::start();
    // A registry nobody listens on, so the pull fails at once and offline.
    let image = format!("127.0.0.1:{}/nosuch", common::free_port());
    let out = d.client(&["create", &image]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains(&format!("Unable to find image '{image}:latest' locally")), "{err}");
    assert!(err.contains("Error response from daemon") || err.contains("Error"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
}
