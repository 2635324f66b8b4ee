//! `docker stats` (Docker 1.12's `api/client/container/stats.go`; Docker
//! 1.2 had none): one stats stream per container, shown as Docker 1.12's
//! table `CONTAINER  CPU %  MEM USAGE / LIMIT  MEM %  NET I/O  BLOCK I/O
//! PIDS`, redrawn every half second, or printed once with `--no-stream`
//! after every container's first object (which the daemon primes with two
//! samples, so CPU % is a real figure).
//!
//! Figures are computed as today's CLI computes them: CPU % from the
//! difference to `precpu_stats` times the CPUs online (`online_cpus`, or
//! the number of per-CPU figures from daemons without it), memory without
//! the inactive page cache. Departure from 1.12: with `-a`, containers
//! created while the table runs are not added (1.12 followed events).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use http::Method;
use http_body_util::BodyExt;
use runconfig::container::ContainerSummary;
use runconfig::stats::StatsJson;

use super::Subcmd;
use super::format::{short_id, table};
use crate::client::{CliError, DockerCli};

/// How often the streaming table is redrawn (1.12's ticker).
const REDRAW: Duration = Duration::from_millis(500);

/// `docker stats`.
pub async fn cmd_stats(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "stats",
        "[OPTIONS] [CONTAINER...]",
        "Display a live stream of one or more containers' resource usage statistics",
    );
    cmd.flags.bool(&["a", "-all"], false, "Show all containers (default shows just running)");
    cmd.flags.bool(&["-no-stream"], false, "Disable streaming stats and only pull the first result");
    let Some(names) = cmd.parse(args)? else { return Ok(()) };
    let (all, no_stream) = (cmd.flags.get_bool("all"), cmd.flags.get_bool("no-stream"));

    let listed = names.is_empty();
    let names = if listed { list(cli, all).await? } else { names };
    let rows: Vec<Mutex<Row>> = names.iter().map(|_| Mutex::new(Row::default())).collect();

    let collectors = join_all(names.iter().zip(&rows).map(|(name, row)| collect(cli, name, row, !no_stream)));
    if no_stream {
        collectors.await;
        // Named containers that failed (no such container) fail the command.
        let errors: Vec<String> = rows.iter().filter_map(|r| lock(r).error.clone()).collect();
        if !listed && !errors.is_empty() {
            return Err(CliError::Other(errors.join("\n")));
        }
        print!("{}", render(&names, &rows, &mut BTreeSet::new(), false));
        return Ok(());
    }

    let redraw = async {
        let mut gone = BTreeSet::new();
        let mut ticks = tokio::time::interval(REDRAW);
        loop {
            ticks.tick().await;
            // Clear the screen and go home, as 1.12 did.
            print!("\x1b[2J\x1b[H{}", render(&names, &rows, &mut gone, true));
            if gone.len() == names.len() && !all {
                return;
            }
        }
    };
    tokio::select! {
        () = redraw => {}
        _ = async { collectors.await; std::future::pending::<()>().await } => {}
    }
    Ok(())
}

/// The short IDs of the running containers (all with `-a`).
async fn list(cli: &DockerCli, all: bool) -> Result<Vec<String>, CliError> {
    let path = if all { "/containers/json?all=1" } else { "/containers/json" };
    let body = cli.call(Method::GET, path, None).await?;
    let list: Vec<ContainerSummary> =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("reading the container list: {e}")))?;
    Ok(list.iter().map(|c| short_id(&c.id)).collect())
}

/// One container's latest figures.
#[derive(Debug, Clone, Default, PartialEq)]
struct Row {
    cpu_percent: f64,
    memory: f64,
    memory_limit: f64,
    memory_percent: f64,
    net: (f64, f64),
    block: (f64, f64),
    pids: u64,
    /// The stream failed or ended: `Error response from daemon: ...`.
    error: Option<String>,
}

fn lock(row: &Mutex<Row>) -> std::sync::MutexGuard<'_, Row> {
    // A poisoned row only means a panicking writer; its figures are fine.
    row.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads one container's stream into its row until it ends (or after the
/// first object without `stream`).
async fn collect(cli: &DockerCli, name: &str, row: &Mutex<Row>, stream: bool) {
    let path = format!("/containers/{name}/stats?stream={}", if stream { "1" } else { "0" });
    let mut body = match cli.stream(Method::GET, &path).await {
        Ok(body) => body,
        Err(e) => {
            lock(row).error = Some(e.to_string());
            return;
        }
    };
    let mut pending = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Ok(data) = frame.into_data() else { continue };
        pending.extend_from_slice(&data);
        let mut objects = serde_json::Deserializer::from_slice(&pending).into_iter::<StatsJson>();
        let mut consumed = 0;
        while let Some(object) = objects.next() {
            match object {
                Ok(v) => {
                    consumed = objects.byte_offset();
                    *lock(row) = figures(&v);
                    if !stream {
                        return;
                    }
                }
                Err(e) if e.is_eof() => break,
                Err(e) => {
                    lock(row).error = Some(format!("reading stats: {e}"));
                    return;
                }
            }
        }
        pending.drain(..consumed);
    }
    lock(row).error.get_or_insert_with(|| "stats stream ended".to_string());
}

/// The table figures of one object.
fn figures(v: &StatsJson) -> Row {
    let (cpu, pre) = (&v.cpu_stats, &v.precpu_stats);
    let cpu_delta = cpu.cpu_usage.total_usage as f64 - pre.cpu_usage.total_usage as f64;
    let system_delta = cpu.system_cpu_usage as f64 - pre.system_cpu_usage as f64;
    let cpus = if cpu.online_cpus > 0 {
        cpu.online_cpus as f64
    } else {
        cpu.cpu_usage.percpu_usage.as_ref().map_or(0, Vec::len) as f64
    };
    let cpu_percent = if cpu_delta > 0.0 && system_delta > 0.0 { cpu_delta / system_delta * cpus * 100.0 } else { 0.0 };

    let mem = &v.memory_stats;
    let stat = |k: &str| mem.stats.as_ref().and_then(|s| s.get(k).copied());
    // The page cache the kernel can drop is not the container's use
    // (cgroup v1 `total_inactive_file`, v2 `inactive_file`).
    let memory = match stat("total_inactive_file").or_else(|| stat("inactive_file")) {
        Some(cache) if cache < mem.usage => (mem.usage - cache) as f64,
        _ => mem.usage as f64,
    };
    let memory_limit = mem.limit as f64;
    let memory_percent = if memory_limit > 0.0 { memory / memory_limit * 100.0 } else { 0.0 };

    let mut block = (0.0, 0.0);
    for e in v.blkio_stats.io_service_bytes_recursive.iter().flatten() {
        match e.op.to_ascii_lowercase().as_str() {
            "read" => block.0 += e.value as f64,
            "write" => block.1 += e.value as f64,
            _ => {}
        }
    }
    let net = v
        .networks
        .iter()
        .flatten()
        .fold((0.0, 0.0), |(rx, tx), (_, n)| (rx + n.rx_bytes as f64, tx + n.tx_bytes as f64));
    Row { cpu_percent, memory, memory_limit, memory_percent, net, block, pids: v.pids_stats.current, error: None }
}

/// The table; with `drop_failed`, rows whose stream failed are left out
/// from then on (`gone` remembers them), as 1.12's streaming table does.
fn render(names: &[String], rows: &[Mutex<Row>], gone: &mut BTreeSet<usize>, drop_failed: bool) -> String {
    let mut lines = vec![
        ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
            .map(str::to_string)
            .to_vec(),
    ];
    for (n, (name, row)) in names.iter().zip(rows).enumerate() {
        let r = lock(row).clone();
        if drop_failed && r.error.is_some() {
            gone.insert(n);
        }
        if gone.contains(&n) {
            continue;
        }
        if r.error.is_some() {
            lines.push(vec![
                name.clone(),
                "--".into(),
                "-- / --".into(),
                "--".into(),
                "-- / --".into(),
                "-- / --".into(),
                "--".into(),
            ]);
            continue;
        }
        lines.push(vec![
            name.clone(),
            format!("{:.2}%", r.cpu_percent),
            format!("{} / {}", bytes_size(r.memory), bytes_size(r.memory_limit)),
            format!("{:.2}%", r.memory_percent),
            format!("{} / {}", human_size(r.net.0), human_size(r.net.1)),
            format!("{} / {}", human_size(r.block.0), human_size(r.block.1)),
            r.pids.to_string(),
        ]);
    }
    // 1.12's `tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)`.
    table(&lines, 20, 3)
}

/// go-units' `BytesSize`: binary units, 4 significant digits (`1.5MiB`).
fn bytes_size(size: f64) -> String {
    custom_size(size, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"])
}

/// go-units' `HumanSize`: decimal units, 4 significant digits (`1.23kB`).
fn human_size(size: f64) -> String {
    custom_size(size, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"])
}

fn custom_size(mut size: f64, base: f64, units: &[&str]) -> String {
    let mut unit = 0;
    while size >= base && unit < units.len() - 1 {
        size /= base;
        unit += 1;
    }
    format!("{}{}", go_g4(size), units[unit])
}

/// Go's `%.4g` for the values a size takes (below 1024): 4 significant
/// digits, trailing zeros dropped.
fn go_g4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let exponent = v.abs().log10().floor() as i32;
    let decimals = (3 - exponent).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runconfig::stats::{BlkioStatEntry, NetworkStats};

    #[test]
    fn go_units_sizes() {
        assert_eq!(bytes_size(0.0), "0B");
        assert_eq!(bytes_size(64.0 * 1024.0 * 1024.0), "64MiB");
        assert_eq!(bytes_size(1536.0 * 1024.0), "1.5MiB");
        assert_eq!(bytes_size(1023.0), "1023B");
        assert_eq!(human_size(1234.0), "1.234kB");
        assert_eq!(human_size(999.96), "1000B");
        assert_eq!(go_g4(12.3456), "12.35");
    }

    #[test]
    fn figures_as_the_cli_computes_them() {
        let mut v = StatsJson::default();
        v.cpu_stats.cpu_usage.total_usage = 300;
        v.cpu_stats.cpu_usage.percpu_usage = Some(vec![150, 150]);
        v.cpu_stats.system_cpu_usage = 2000;
        v.precpu_stats.cpu_usage.total_usage = 100;
        v.precpu_stats.system_cpu_usage = 1000;
        v.memory_stats.usage = 100;
        v.memory_stats.limit = 400;
        v.memory_stats.stats = Some([("total_inactive_file".to_string(), 20)].into());
        v.blkio_stats.io_service_bytes_recursive = Some(vec![
            BlkioStatEntry { major: 8, minor: 0, op: "Read".into(), value: 5 },
            BlkioStatEntry { major: 8, minor: 0, op: "Write".into(), value: 7 },
            BlkioStatEntry { major: 8, minor: 0, op: "Total".into(), value: 12 },
        ]);
        v.networks =
            Some([("eth0".to_string(), NetworkStats { rx_bytes: 3, tx_bytes: 4, ..Default::default() })].into());
        v.pids_stats.current = 2;
        let r = figures(&v);
        assert_eq!(r.cpu_percent, 40.0, "200/1000 of the host times 2 CPUs");
        assert_eq!((r.memory, r.memory_percent), (80.0, 20.0));
        assert_eq!((r.block, r.net, r.pids), ((5.0, 7.0), (3.0, 4.0), 2));
        v.cpu_stats.online_cpus = 4;
        assert_eq!(figures(&v).cpu_percent, 80.0);
    }

    #[test]
    fn the_table() {
        let names = vec!["web".to_string(), "gone".to_string()];
        let rows = vec![
            Mutex::new(Row { memory: 1024.0, memory_limit: 64.0 * 1048576.0, ..Default::default() }),
            Mutex::new(Row { error: Some("x".into()), ..Default::default() }),
        ];
        let text = render(&names, &rows, &mut BTreeSet::new(), false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("CONTAINER           CPU %"), "{text}");
        assert!(lines[1].contains("1KiB / 64MiB") && lines[1].contains("0B / 0B"), "{text}");
        assert!(lines[2].starts_with("gone") && lines[2].contains("--"), "{text}");
        let mut gone = BTreeSet::new();
        assert_eq!(render(&names, &rows, &mut gone, true).lines().count(), 2);
        assert!(gone.contains(&1));
    }
}
