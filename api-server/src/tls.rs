//! TLS for `tcp://` listeners with rustls: `--tls` serves with the daemon's
//! certificate; `--tlsverify` also requires client certificates signed by
//! `--tlscacert` (Docker 1.2's `ListenAndServe` TLS branch).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::ServeError;

/// Certificate paths for a TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The server certificate chain (PEM).
    pub cert: PathBuf,
    /// The server key (PEM).
    pub key: PathBuf,
    /// With `--tlsverify`: the CA that client certificates must chain to.
    pub verify_clients_with: Option<PathBuf>,
}

fn read_certs(path: &Path) -> std::io::Result<Vec<CertificateDer<'static>>> {
    let mut reader = BufReader::new(File::open(path)?);
    let certs = rustls_pemfile::certs(&mut reader).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "no PEM certificate found"));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> std::io::Result<PrivateKeyDer<'static>> {
    let mut reader = BufReader::new(File::open(path)?);
    rustls_pemfile::private_key(&mut reader)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no PEM private key found"))
}

/// The rustls configuration for `settings`, with the error texts of 1.2.
pub fn server_config(settings: &TlsSettings) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let pair_error = |e: String| {
        ServeError::Tls(format!(
            "Couldn't load X509 key pair ({}, {}): {e}. Key encrypted?",
            settings.cert.display(),
            settings.key.display()
        ))
    };
    let certs = read_certs(&settings.cert).map_err(|e| pair_error(e.to_string()))?;
    let key = read_key(&settings.key).map_err(|e| pair_error(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let builder = match &settings.verify_clients_with {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let ca_error = |e: String| ServeError::Tls(format!("Couldn't read CA certificate: {e}"));
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca).map_err(|e| ca_error(format!("{}: {e}", ca.display())))? {
                roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ca_error(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| pair_error(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
