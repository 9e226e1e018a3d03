//! The local certificate authority of the proxy: made on first use in
//! `--ca-dir` (`ca.pem`, and `ca-key.pem` readable only by its owner),
//! read back on later runs; one leaf certificate per intercepted host,
//! signed by it, kept in memory.

use anyhow::{anyhow, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The CA's subject: the same on every run, so leaves made from the key
/// on disk chain to the `ca.pem` the user trusts.
const CA_NAME: &str = "iamref record proxy CA (local, made on this machine)";

/// At most this many hosts' certificates are kept (a client naming
/// endless hosts cannot grow memory without bound).
const MAX_HOSTS: usize = 4096;

pub struct Ca {
    pub cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every leaf (its public half is in each certificate).
    leaf_key: KeyPair,
    configs: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "iamref");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    p
}

/// Write `bytes` to `path` atomically: mode 0600 for the key, 0644 for
/// the certificate ([`iamref_dataset::atomic`]).
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use iamref_dataset::atomic::Mode;
    let mode = if private { Mode::Private } else { Mode::Public };
    iamref_dataset::atomic::write(path, bytes, mode)
        .with_context(|| format!("writing {}", path.display()))
}

impl Ca {
    /// Read the CA in `dir`, or make it there (the folder too, mode 0700).
    pub fn load_or_create(dir: &Path) -> Result<Ca> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca-key.pem");
        let key = if key_path.exists() && cert_path.exists() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&key_path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(anyhow!(
                        "{}: the CA key is readable by others (mode {:o}); chmod 600 it or remove the folder to make a new CA",
                        key_path.display(),
                        mode & 0o777
                    ));
                }
            }
            let pem = std::fs::read_to_string(&key_path)
                .with_context(|| format!("reading {}", key_path.display()))?;
            KeyPair::from_pem(&pem)
                .map_err(|e| anyhow!("{}: not a private key in PEM ({e})", key_path.display()))?
        } else {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the CA folder {}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("{}", dir.display()))?;
            }
            let key = KeyPair::generate().map_err(|e| anyhow!("generating the CA key: {e}"))?;
            let cert = ca_params()
                .self_signed(&key)
                .map_err(|e| anyhow!("making the CA certificate: {e}"))?;
            // The key first: a ca.pem without its key is never left behind.
            write_atomic(&key_path, key.serialize_pem().as_bytes(), true)?;
            write_atomic(&cert_path, cert.pem().as_bytes(), false)?;
            key
        };
        let leaf_key = KeyPair::generate().map_err(|e| anyhow!("generating a leaf key: {e}"))?;
        Ok(Ca {
            cert_path,
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// The TLS server configuration presenting a certificate for `host`.
    pub fn server_config(&self, host: &str) -> Result<Arc<rustls::ServerConfig>> {
        let host = host.to_ascii_lowercase();
        if let Some(c) = self
            .configs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&host)
        {
            return Ok(c.clone());
        }
        let mut p = CertificateParams::new(vec![host.clone()])
            .map_err(|e| anyhow!("{host}: not a host name for a certificate ({e})"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host.clone());
        p.distinguished_name = dn;
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2027, 12, 31);
        p.use_authority_key_identifier_extension = true;
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = p
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|e| anyhow!("{host}: signing a certificate: {e}"))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow!("{host}: TLS certificate: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let mut m = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_HOSTS {
            m.clear();
        }
        m.insert(host, config.clone());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_key_private_read_back_and_signs_hosts() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("ca");
        let ca = Ca::load_or_create(&dir).unwrap();
        let pem = std::fs::read_to_string(&ca.cert_path).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(dir.join("ca-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
            let m = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o700);
        }
        ca.server_config("sqs.us-east-1.amazonaws.com").unwrap();
        // Read back: the same ca.pem, still signing.
        let again = Ca::load_or_create(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&again.cert_path).unwrap(), pem);
        again.server_config("s3.amazonaws.com").unwrap();
        // A key others can read is refused, naming the file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.join("ca-key.pem"),
                std::fs::Permissions::from_mode(0o644),
            )
            .unwrap();
            let e = Ca::load_or_create(&dir).err().unwrap().to_string();
            assert!(
                e.contains("ca-key.pem") && e.contains("readable by others"),
                "{e}"
            );
        }
    }
}
