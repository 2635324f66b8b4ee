//! Client-side TLS (Docker 1.2's client TLS set-up): `--tls` encrypts
//! without checking the daemon's certificate; `--tlsverify` checks it
//! against `--tlscacert`. A client certificate is presented when both
//! `--tlscert` and `--tlskey` exist.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The TLS flags of the client.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// `--tlsverify`.
    pub verify: bool,
    /// `--tlscacert`.
    pub ca: String,
    /// `--tlscert`.
    pub cert: String,
    /// `--tlskey`.
    pub key: String,
}

fn certs(path: &Path) -> std::io::Result<Vec<CertificateDer<'static>>> {
    rustls_pemfile::certs(&mut BufReader::new(File::open(path)?)).collect()
}

fn key(path: &Path) -> std::io::Result<PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut BufReader::new(File::open(path)?))?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no private key found"))
}

/// The rustls client configuration for these flags.
pub fn client_config(tls: &ClientTls) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if tls.verify {
        let mut roots = RootCertStore::empty();
        let ca = certs(Path::new(&tls.ca)).map_err(|e| format!("Couldn't read ca cert {}: {e}", tls.ca))?;
        for cert in ca {
            roots.add(cert).map_err(|e| format!("Couldn't read ca cert {}: {e}", tls.ca))?;
        }
        builder.with_root_certificates(roots)
    } else {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    };
    let config = if Path::new(&tls.cert).exists() && Path::new(&tls.key).exists() {
        let pair = certs(Path::new(&tls.cert)).and_then(|c| Ok((c, key(Path::new(&tls.key))?)));
        let (chain, key) = pair.map_err(|e| format!("Couldn't load X509 key pair: {e}. Key encrypted?"))?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("Couldn't load X509 key pair: {e}. Key encrypted?"))?
    } else {
        builder.with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// `--tls` without `--tlsverify`: the connection is encrypted but the
/// daemon is not authenticated, as in Docker (`InsecureSkipVerify`).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
