//! `docker update` (Docker 1.12's `api/client/container/update.go`; Docker
//! 1.2 had none): new resource limits and restart policy for one or more
//! containers. Each container updated is printed; the daemon's warnings
//! follow; failures are reported together at the end (exit status 1).

use bytes::Bytes;
use http::Method;
use runconfig::container::RestartPolicy;
use runconfig::stats::{UpdateConfig, UpdateResponse};

use super::Subcmd;
use super::args::{Count, check};
use super::runflags::ram_in_bytes;
use crate::client::{CliError, DockerCli};

/// `docker update`.
pub async fn cmd_update(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = command();
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("update", &rest, Count::AtLeast(1))?;
    let config = config_from(&cmd.flags)?;

    let body = Bytes::from(serde_json::to_vec(&config).map_err(|e| CliError::Other(e.to_string()))?);
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for name in &rest {
        match cli.call(Method::POST, &format!("/containers/{name}/update"), Some(body.clone())).await {
            Ok(answer) => {
                println!("{name}");
                // An answer without warnings (or not JSON) has none to show.
                if let Ok(r) = serde_json::from_slice::<UpdateResponse>(&answer) {
                    warnings.extend(r.warnings);
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !warnings.is_empty() {
        println!("{}", warnings.join("\n"));
    }
    if errors.is_empty() { Ok(()) } else { Err(CliError::Other(errors.join("\n"))) }
}

/// The command and its flags.
fn command() -> Subcmd {
    let mut cmd =
        Subcmd::new("update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers");
    cmd.flags.int(&["-blkio-weight"], 0, "Block IO (relative weight), between 10 and 1000");
    cmd.flags.int(&["-cpu-period"], 0, "Limit CPU CFS (Completely Fair Scheduler) period");
    cmd.flags.int(&["-cpu-quota"], 0, "Limit CPU CFS (Completely Fair Scheduler) quota");
    cmd.flags.string(&["-cpuset-cpus"], "", "CPUs in which to allow execution (0-3, 0,1)");
    cmd.flags.string(&["-cpuset-mems"], "", "MEMs in which to allow execution (0-3, 0,1)");
    cmd.flags.int(&["c", "-cpu-shares"], 0, "CPU shares (relative weight)");
    cmd.flags.string(&["m", "-memory"], "", "Memory limit");
    cmd.flags.string(&["-memory-reservation"], "", "Memory soft limit");
    cmd.flags.string(&["-memory-swap"], "", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
    cmd.flags.string(&["-kernel-memory"], "", "Kernel memory limit");
    cmd.flags.string(&["-restart"], "", "Restart policy to apply when a container exits");
    cmd
}

/// The update body of the flags given; none at all is a usage error, as
/// in today's CLI.
fn config_from(flags: &crate::flags::FlagSet) -> Result<UpdateConfig, CliError> {
    const ALL: [&str; 11] = [
        "blkio-weight",
        "cpu-period",
        "cpu-quota",
        "cpuset-cpus",
        "cpuset-mems",
        "cpu-shares",
        "memory",
        "memory-reservation",
        "memory-swap",
        "kernel-memory",
        "restart",
    ];
    if !ALL.iter().any(|f| flags.is_set(f)) {
        return Err(CliError::Usage("you must provide one or more flags when using this command".into()));
    }
    let bytes = |name: &str| -> Result<i64, CliError> {
        match flags.get_string(name).as_str() {
            "" => Ok(0),
            "-1" if name == "memory-swap" => Ok(-1),
            text => ram_in_bytes(text).map_err(CliError::Usage),
        }
    };
    let blkio_weight = u16::try_from(flags.get_int("blkio-weight"))
        .map_err(|_| CliError::Usage("Range of blkio weight is from 10 to 1000".into()))?;
    let restart = flags.get_string("restart");
    Ok(UpdateConfig {
        blkio_weight,
        cpu_shares: flags.get_int("cpu-shares"),
        cpu_period: flags.get_int("cpu-period"),
        cpu_quota: flags.get_int("cpu-quota"),
        cpuset_cpus: flags.get_string("cpuset-cpus"),
        cpuset_mems: flags.get_string("cpuset-mems"),
        memory: bytes("memory")?,
        memory_swap: bytes("memory-swap")?,
        memory_reservation: bytes("memory-reservation")?,
        kernel_memory: bytes("kernel-memory")?,
        restart_policy: if restart.is_empty() { RestartPolicy::default() } else { restart_policy(&restart)? },
    })
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]` (the count is
/// checked by the daemon, as today's CLI leaves it).
fn restart_policy(s: &str) -> Result<RestartPolicy, CliError> {
    let (name, count) = s.split_once(':').map_or((s, None), |(n, c)| (n, Some(c)));
    let maximum_retry_count = match count {
        Some(c) => c.parse().map_err(|_| CliError::Usage(format!("maximum retry count must be an integer: {c}")))?,
        None => 0,
    };
    Ok(RestartPolicy { name: name.to_string(), maximum_retry_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<UpdateConfig, CliError> {
        let mut cmd = command();
        cmd.parse(args.iter().map(|s| s.to_string()).collect())?;
        config_from(&cmd.flags)
    }

    #[test]
    fn flags_to_body() {
        let u = parsed(&["-m", "48m", "--memory-swap", "-1", "-c", "512", "--restart", "on-failure:3"]).unwrap();
        assert_eq!((u.memory, u.memory_swap, u.cpu_shares), (48 << 20, -1, 512));
        assert_eq!(u.restart_policy, RestartPolicy { name: "on-failure".into(), maximum_retry_count: 3 });
        assert!(matches!(parsed(&[]), Err(CliError::Usage(_))));
        assert!(parsed(&["-m", "lots"]).is_err());
        assert!(parsed(&["--restart", "on-failure:x"]).is_err());
    }
}
