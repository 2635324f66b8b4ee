//! The container flags `docker create` and `docker run` share: their
//! declaration, their validators (the `opts`-like ones in [`opts`]), and
//! the translation of a parsed command line into the create body
//! (`runconfig.Parse` of Docker 1.2, with the spellings today's CLI
//! accepts).
//!
//! Values are checked while flags are parsed (through the flag set's
//! validators), so a bad `-m 1x` or `-p 99999` is a usage error worded like
//! every other flag error: `invalid value "1x" for flag -m: invalid size:
//! '1x'`, exit status 2. Every flag of Docker 1.2's `run` is declared
//! (`--lxc-conf` is checked and then ignored with a warning: the only exec
//! driver is the native one), plus `--label`, `--add-host`, `--memory-swap`
//! and `--cpuset-cpus` of later versions; the rest of today's long list is
//! refused as undefined.

use std::collections::BTreeMap;
use std::path::Path;

use runconfig::container::{Config, HostConfig, PortBinding, RestartPolicy};
use serde_json::Value;

use self::opts::{
    device, parse_env_file, validate_dns_search, validate_env, validate_extra_host, validate_ip, validate_label,
    validate_link, validate_workdir,
};
use super::args::{Count, check};
use crate::client::CliError;
use crate::flags::FlagSet;

mod opts;

/// What a create request needs: the `?name=`, the image as typed, and the
/// body's two halves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub config: Config,
    pub host_config: HostConfig,
    /// Printed on stderr before the create (`WARNING: ...`).
    pub warnings: Vec<String>,
}

impl ContainerSpec {
    /// The `POST /containers/create` body: the Config at the top level with
    /// `HostConfig` beside it, as the CLI sends it.
    pub fn body(&self) -> Result<Vec<u8>, CliError> {
        let encode = |e: serde_json::Error| CliError::Other(format!("encoding the create request: {e}"));
        let mut body = serde_json::to_value(&self.config).map_err(encode)?;
        let host_config = serde_json::to_value(&self.host_config).map_err(encode)?;
        if let Value::Object(map) = &mut body {
            map.insert("HostConfig".into(), host_config);
        }
        serde_json::to_vec(&body).map_err(encode)
    }
}

/// Declares the container flags on `flags`.
pub fn declare(flags: &mut FlagSet) {
    flags.string(&["-name"], "", "Assign a name to the container");
    flags.list(&["e", "-env"], "Set environment variables");
    flags.list(&["l", "-label"], "Set meta data on a container");
    flags.string(&["w", "-workdir"], "", "Working directory inside the container");
    flags.string(&["u", "-user"], "", "Username or UID (format: <name|uid>[:<group|gid>])");
    flags.string(&["h", "-hostname"], "", "Container host name");
    flags.bool(&["t", "-tty"], false, "Allocate a pseudo-TTY");
    flags.bool(&["i", "-interactive"], false, "Keep STDIN open even if not attached");
    flags.string(&["-entrypoint"], "", "Overwrite the default ENTRYPOINT of the image");
    flags.string(&["m", "-memory"], "", "Memory limit (format: <number>[<unit>], where unit = b, k, m or g)");
    flags.int(&["c", "-cpu-shares"], 0, "CPU shares (relative weight)");
    flags.string(
        &["-net"],
        "bridge",
        "Set the Network mode for the container\n'bridge': creates a new network stack for the container on the docker bridge\n'none': no networking for this container\n'container:<name|id>': reuses another container network stack\n'host': use the host network stack inside the container.  Note: the host mode gives the container full access to local system services such as D-bus and is therefore considered insecure.",
    );
    flags.string(&["-restart"], "no", "Restart policy to apply when a container exits");
    flags.list(&["v", "-volume"], "Bind mount a volume (e.g., from the host: -v /host:/container)");
    flags.list(&["-volumes-from"], "Mount volumes from the specified container(s)");
    flags.list(&["p", "-publish"], "Publish a container's port(s) to the host (format: [ip:][hostPort:]containerPort)");
    flags.bool(&["P", "-publish-all"], false, "Publish all exposed ports to random ports");
    flags.bool(&["-privileged"], false, "Give extended privileges to this container");
    flags.list(&["-cap-add"], "Add Linux capabilities");
    flags.list(&["-cap-drop"], "Drop Linux capabilities");
    flags.bool(&["-rm"], false, "Automatically remove the container when it exits");
    flags.list(&["-env-file"], "Read in a line delimited file of environment variables");
    // 1.2 named it --cpuset; today's CLI --cpuset-cpus. Both are one flag.
    flags.string(&["-cpuset", "-cpuset-cpus"], "", "CPUs in which to allow execution (0-3, 0,1)");
    flags.string(&["-memory-swap"], "", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
    flags.list(&["-dns"], "Set custom DNS servers");
    flags.list(&["-dns-search"], "Set custom DNS search domains");
    flags.list(&["-add-host"], "Add a custom host-to-IP mapping (host:ip)");
    flags.list(&["-expose"], "Expose a port or a range of ports from the container without publishing it to your host");
    flags.list(&["-link"], "Add link to another container in the form of name:alias");
    flags.list(&["-device"], "Add a host device to the container (e.g. --device=/dev/sdc:/dev/xvdc:rwm)");
    flags.string(&["-cidfile"], "", "Write the container ID to the file");
    flags.list(
        &["-lxc-conf"],
        "(lxc exec-driver only) Add custom lxc options --lxc-conf=\"lxc.cgroup.cpuset.cpus = 0,1\"",
    );
    flags.validator("env", validate_env);
    flags.validator("label", validate_label);
    flags.validator("workdir", validate_workdir);
    flags.validator("memory", |s| ram_in_bytes(s).map(|n| n.to_string()));
    flags.validator("restart", |s| restart_policy(s).map(|_| s.to_string()));
    flags.validator("volume", |s| volume(s).map(|_| s.to_string()));
    flags.validator("publish", |s| port_spec(s).map(|_| s.to_string()));
    flags.validator("memory-swap", |s| match s {
        "-1" => Ok(s.to_string()),
        _ => ram_in_bytes(s).map(|n| n.to_string()),
    });
    flags.validator("dns", validate_ip);
    flags.validator("dns-search", validate_dns_search);
    flags.validator("add-host", validate_extra_host);
    flags.validator("expose", |s| expose(s).map(|_| s.to_string()));
    flags.validator("link", validate_link);
    flags.validator("device", |s| device(s).map(|_| s.to_string()));
    flags.validator("lxc-conf", |s| match s.split_once('=') {
        Some(_) => Ok(s.to_string()),
        None => Err(format!("Unable to parse key/value option: {s}")),
    });
}

/// Builds the spec from the parsed `flags` and the positional words
/// (`IMAGE [COMMAND] [ARG...]`) of `docker <command>`.
pub fn spec(command: &str, flags: &FlagSet, rest: &[String]) -> Result<ContainerSpec, CliError> {
    check(command, rest, Count::AtLeast(1))?;
    let usage = |e: String| CliError::Usage(format!("docker {command}: {e}. See 'docker {command} --help'."));
    let image = rest[0].clone();
    let cmd = (rest.len() > 1).then(|| rest[1..].to_vec());
    let entrypoint = match flags.get_string("entrypoint") {
        e if !e.is_empty() => Some(vec![e]),
        // An explicit empty entrypoint clears the image's, as the CLI does.
        _ if flags.is_set("entrypoint") => Some(vec![String::new()]),
        _ => None,
    };
    // Files first, so `-e` overrides what they set (1.2's order).
    let mut env = Vec::new();
    for file in flags.get_list("env-file") {
        env.extend(parse_env_file(Path::new(&file)).map_err(usage)?);
    }
    env.extend(flags.get_list("env"));
    let labels = flags
        .get_list("label")
        .iter()
        .map(|l| l.split_once('=').map_or((l.clone(), String::new()), |(k, v)| (k.to_string(), v.to_string())))
        .collect();

    let mut volumes = BTreeMap::new();
    let mut binds = Vec::new();
    for v in flags.get_list("volume") {
        match volume(&v).map_err(usage)? {
            Volume::Anonymous(path) => {
                volumes.insert(path, Value::Object(Default::default()));
            }
            Volume::Bind(spec) => binds.push(spec),
        }
    }

    let mut exposed = BTreeMap::new();
    let mut bindings: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for p in flags.get_list("publish") {
        for (port, binding) in port_spec(&p).map_err(usage)? {
            exposed.insert(port.clone(), Value::Object(Default::default()));
            bindings.entry(port).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(binding);
        }
    }
    for e in flags.get_list("expose") {
        for port in expose(&e).map_err(usage)? {
            exposed.entry(port).or_insert_with(|| Value::Object(Default::default()));
        }
    }
    let links = flags.get_list("link");
    if flags.get_string("net") == "host" && !links.is_empty() {
        return Err(usage(
            "Conflicting options: --net=host can't be used with links. This would result in undefined behavior".into(),
        ));
    }
    let devices = flags.get_list("device").iter().map(|d| device(d)).collect::<Result<Vec<_>, _>>().map_err(usage)?;
    let warnings = match flags.get_list("lxc-conf").is_empty() {
        true => Vec::new(),
        false => vec!["--lxc-conf is ignored: this daemon has only the native exec driver".to_string()],
    };

    let memory = match flags.get_string("memory") {
        m if m.is_empty() => 0,
        m => m.parse().map_err(|e| usage(format!("invalid memory value {m}: {e}")))?,
    };
    let memory_swap = match flags.get_string("memory-swap") {
        m if m.is_empty() => 0,
        m => m.parse().map_err(|e| usage(format!("invalid memory-swap value {m}: {e}")))?,
    };
    let interactive = flags.get_bool("interactive");
    let config = Config {
        hostname: flags.get_string("hostname"),
        user: flags.get_string("user"),
        attach_stdin: interactive,
        attach_stdout: true,
        attach_stderr: true,
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        tty: flags.get_bool("tty"),
        open_stdin: interactive,
        env: (!env.is_empty()).then_some(env),
        cmd,
        image: image.clone(),
        volumes: Some(volumes),
        working_dir: flags.get_string("workdir"),
        entrypoint,
        labels,
        ..Config::default()
    };
    let policy = restart_policy(&flags.get_string("restart")).map_err(usage)?;
    // 1.2 refused only `always` and `on-failure` here; today's CLI any
    // policy but `no`, which is what this follows.
    if flags.get_bool("rm") && !matches!(policy.name.as_str(), "" | "no") {
        return Err(usage("Conflicting options: --restart and --rm".into()));
    }
    let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let host_config = HostConfig {
        binds: non_empty(binds),
        volumes_from: non_empty(flags.get_list("volumes-from")),
        network_mode: flags.get_string("net"),
        port_bindings: Some(bindings),
        restart_policy: policy,
        auto_remove: flags.get_bool("rm"),
        cap_add: non_empty(flags.get_list("cap-add")),
        cap_drop: non_empty(flags.get_list("cap-drop")),
        privileged: flags.get_bool("privileged"),
        publish_all_ports: flags.get_bool("publish-all"),
        cpu_shares: flags.get_int("cpu-shares"),
        memory,
        memory_swap,
        cpuset_cpus: flags.get_string("cpuset"),
        dns: non_empty(flags.get_list("dns")),
        dns_search: non_empty(flags.get_list("dns-search")),
        extra_hosts: non_empty(flags.get_list("add-host")),
        links: non_empty(links),
        devices: (!devices.is_empty()).then_some(devices),
        container_id_file: flags.get_string("cidfile"),
        ..HostConfig::default()
    };
    Ok(ContainerSpec { name: flags.get_string("name"), image, config, host_config, warnings })
}

/// `--expose 80`, `80/udp`, or a range `8000-8010[/proto]` (ranges are
/// today's; 1.2 took one port): the `port/proto` keys of `ExposedPorts`.
fn expose(s: &str) -> Result<Vec<String>, String> {
    if s.contains(':') {
        return Err(format!("Invalid port format for --expose: {s}"));
    }
    let (ports, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let (lo, hi) = port_range(ports, false)?;
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// `units.RAMInBytes`: a number with an optional binary unit (`b`, `k`,
/// `m`, `g`, `t`, `p`, optionally followed by `b`).
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size: '{s}'");
    let lower = s.trim().to_lowercase();
    let digits_end = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim_start();
    let shift = match unit.strip_suffix('b').unwrap_or(unit) {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return Err(invalid()),
    };
    let bytes = number * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
fn restart_policy(s: &str) -> Result<RestartPolicy, String> {
    let (name, count) = s.split_once(':').map_or((s, None), |(n, c)| (n, Some(c)));
    let maximum_retry_count = match (name, count) {
        ("on-failure", Some(c)) => c.parse().map_err(|_| format!("maximum retry count must be an integer: {c}"))?,
        ("no" | "always" | "unless-stopped", Some(_)) => {
            return Err(format!("maximum retry count cannot be used with restart policy '{name}'"));
        }
        ("" | "no" | "always" | "unless-stopped" | "on-failure", _) => 0,
        _ => return Err(format!("invalid restart policy {s:?}")),
    };
    Ok(RestartPolicy { name: name.to_string(), maximum_retry_count })
}

enum Volume {
    /// `/data`: a volume the daemon creates.
    Anonymous(String),
    /// `/host:/data[:ro]` or `name:/data`.
    Bind(String),
}

fn volume(spec: &str) -> Result<Volume, String> {
    let invalid = || format!("invalid volume specification: '{spec}'");
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [path] if path.starts_with('/') => Ok(Volume::Anonymous(path.to_string())),
        [source, target] | [source, target, "ro" | "rw" | "z" | "Z"]
            if !source.is_empty() && target.starts_with('/') =>
        {
            Ok(Volume::Bind(spec.to_string()))
        }
        _ => Err(invalid()),
    }
}

/// One `-p` spec as `("80/tcp", binding)` pairs (several for a range):
/// `containerPort`, `hostPort:containerPort`, `ip:hostPort:containerPort`,
/// `ip::containerPort`, each with an optional `/proto`, ports or ranges.
pub fn port_spec(spec: &str) -> Result<Vec<(String, PortBinding)>, String> {
    let (rest, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    // An IPv6 host address is bracketed so its colons are not separators.
    let (ip, rest) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (ip, tail) = v6.split_once("]:").ok_or_else(|| format!("invalid IP address in {spec}"))?;
            (ip.to_string(), tail)
        }
        None => match rest.matches(':').count() {
            2 => rest.split_once(':').map(|(ip, tail)| (ip.to_string(), tail)).unwrap_or_default(),
            _ => (String::new(), rest),
        },
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (h, c),
        None if rest.contains(':') || rest.is_empty() => return Err(format!("no port specified: {spec}<empty>")),
        None => ("", rest),
    };
    if container.is_empty() || container.contains(':') {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (c_lo, c_hi) = port_range(container, false)?;
    let host_range = if host.is_empty() { None } else { Some(port_range(host, true)?) };
    if let Some((h_lo, h_hi)) = host_range
        && h_hi - h_lo != c_hi - c_lo
        && h_lo != h_hi
    {
        return Err(format!("invalid ranges specified for container and host ports: {container} and {host}"));
    }
    let mut out = Vec::new();
    for (n, port) in (c_lo..=c_hi).enumerate() {
        let host_port = match host_range {
            None => String::new(),
            // A single host port for a container range: every port maps to it.
            Some((lo, hi)) if lo == hi => lo.to_string(),
            Some((lo, _)) => (lo as usize + n).to_string(),
        };
        out.push((format!("{port}/{proto}"), PortBinding { host_ip: ip.clone(), host_port }));
    }
    Ok(out)
}

/// `80` or `8000-8010`; a container port must not be 0.
fn port_range(s: &str, host: bool) -> Result<(u16, u16), String> {
    let one = |p: &str| match p.parse::<u16>() {
        Ok(0) if !host => Err(format!("invalid containerPort: {s}")),
        Ok(n) => Ok(n),
        Err(_) if host => Err(format!("invalid hostPort: {s}")),
        Err(_) => Err(format!("invalid containerPort: {s}")),
    };
    let (lo, hi) = match s.split_once('-') {
        Some((lo, hi)) => (one(lo)?, one(hi)?),
        None => (one(s)?, one(s)?),
    };
    if hi < lo {
        return Err(format!("invalid range specified for port: {s}"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use runconfig::container::DeviceMapping;

    use super::*;
    use crate::commands::Subcmd;

    fn parse(args: &[&str]) -> Result<ContainerSpec, CliError> {
        let mut cmd = Subcmd::new("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container");
        declare(&mut cmd.flags);
        let rest = cmd.parse(args.iter().map(|s| s.to_string()).collect())?.unwrap_or_default();
        spec("create", &cmd.flags, &rest)
    }

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding { host_ip: ip.into(), host_port: port.into() }
    }

    #[test]
    fn flags_stop_at_the_image() {
        let s = parse(&["--name", "web", "-t", "-i", "busybox", "sleep", "-t", "1"]).unwrap();
        assert_eq!((s.name.as_str(), s.image.as_str()), ("web", "busybox"));
        assert_eq!(s.config.cmd, Some(vec!["sleep".into(), "-t".into(), "1".into()]));
        assert!(s.config.tty && s.config.open_stdin && s.config.attach_stdin && s.config.attach_stdout);
        let s = parse(&["busybox"]).unwrap();
        assert_eq!((s.config.cmd, s.config.entrypoint), (None, None));
        assert_eq!(s.host_config.network_mode, "bridge", "Docker 1.2's default");
        assert_eq!(parse(&["--entrypoint", "", "busybox"]).unwrap().config.entrypoint, Some(vec![String::new()]));
        assert_eq!(parse(&["--entrypoint=/bin/sh", "b"]).unwrap().config.entrypoint, Some(vec!["/bin/sh".into()]));
        assert_eq!(parse(&[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn env_and_label_lists() {
        let s = parse(&["-e", "X=1", "--env", "Y=a=b", "-l", "a=b", "--label=c", "-l", "d=", "busybox"]).unwrap();
        assert_eq!(s.config.env, Some(vec!["X=1".into(), "Y=a=b".into()]));
        let labels: Vec<_> = s.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(labels, ["a=b", "c=", "d="]);
        let e = parse(&["-e", "=1", "busybox"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("invalid value \"=1\" for flag -e: invalid environment variable: =1"), "{e}");
        assert!(parse(&["-l", "=v", "busybox"]).unwrap_err().to_string().contains("invalid label format"));
        assert_eq!(validate_env("PATH").unwrap(), format!("PATH={}", std::env::var("PATH").unwrap()));
        assert_eq!(validate_env("NO_SUCH_VARIABLE_HERE").unwrap(), "NO_SUCH_VARIABLE_HERE");
    }

    #[test]
    fn memory_units() {
        assert_eq!(ram_in_bytes("1024"), Ok(1024));
        assert_eq!(ram_in_bytes("4k"), Ok(4096));
        assert_eq!(ram_in_bytes("4kb"), Ok(4096));
        assert_eq!(ram_in_bytes("64m"), Ok(64 << 20));
        assert_eq!(ram_in_bytes("1G"), Ok(1 << 30));
        assert_eq!(ram_in_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(ram_in_bytes("1x"), Err("invalid size: '1x'".into()));
        assert!(ram_in_bytes("").is_err() && ram_in_bytes("m").is_err() && ram_in_bytes("-1m").is_err());
        assert_eq!(parse(&["-m", "64m", "busybox"]).unwrap().host_config.memory, 64 << 20);
        let e = parse(&["-m", "lots", "busybox"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().starts_with("docker create: invalid value \"lots\" for flag -m: invalid size"), "{e}");
    }

    #[test]
    fn port_specs() {
        assert_eq!(port_spec("80"), Ok(vec![("80/tcp".into(), binding("", ""))]));
        assert_eq!(port_spec("8080:80"), Ok(vec![("80/tcp".into(), binding("", "8080"))]));
        assert_eq!(port_spec("53:53/udp"), Ok(vec![("53/udp".into(), binding("", "53"))]));
        assert_eq!(port_spec("127.0.0.1:8080:80"), Ok(vec![("80/tcp".into(), binding("127.0.0.1", "8080"))]));
        assert_eq!(port_spec("127.0.0.1::80"), Ok(vec![("80/tcp".into(), binding("127.0.0.1", ""))]));
        assert_eq!(port_spec("[::1]:8080:80"), Ok(vec![("80/tcp".into(), binding("::1", "8080"))]));
        let range = port_spec("8000-8001:80-81").unwrap();
        assert_eq!(range, [("80/tcp".into(), binding("", "8000")), ("81/tcp".into(), binding("", "8001"))]);
        for bad in ["", "0", "99999", "80/xtp", "a:80", "1.2.3:80:80", "8000-8002:80-81", "81-80", "1:2:3:4"] {
            assert!(port_spec(bad).is_err(), "{bad}");
        }
        let s = parse(&["-p", "8080:80", "-p", "9090:80", "-P", "busybox"]).unwrap();
        assert!(s.host_config.publish_all_ports);
        assert_eq!(s.config.exposed_ports.unwrap().keys().collect::<Vec<_>>(), ["80/tcp"]);
        let bindings = s.host_config.port_bindings.unwrap();
        assert_eq!(bindings["80/tcp"], Some(vec![binding("", "8080"), binding("", "9090")]));
        assert!(parse(&["-p", "x", "busybox"]).unwrap_err().to_string().contains("for flag -p: invalid containerPort"));
    }

    #[test]
    fn host_config_flags() {
        let s = parse(&[
            "-v",
            "/data",
            "-v",
            "/h:/c:ro",
            "--restart",
            "on-failure:3",
            "--privileged",
            "--volumes-from",
            "other:ro",
            "--cap-add",
            "NET_ADMIN",
            "--cap-drop=MKNOD",
            "-c",
            "512",
            "--net",
            "host",
            "-w",
            "/tmp",
            "-u",
            "1:2",
            "-h",
            "box",
            "b",
        ])
        .unwrap();
        assert_eq!(s.host_config.binds, Some(vec!["/h:/c:ro".into()]));
        assert_eq!(s.config.volumes.as_ref().unwrap().keys().collect::<Vec<_>>(), ["/data"]);
        assert_eq!(s.host_config.volumes_from, Some(vec!["other:ro".into()]));
        assert_eq!(s.host_config.restart_policy, RestartPolicy { name: "on-failure".into(), maximum_retry_count: 3 });
        assert!(s.host_config.privileged && !s.host_config.auto_remove);
        assert!(parse(&["--rm", "--restart=no", "b"]).unwrap().host_config.auto_remove);
        for policy in ["always", "on-failure:3", "unless-stopped"] {
            let e = parse(&["--rm", "--restart", policy, "b"]).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("Conflicting options: --restart and --rm"), "{e}");
        }
        assert_eq!(s.host_config.cap_add, Some(vec!["NET_ADMIN".into()]));
        assert_eq!(s.host_config.cap_drop, Some(vec!["MKNOD".into()]));
        assert_eq!((s.host_config.cpu_shares, s.host_config.network_mode.as_str()), (512, "host"));
        assert_eq!((s.config.working_dir.as_str(), s.config.user.as_str()), ("/tmp", "1:2"));
        assert_eq!(s.config.hostname, "box");
        for bad in [&["-v", "data", "b"][..], &["-v", "/a:rel", "b"], &["--restart", "sometimes", "b"]] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        assert!(parse(&["--restart", "always:2", "b"]).is_err());
        assert!(parse(&["-w", "rel", "b"]).unwrap_err().to_string().contains("needs to be an absolute path"));
    }

    /// A file under the temp directory, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, content: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!("runflags-{name}-{}", std::process::id()));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn env_files_come_before_e() {
        let f = TempFile::new("env", "# comment\nA=1\n\n  B=two words \nPATH\nNO_SUCH_VARIABLE_HERE\nC=x=y\n#D=4\n");
        let s = parse(&["--env-file", f.path(), "-e", "A=override", "busybox"]).unwrap();
        let path = format!("PATH={}", std::env::var("PATH").unwrap());
        let want = ["A=1", "B=two words ", &path, "NO_SUCH_VARIABLE_HERE", "C=x=y", "A=override"];
        assert_eq!(s.config.env.unwrap(), want);

        let e = parse(&["--env-file", "/no/such/file", "busybox"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "docker create: open /no/such/file: no such file or directory. See 'docker create --help'."
        );
        let bad = TempFile::new("badenv", "A=1\nMY VAR=2\n");
        let e = parse(&["--env-file", bad.path(), "busybox"]).unwrap_err().to_string();
        assert!(e.contains("variable 'MY VAR' has white spaces"), "{e}");
        assert!(e.contains(&format!("({}, line 2)", bad.path())), "{e}");
    }

    #[test]
    fn resource_flags() {
        let s = parse(&["-m", "64m", "--memory-swap", "128m", "--cpuset", "0-1", "busybox"]).unwrap();
        assert_eq!((s.host_config.memory, s.host_config.memory_swap), (64 << 20, 128 << 20));
        assert_eq!(s.host_config.cpuset_cpus, "0-1");
        let s = parse(&["-m", "64m", "--memory-swap=-1", "--cpuset-cpus", "0", "busybox"]).unwrap();
        assert_eq!((s.host_config.memory_swap, s.host_config.cpuset_cpus.as_str()), (-1, "0"));
        let e = parse(&["--memory-swap", "lots", "busybox"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("invalid value \"lots\" for flag --memory-swap: invalid size"), "{e}");
    }

    #[test]
    fn dns_and_hosts() {
        let s = parse(&[
            "--dns",
            "10.0.0.2",
            "--dns=::1",
            "--dns-search",
            "example.test.",
            "--dns-search=.",
            "--add-host",
            "h:10.1.2.3",
            "--add-host=v6:fe80::1",
            "b",
        ])
        .unwrap();
        assert_eq!(s.host_config.dns, Some(vec!["10.0.0.2".into(), "::1".into()]));
        assert_eq!(s.host_config.dns_search, Some(vec!["example.test".into(), ".".into()]));
        assert_eq!(s.host_config.extra_hosts, Some(vec!["h:10.1.2.3".into(), "v6:fe80::1".into()]));
        for (args, text) in [
            (&["--dns", "ns1"][..], "invalid value \"ns1\" for flag --dns: ns1 is not an ip address"),
            (&["--dns-search", "123"], "for flag --dns-search: 123 is not a valid domain"),
            (&["--dns-search", "-a.b"], "-a.b is not a valid domain"),
            (&["--dns-search", "a..b"], "a..b is not a valid domain"),
            (&["--add-host", "h"], "for flag --add-host: bad format for add-host: \"h\""),
            (&["--add-host", "h:x"], "invalid IP address in add-host: \"x\""),
        ] {
            let e = parse(&[args, &["b"]].concat()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert!(e.to_string().contains(text), "{args:?}: {e}");
        }
    }

    #[test]
    fn expose_link_device_cidfile() {
        let s = parse(&[
            "--expose",
            "8080",
            "--expose=53/udp",
            "--expose",
            "7000-7001",
            "-p",
            "80",
            "--link",
            "db:database",
            "--link=cache",
            "--device",
            "/dev/null:/dev/xnull",
            "--device=/dev/sda:r",
            "--device",
            "/dev/fuse:/dev/fuse:rw",
            "--cidfile",
            "/tmp/cid",
            "b",
        ])
        .unwrap();
        let exposed: Vec<_> = s.config.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(exposed, ["53/udp", "7000/tcp", "7001/tcp", "80/tcp", "8080/tcp"]);
        assert_eq!(s.host_config.links, Some(vec!["db:database".into(), "cache".into()]));
        let d = |h: &str, c: &str, p: &str| DeviceMapping {
            path_on_host: h.into(),
            path_in_container: c.into(),
            cgroup_permissions: p.into(),
        };
        let want = vec![
            d("/dev/null", "/dev/xnull", "rwm"),
            d("/dev/sda", "/dev/sda", "r"),
            d("/dev/fuse", "/dev/fuse", "rw"),
        ];
        assert_eq!(s.host_config.devices, Some(want));
        assert_eq!(s.host_config.container_id_file, "/tmp/cid");
        assert!(s.warnings.is_empty());
        for (args, text) in [
            (&["--expose", "80:80"][..], "Invalid port format for --expose: 80:80"),
            (&["--expose", "http"], "invalid containerPort: http"),
            (&["--link", "a:b:c"], "bad format for links: a:b:c"),
            (&["--link", ":b"], "bad format for links: :b"),
            (&["--device", "dev/null"], "dev/null is not an absolute path"),
            (&["--device", "/dev/null:/x:rwz"], "invalid device mode: rwz"),
            (&["--device", "/a:/b:r:w"], "Invalid device specification: /a:/b:r:w"),
            (&["--lxc-conf", "nokey"], "Unable to parse key/value option: nokey"),
        ] {
            let e = parse(&[args, &["b"]].concat()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert!(e.to_string().contains(text), "{args:?}: {e}");
        }
        let e = parse(&["--net", "host", "--link", "db:db", "b"]).unwrap_err();
        assert!(e.to_string().contains("Conflicting options: --net=host can't be used with links"), "{e}");
        let s = parse(&["--lxc-conf", "lxc.utsname=x", "b"]).unwrap();
        assert_eq!(s.warnings, ["--lxc-conf is ignored: this daemon has only the native exec driver"]);
    }

    #[test]
    fn help_lists_every_flag_sorted_with_defaults() {
        let mut cmd = Subcmd::new("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container");
        declare(&mut cmd.flags);
        let usage = cmd.flags.usage();
        let names: Vec<&str> = usage.lines().filter_map(|l| l.trim_start().split('=').next()).collect();
        for want in [
            "--add-host",
            "--cidfile",
            "--cpuset, --cpuset-cpus",
            "--device",
            "--dns",
            "--dns-search",
            "--env-file",
            "--expose",
            "--link",
            "--lxc-conf",
            "--memory-swap",
        ] {
            assert!(names.contains(&want), "{want} missing from:\n{usage}");
        }
        assert!(usage.contains("  --cidfile=\"\" "), "{usage}");
        assert!(usage.contains("  --dns=[] "), "{usage}");
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("--dns") < pos("--dns-search") && pos("--dns-search") < pos("-e, --env"));
        assert!(pos("-e, --env") < pos("--env-file") && pos("--env-file") < pos("--expose"));
    }

    #[test]
    fn the_body_puts_host_config_beside_the_config() {
        let body = parse(&["-l", "a=b", "busybox", "true"]).unwrap().body().unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Image"], "busybox");
        assert_eq!(v["Cmd"], serde_json::json!(["true"]));
        assert_eq!(v["Labels"]["a"], "b");
        assert_eq!(v["HostConfig"]["RestartPolicy"]["Name"], "no");
        let parsed = runconfig::container::CreateRequest::parse(std::str::from_utf8(&body).unwrap()).unwrap();
        assert_eq!(parsed.config.labels["a"], "b");
    }
}
