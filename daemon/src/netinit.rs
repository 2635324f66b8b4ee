//! The network driver's set-up at daemon start (Docker 1.2's
//! `NewDaemonFromDirectory` running `init_networkdriver`): the daemon's
//! network flags become the job's env; with `-b none` nothing runs and the
//! bridge jobs stay unregistered.

use engine::Engine;
use engine::names::networkdriver::{self as names, env};

use crate::DaemonError;
use crate::config::Config;

/// The bridge used when `-b` is not given.
const DEFAULT_BRIDGE: &str = "docker0";

/// Runs `init_networkdriver` (blocking: call from a blocking thread, as
/// `Daemon::new` runs, inside a tokio runtime). Its error text becomes the
/// daemon's one-line start-up error.
///
/// An engine without the job (one the daemon's own tests build, without
/// the builtins) has no network driver to set up: that is logged and
/// skipped rather than failing every such test.
pub fn init_network(config: &Config, eng: &Engine) -> Result<(), DaemonError> {
    if !eng.has_handler(names::INIT) {
        tracing::warn!("no {} job registered: container networking is not set up", names::INIT);
        return Ok(());
    }
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|e| DaemonError::Network(format!("{}: no runtime to run it on: {e}", names::INIT)))?;
    let job = eng.job(names::INIT, Vec::<String>::new());
    for (key, value) in init_env(config) {
        job.setenv(key, value);
    }
    handle.block_on(job.run()).map_err(|e| DaemonError::Network(e.message))
}

/// The job's env from the daemon's flags (Docker 1.2's keys).
fn init_env(config: &Config) -> Vec<(&'static str, String)> {
    let bridge = if config.bridge_iface.is_empty() { DEFAULT_BRIDGE } else { config.bridge_iface.as_str() };
    let cidr = |c: Option<crate::config::Cidr>| c.map(|c| c.to_string()).unwrap_or_default();
    vec![
        (env::BRIDGE_IFACE, bridge.to_string()),
        (env::BRIDGE_IP, cidr(config.bridge_ip)),
        (env::FIXED_CIDR, cidr(config.fixed_cidr)),
        (env::ENABLE_IPTABLES, config.enable_iptables.to_string()),
        (env::ICC, config.inter_container_communication.to_string()),
        (env::ENABLE_IP_FORWARD, config.enable_ip_forward.to_string()),
        (env::DEFAULT_BINDING_IP, config.default_ip.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_become_the_jobs_env() {
        let c = Config {
            bridge_ip: Some("10.1.0.1/16".parse().unwrap()),
            fixed_cidr: Some("10.1.2.0/24".parse().unwrap()),
            inter_container_communication: false,
            default_ip: "127.0.0.1".parse().unwrap(),
            ..Config::default()
        };
        let got: Vec<(&str, String)> = init_env(&c);
        let want = [
            ("BridgeIface", "docker0"),
            ("BridgeIP", "10.1.0.1/16"),
            ("FixedCIDR", "10.1.2.0/24"),
            ("EnableIptables", "true"),
            ("InterContainerCommunication", "false"),
            ("EnableIpForward", "true"),
            ("DefaultBindingIP", "127.0.0.1"),
        ];
        assert_eq!(got, want.map(|(k, v)| (k, v.to_string())));
        let c = Config { bridge_iface: "br1".into(), ..Config::default() };
        assert_eq!(
            init_env(&c)[..3],
            [(env::BRIDGE_IFACE, "br1".into()), (env::BRIDGE_IP, String::new()), (env::FIXED_CIDR, String::new())]
        );
    }

    #[test]
    fn a_failed_job_is_the_daemons_error() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let eng = Engine::new();
        eng.set_logging(false);
        eng.register(names::INIT, |job: engine::Job| async move {
            assert_eq!(job.getenv(env::BRIDGE_IP), "10.9.0.1/16");
            job.errorf("bridge ip (10.9.0.1) does not match existing bridge configuration 10.8.0.1/16").await
        })
        .unwrap();
        let c = Config { bridge_ip: Some("10.9.0.1/16".parse().unwrap()), ..Config::default() };
        let err = rt.block_on(async { tokio::task::spawn_blocking(move || init_network(&c, &eng)).await.unwrap() });
        assert_eq!(
            err.unwrap_err().to_string(),
            "bridge ip (10.9.0.1) does not match existing bridge configuration 10.8.0.1/16"
        );
        assert!(init_network(&Config::default(), &Engine::new()).is_ok(), "no driver installed: nothing to do");
    }
}
