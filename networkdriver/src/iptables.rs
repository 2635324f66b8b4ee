//! The bridge driver's iptables rules (Docker 1.2's `pkg/iptables` and
//! `setupIPTables`): NAT for the bridge subnet, the FORWARD rules (with
//! `--icc=false` dropping traffic between containers), the `DOCKER` chains
//! that published ports and links add their rules to. Each rule is checked
//! with `-C` before it is added, so a restart adds nothing twice.
//!
//! The `iptables` program is run (with `-w`, waiting for the xtables lock),
//! as Docker did: it speaks to whichever back end (nf_tables or legacy) the
//! host uses. Blocking; callers run it off the async workers.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::process::Command;

use crate::ipallocator::Subnet;
use crate::portallocator::Proto;

/// The chain published ports and links live in, in `nat` and `filter`.
pub const DOCKER_CHAIN: &str = "DOCKER";

/// An iptables command that failed.
#[derive(Debug, thiserror::Error)]
#[error("iptables failed: iptables {args}: {output}")]
pub struct IptablesError {
    /// The arguments, space-separated.
    pub args: String,
    /// What it printed (or why it could not run).
    pub output: String,
}

/// Whether a rule is being added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `-A` (or `-I` where order matters), after a `-C`.
    Add,
    /// `-D`, when the rule exists.
    Delete,
}

/// How to run iptables.
#[derive(Debug, Clone)]
pub struct Iptables {
    command: Vec<OsString>,
}

impl Default for Iptables {
    fn default() -> Self {
        Iptables::new()
    }
}

impl Iptables {
    /// The host's `iptables`.
    pub fn new() -> Iptables {
        Iptables { command: vec!["iptables".into()] }
    }

    /// `iptables` run through `prefix` (`nsenter --net=… `, so tests act in
    /// a network namespace of their own).
    pub fn with_prefix(prefix: Vec<OsString>) -> Iptables {
        let mut command = prefix;
        command.push("iptables".into());
        Iptables { command }
    }

    /// Runs `iptables -w ARGS`; its output.
    pub fn raw(&self, args: &[&str]) -> Result<String, IptablesError> {
        let err = |output: String| IptablesError { args: args.join(" "), output };
        let out = Command::new(&self.command[0]).args(&self.command[1..]).arg("-w").args(args).output().map_err(
            |e| match e.kind() {
                // Docker 1.2's `Iptables not found`, with what to do about it.
                std::io::ErrorKind::NotFound => {
                    err("iptables not found: install it, or start the daemon with --iptables=false".into())
                }
                _ => err(e.to_string()),
            },
        )?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() { Ok(text) } else { Err(err(text.trim().to_string())) }
    }

    /// Whether `rule` is in `chain` of `table`.
    pub fn exists(&self, table: &str, chain: &str, rule: &[&str]) -> bool {
        let mut args = vec!["-t", table, "-C", chain];
        args.extend_from_slice(rule);
        self.raw(&args).is_ok()
    }

    /// Adds (`-I` at the top when `first`, else `-A`) or deletes `rule`,
    /// unless that is already so.
    pub fn rule(
        &self,
        action: Action,
        table: &str,
        chain: &str,
        rule: &[&str],
        first: bool,
    ) -> Result<(), IptablesError> {
        let present = self.exists(table, chain, rule);
        let op = match (action, present) {
            (Action::Add, false) if first => "-I",
            (Action::Add, false) => "-A",
            (Action::Delete, true) => "-D",
            _ => return Ok(()),
        };
        let mut args = vec!["-t", table, op, chain];
        args.extend_from_slice(rule);
        self.raw(&args).map(drop)
    }

    /// NAT for the bridge's subnet and the FORWARD rules of Docker 1.2:
    /// traffic between containers accepted (`icc`) or dropped, from the
    /// bridge out accepted, replies back in accepted.
    pub fn setup_bridge(&self, bridge: &str, subnet: Subnet, icc: bool) -> Result<(), IptablesError> {
        let network = format!("{}/{}", subnet.network(), subnet.prefix);
        self.rule(Action::Add, "nat", "POSTROUTING", &["-s", &network, "!", "-o", bridge, "-j", "MASQUERADE"], true)?;
        let between = |verdict| ["-i", bridge, "-o", bridge, "-j", verdict];
        let (keep, remove) = if icc { ("ACCEPT", "DROP") } else { ("DROP", "ACCEPT") };
        self.rule(Action::Delete, "filter", "FORWARD", &between(remove), false)?;
        self.rule(Action::Add, "filter", "FORWARD", &between(keep), true)?;
        self.rule(Action::Add, "filter", "FORWARD", &["-i", bridge, "!", "-o", bridge, "-j", "ACCEPT"], true)?;
        let replies = ["-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"];
        self.rule(Action::Add, "filter", "FORWARD", &replies, true)
    }

    /// Removes the `DOCKER` chains (and the jumps to them) and makes them
    /// anew, empty: a starting daemon re-adds the rules of what runs.
    pub fn create_docker_chains(&self, bridge: &str) -> Result<(), IptablesError> {
        self.remove_docker_chains(bridge);
        self.raw(&["-t", "nat", "-N", DOCKER_CHAIN])?;
        self.rule(Action::Add, "nat", "PREROUTING", &Self::prerouting_jump(), false)?;
        self.rule(Action::Add, "nat", "OUTPUT", &Self::output_jump(), false)?;
        self.raw(&["-t", "filter", "-N", DOCKER_CHAIN])?;
        self.rule(Action::Add, "filter", "FORWARD", &["-o", bridge, "-j", DOCKER_CHAIN], true)
    }

    /// Removes the `DOCKER` chains and the jumps to them; what is not there
    /// is not an error.
    pub fn remove_docker_chains(&self, bridge: &str) {
        let _ = self.rule(Action::Delete, "nat", "PREROUTING", &Self::prerouting_jump(), false);
        let _ = self.rule(Action::Delete, "nat", "OUTPUT", &Self::output_jump(), false);
        let _ = self.rule(Action::Delete, "filter", "FORWARD", &["-o", bridge, "-j", DOCKER_CHAIN], false);
        for table in ["nat", "filter"] {
            let _ = self.raw(&["-t", table, "-F", DOCKER_CHAIN]);
            let _ = self.raw(&["-t", table, "-X", DOCKER_CHAIN]);
        }
    }

    /// Empties the `DOCKER` chains (published ports, link rules), keeping
    /// the chains and the jumps: what a daemon's shutdown leaves.
    pub fn flush_docker_chains(&self) {
        for table in ["nat", "filter"] {
            if let Err(e) = self.raw(&["-t", table, "-F", DOCKER_CHAIN]) {
                tracing::warn!(table, error = %e, "could not empty the DOCKER chain");
            }
        }
    }

    fn prerouting_jump() -> [&'static str; 6] {
        ["-m", "addrtype", "--dst-type", "LOCAL", "-j", DOCKER_CHAIN]
    }

    fn output_jump() -> [&'static str; 9] {
        ["-m", "addrtype", "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8", "-j", DOCKER_CHAIN]
    }

    /// A published port: DNAT from `host_ip:host_port` (any local address
    /// when unspecified) to the container, and the filter rule letting it
    /// through to the bridge.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        action: Action,
        bridge: &str,
        proto: Proto,
        host_ip: Ipv4Addr,
        host_port: u16,
        container_ip: Ipv4Addr,
        container_port: u16,
    ) -> Result<(), IptablesError> {
        let (proto, hport, cport) = (proto.to_string(), host_port.to_string(), container_port.to_string());
        let to = format!("{container_ip}:{container_port}");
        let cip = container_ip.to_string();
        let dest = if host_ip.is_unspecified() { "0.0.0.0/0".to_string() } else { host_ip.to_string() };
        let dnat =
            ["-p", &proto, "-d", &dest, "--dport", &hport, "!", "-i", bridge, "-j", "DNAT", "--to-destination", &to];
        self.rule(action, "nat", DOCKER_CHAIN, &dnat, false)?;
        let accept = ["-d", &cip, "!", "-i", bridge, "-o", bridge, "-p", &proto, "--dport", &cport, "-j", "ACCEPT"];
        self.rule(action, "filter", DOCKER_CHAIN, &accept, false)
    }

    /// With `--icc=false`, the two rules letting `parent` reach `child` on
    /// `port` and the replies come back (Docker 1.2's link rules). They go
    /// in the filter `DOCKER` chain, as today's dockerd puts them, not in
    /// `FORWARD` as 1.2 did: the jump to `DOCKER` comes before the icc
    /// `DROP`, and the chain is emptied at every start and shutdown, so a
    /// daemon that stopped without running `link -D` leaves none behind.
    pub fn link(
        &self,
        action: Action,
        bridge: &str,
        proto: Proto,
        parent: Ipv4Addr,
        child: Ipv4Addr,
        port: u16,
    ) -> Result<(), IptablesError> {
        let (proto, port, parent, child) = (proto.to_string(), port.to_string(), parent.to_string(), child.to_string());
        let out =
            ["-i", bridge, "-o", bridge, "-p", &proto, "-s", &parent, "--dport", &port, "-d", &child, "-j", "ACCEPT"];
        self.rule(action, "filter", DOCKER_CHAIN, &out, true)?;
        let back =
            ["-i", bridge, "-o", bridge, "-p", &proto, "-s", &child, "--sport", &port, "-d", &parent, "-j", "ACCEPT"];
        self.rule(action, "filter", DOCKER_CHAIN, &back, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Stdio};

    /// A network namespace of the test's own (a sleeping `unshare --net`),
    /// so no rule touches the host; removed with the process.
    struct Netns(Child);

    impl Netns {
        fn new() -> Option<Netns> {
            if !nix_root() {
                assert!(std::env::var("CI").is_err(), "iptables tests need root under CI");
                eprintln!("SKIPPED: iptables tests need root");
                return None;
            }
            let netns = Netns(
                Command::new("unshare")
                    .args(["--net", "sleep", "600"])
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("unshare (util-linux)"),
            );
            // The namespace exists once unshare has unshared; the process
            // is polled for it (killed by Drop if that never happens).
            let ns = format!("/proc/{}/ns/net", netns.0.id());
            let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
            for _ in 0..100_000 {
                if std::fs::read_link(&ns).is_ok_and(|n| n != ours) {
                    return Some(netns);
                }
                std::thread::yield_now();
            }
            panic!("unshare --net did not make a namespace");
        }

        fn iptables(&self) -> Iptables {
            Iptables::with_prefix(vec!["nsenter".into(), format!("--net=/proc/{}/ns/net", self.0.id()).into()])
        }

        fn save(&self) -> String {
            let out = Command::new("nsenter")
                .arg(format!("--net=/proc/{}/ns/net", self.0.id()))
                .arg("iptables-save")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with('-') || l.starts_with(':'))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn nix_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
            .unwrap_or(false)
    }

    #[test]
    fn a_missing_iptables_says_what_to_do() {
        let ipt = Iptables { command: vec!["/nonexistent/iptables".into()] };
        let e = ipt.raw(&["-t", "nat", "-L"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "iptables failed: iptables -t nat -L: iptables not found: install it, or start the daemon with --iptables=false"
        );
    }

    #[test]
    fn bridge_rules_chains_ports_and_links_add_once_and_go() {
        let Some(ns) = Netns::new() else { return };
        let ipt = ns.iptables();
        let subnet: Subnet = "172.30.42.1/16".parse().unwrap();
        let empty = ns.save();
        for _ in 0..2 {
            ipt.setup_bridge("tbr0", subnet, true).unwrap();
        }
        let rules = ns.save();
        assert!(rules.contains("-A POSTROUTING -s 172.30.0.0/16 ! -o tbr0 -j MASQUERADE"), "{rules}");
        assert!(rules.contains("-A FORWARD -i tbr0 -o tbr0 -j ACCEPT"), "{rules}");
        assert_eq!(rules.matches("MASQUERADE").count(), 1, "a second setup adds nothing: {rules}");
        ipt.setup_bridge("tbr0", subnet, false).unwrap();
        let rules = ns.save();
        assert!(
            rules.contains("-A FORWARD -i tbr0 -o tbr0 -j DROP")
                && !rules.contains("-o tbr0 -j ACCEPT\n-A FORWARD -i tbr0 -o tbr0 -j ACCEPT"),
            "{rules}"
        );

        ipt.create_docker_chains("tbr0").unwrap();
        let c: Ipv4Addr = "172.30.0.2".parse().unwrap();
        ipt.forward(Action::Add, "tbr0", Proto::Tcp, Ipv4Addr::LOCALHOST, 49153, c, 80).unwrap();
        ipt.link(Action::Add, "tbr0", Proto::Tcp, "172.30.0.3".parse().unwrap(), c, 80).unwrap();
        let rules = ns.save();
        for want in [
            ":DOCKER - [0:0]",
            "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
            "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
            "-A DOCKER -d 127.0.0.1/32 ! -i tbr0 -p tcp -m tcp --dport 49153 -j DNAT --to-destination 172.30.0.2:80",
            "-A DOCKER -d 172.30.0.2/32 ! -i tbr0 -o tbr0 -p tcp -m tcp --dport 80 -j ACCEPT",
            "-A DOCKER -s 172.30.0.3/32 -d 172.30.0.2/32 -i tbr0 -o tbr0 -p tcp -m tcp --dport 80 -j ACCEPT",
        ] {
            assert!(rules.contains(want), "missing {want:?} in:\n{rules}");
        }
        // A restarted daemon starts from empty DOCKER chains.
        ipt.create_docker_chains("tbr0").unwrap();
        let rules = ns.save();
        assert!(!rules.contains("DNAT") && !rules.contains("172.30.0.3"), "the chains were recreated empty: {rules}");
        // So does a daemon's shutdown leave them.
        ipt.link(Action::Add, "tbr0", Proto::Tcp, "172.30.0.3".parse().unwrap(), c, 80).unwrap();
        ipt.flush_docker_chains();
        assert!(!ns.save().contains("172.30.0.3"), "flushed");
        ipt.forward(Action::Add, "tbr0", Proto::Udp, Ipv4Addr::UNSPECIFIED, 5353, c, 53).unwrap();
        ipt.forward(Action::Delete, "tbr0", Proto::Udp, Ipv4Addr::UNSPECIFIED, 5353, c, 53).unwrap();
        ipt.link(Action::Delete, "tbr0", Proto::Tcp, "172.30.0.3".parse().unwrap(), c, 80).unwrap();
        assert!(!ns.save().contains("172.30.0.2"), "deleted rules are gone");
        ipt.remove_docker_chains("tbr0");
        let rules = ns.save();
        assert!(!rules.contains("DOCKER"), "{rules}");
        assert_ne!(rules, empty, "the bridge rules stay until the bridge goes");
        let err = ipt.raw(&["-t", "nat", "-X", "NOSUCH"]).unwrap_err().to_string();
        assert!(err.starts_with("iptables failed: iptables -t nat -X NOSUCH:"), "{err}");
    }
}
