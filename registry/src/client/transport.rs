//! HTTP transport: reqwest on rustls (ring provider, web PKI roots plus the
//! system's), redirects followed with credentials dropped on cross-host hops
//! (reqwest's policy: Docker Hub hands blobs out from a CDN), and which
//! registries may be reached without verified TLS.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::RegistryError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// An idle body is a dead connection; a slow but moving one is fine.
const READ_TIMEOUT: Duration = Duration::from_secs(120);
const MAX_REDIRECTS: usize = 10;

/// `docker/<version> (rust)`.
pub(crate) fn default_user_agent() -> String {
    format!("docker/{} (rust)", env!("CARGO_PKG_VERSION"))
}

/// The two HTTP clients a service needs, built on first use: one verifying
/// TLS, one for insecure registries that accepts any certificate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clients {
    verified: Arc<OnceLock<reqwest::Client>>,
    unverified: Arc<OnceLock<reqwest::Client>>,
}

impl Clients {
    pub(crate) fn get(&self, verify_tls: bool, user_agent: &str) -> Result<reqwest::Client, RegistryError> {
        let cell = if verify_tls { &self.verified } else { &self.unverified };
        if let Some(client) = cell.get() {
            return Ok(client.clone());
        }
        let client = build(verify_tls, user_agent)?;
        Ok(cell.get_or_init(|| client).clone())
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(verify_tls: bool, user_agent: &str) -> Result<reqwest::Client, RegistryError> {
    let tls_error =
        |e: &dyn std::fmt::Display| RegistryError::Transport { url: String::new(), message: format!("TLS setup: {e}") };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?;
    let tls = if verify_tls {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // Missing or unreadable system roots leave the web PKI set.
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let algorithms = provider().signature_verification_algorithms;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms))).with_no_client_auth()
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .user_agent(user_agent)
        .build()
        .map_err(|e| tls_error(&e))
}

/// Docker's `InsecureSkipVerify` for `--insecure-registry` hosts: any
/// certificate is accepted, handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `host:port` → `host`, `[::1]:5000` → `::1`.
pub(crate) fn host_only(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// Whether `host_port` may be reached over plain HTTP or unverified TLS:
/// loopback hosts always, as Docker does, and the `--insecure-registry`
/// entries (`host[:port]` or CIDRs; a CIDR also matches a name resolving
/// into it).
pub(crate) async fn is_insecure(host_port: &str, insecure: &[String]) -> bool {
    let host = host_only(host_port);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = host.parse::<IpAddr>().ok();
    if literal.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    if insecure.iter().any(|e| e == host_port || e == host) {
        return true;
    }
    let cidrs: Vec<(IpAddr, u8)> = insecure.iter().filter_map(|e| parse_cidr(e)).collect();
    if cidrs.is_empty() {
        return false;
    }
    let addrs: Vec<IpAddr> = match literal {
        Some(ip) => vec![ip],
        None => match tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, 0))).await {
            Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
            _ => Vec::new(),
        },
    };
    addrs.iter().any(|ip| ip.is_loopback() || cidrs.iter().any(|(net, bits)| in_cidr(*ip, *net, *bits)))
}

fn parse_cidr(entry: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = entry.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_only("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(host_only("[::1]:5000"), "::1");
        assert_eq!(host_only("[::1]"), "::1");
        assert_eq!(host_only("example.com"), "example.com");
    }

    #[tokio::test]
    async fn insecure_rules() {
        assert!(is_insecure("127.0.0.1:5000", &[]).await);
        assert!(is_insecure("127.9.9.9", &[]).await);
        assert!(is_insecure("[::1]:5000", &[]).await);
        assert!(is_insecure("localhost:5000", &[]).await);
        assert!(!is_insecure("10.1.2.3:5000", &[]).await);
        assert!(is_insecure("10.1.2.3:5000", &["10.0.0.0/8".to_string()]).await);
        assert!(!is_insecure("11.1.2.3:5000", &["10.0.0.0/8".to_string()]).await);
        assert!(is_insecure("reg.example:5000", &["reg.example:5000".to_string()]).await);
        assert!(is_insecure("reg.example:5000", &["reg.example".to_string()]).await);
        assert!(!is_insecure("reg.example:5000", &["reg.example:6000".to_string()]).await);
        assert!(is_insecure("[fd00::1]:5000", &["fd00::/8".to_string()]).await);
        assert!(!is_insecure("[fe00::1]:5000", &["fd00::/8".to_string()]).await);
        assert!(is_insecure("1.2.3.4", &["0.0.0.0/0".to_string()]).await);
    }
}
