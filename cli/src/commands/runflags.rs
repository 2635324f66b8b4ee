//! The container flags `docker create` (and later `docker run`) share:
//! their declaration, their validators, and the translation of a parsed
//! command line into the create body (`runconfig.Parse` of Docker 1.2,
//! with the spellings today's CLI accepts).
//!
//! Values are checked while flags are parsed (through the flag set's
//! validators), so a bad `-m 1x` or `-p 99999` is a usage error worded like
//! every other flag error: `invalid value "1x" for flag -m: invalid size:
//! '1x'`, exit status 2. Only the common flags exist; the rest of today's
//! long list is not declared and is refused as undefined.

use std::collections::BTreeMap;

use runconfig::container::{Config, HostConfig, PortBinding, RestartPolicy};
use serde_json::Value;

use super::args::{Count, check};
use crate::client::CliError;
use crate::flags::FlagSet;

/// What a create request needs: the `?name=`, the image as typed, and the
/// body's two halves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub config: Config,
    pub host_config: HostConfig,
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
    flags.string(&["-net"], "default", "Connect a container to a network");
    flags.string(&["-restart"], "no", "Restart policy to apply when a container exits");
    flags.list(&["v", "-volume"], "Bind mount a volume (e.g., from the host: -v /host:/container)");
    flags.list(&["-volumes-from"], "Mount volumes from the specified container(s)");
    flags.list(&["p", "-publish"], "Publish a container's port(s) to the host (format: [ip:][hostPort:]containerPort)");
    flags.bool(&["P", "-publish-all"], false, "Publish all exposed ports to random ports");
    flags.bool(&["-privileged"], false, "Give extended privileges to this container");
    flags.list(&["-cap-add"], "Add Linux capabilities");
    flags.list(&["-cap-drop"], "Drop Linux capabilities");
    flags.bool(&["-rm"], false, "Automatically remove the container when it exits");
    flags.validator("env", validate_env);
    flags.validator("label", validate_label);
    flags.validator("workdir", validate_workdir);
    flags.validator("memory", |s| ram_in_bytes(s).map(|n| n.to_string()));
    flags.validator("restart", |s| restart_policy(s).map(|_| s.to_string()));
    flags.validator("volume", |s| volume(s).map(|_| s.to_string()));
    flags.validator("publish", |s| port_spec(s).map(|_| s.to_string()));
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
    let env = flags.get_list("env");
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

    let memory = match flags.get_string("memory") {
        m if m.is_empty() => 0,
        m => m.parse().map_err(|e| usage(format!("invalid memory value {m}: {e}")))?,
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
    let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let host_config = HostConfig {
        binds: non_empty(binds),
        volumes_from: non_empty(flags.get_list("volumes-from")),
        network_mode: flags.get_string("net"),
        port_bindings: Some(bindings),
        restart_policy: restart_policy(&flags.get_string("restart")).map_err(usage)?,
        auto_remove: flags.get_bool("rm"),
        cap_add: non_empty(flags.get_list("cap-add")),
        cap_drop: non_empty(flags.get_list("cap-drop")),
        privileged: flags.get_bool("privileged"),
        publish_all_ports: flags.get_bool("publish-all"),
        cpu_shares: flags.get_int("cpu-shares"),
        memory,
        ..HostConfig::default()
    };
    Ok(ContainerSpec { name: flags.get_string("name"), image, config, host_config })
}

/// `opts.ValidateEnv`: `KEY=value` as is; a bare `KEY` takes the client's
/// own value when it has one.
fn validate_env(e: &str) -> Result<String, String> {
    match e.split_once('=') {
        Some(("", _)) => Err(format!("invalid environment variable: {e}")),
        Some(_) => Ok(e.to_string()),
        None if e.is_empty() => Err(format!("invalid environment variable: {e}")),
        None => Ok(std::env::var(e).map_or_else(|_| e.to_string(), |v| format!("{e}={v}"))),
    }
}

/// A label is `key=value`, or a bare `key` with an empty value.
fn validate_label(l: &str) -> Result<String, String> {
    match l.split_once('=').map_or(l, |(k, _)| k) {
        "" => Err(format!("invalid label format: {l:?} (expected key=value)")),
        _ => Ok(l.to_string()),
    }
}

fn validate_workdir(w: &str) -> Result<String, String> {
    if w.starts_with('/') {
        Ok(w.to_string())
    } else {
        Err(format!("the working directory '{w}' is invalid, it needs to be an absolute path"))
    }
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
        assert_eq!(s.host_config.network_mode, "default");
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
            "--rm",
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
        assert!(s.host_config.privileged && s.host_config.auto_remove);
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
