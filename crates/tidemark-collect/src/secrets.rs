//! Secrets: client secrets, certificate passwords and keys, refresh tokens — in the OS keychain only.
//!
//! [`Secret`] wraps a value so it cannot leak by accident: its `Debug` prints `<redacted>`, it has no
//! `Display` and does not implement `Serialize`, and its bytes are overwritten when dropped. The
//! [`Keychain`] store uses the platform stores through `keyring` (macOS Keychain, Windows Credential
//! Manager, Secret Service on Linux), namespaced per build kind: debug builds use the service
//! `tidemark-dev`, release builds `tidemark`, so a development build never reads an investigator's
//! real credentials. A missing entry is `Ok(None)`; a locked or absent keychain is
//! [`Code::KeychainUnavailable`] with what to do.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::{Code, CollectError, Result};

/// A secret value. No `Display`, no `Serialize`; `Debug` prints `<redacted>`.
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Secret(self.0.clone())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrite the heap bytes before they are freed (best effort: earlier copies are the
        // allocator's business).
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        for b in bytes.iter_mut() {
            // A volatile-free wipe: the compiler may elide it, but it costs nothing to try.
            *b = 0;
        }
        std::hint::black_box(&bytes);
    }
}

/// What kind of secret an entry is (part of its keychain account name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A client secret.
    ClientSecret,
    /// A certificate's private key (PEM) or PFX password.
    CertificateKey,
    /// A PFX file's password.
    CertificatePassword,
    /// The delegated refresh token (rotated on every use).
    RefreshToken,
}

impl SecretKind {
    fn suffix(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client-secret",
            SecretKind::CertificateKey => "certificate-key",
            SecretKind::CertificatePassword => "certificate-password",
            SecretKind::RefreshToken => "refresh-token",
        }
    }
}

/// Where secrets live.
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// Reads a secret; `Ok(None)` when there is none.
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>>;
    /// Stores (replaces) a secret.
    fn set(&self, profile: &str, kind: SecretKind, value: &Secret) -> Result<()>;
    /// Removes a secret (no error when there is none).
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<()>;
}

/// The keychain service name of this build.
pub fn service_name() -> &'static str {
    if cfg!(debug_assertions) {
        "tidemark-dev"
    } else {
        "tidemark"
    }
}

/// The OS keychain.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self { service: service_name().to_string() }
    }
}

impl Keychain {
    /// A keychain under another service name (tests use their own, so they never touch real entries).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, profile: &str, kind: SecretKind) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, &format!("{profile}/{}", kind.suffix())).map_err(|e| unavailable(&e))
    }
}

fn unavailable(e: &keyring::Error) -> CollectError {
    let what_to_do = if cfg!(target_os = "linux") {
        "Unlock your keyring (GNOME Keyring / KWallet: log in to the desktop session, or run \
         `gnome-keyring-daemon --unlock`), and check that a Secret Service is running on the session bus."
    } else if cfg!(target_os = "macos") {
        "Unlock the login keychain in Keychain Access, then try again."
    } else {
        "Sign in to Windows with your own account so Credential Manager is available, then try again."
    };
    CollectError::new(
        Code::KeychainUnavailable,
        format!("Tidemark could not use the system keychain to keep sign-in secrets. {what_to_do}"),
    )
    .with_detail(e.to_string())
}

impl SecretStore for Keychain {
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>> {
        match self.entry(profile, kind)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    fn set(&self, profile: &str, kind: SecretKind, value: &Secret) -> Result<()> {
        self.entry(profile, kind)?.set_password(value.expose()).map_err(|e| unavailable(&e))
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<()> {
        match self.entry(profile, kind)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

/// Secrets in memory only (tests, and a run whose secret was typed and must not be kept).
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<BTreeMap<String, Secret>>);

impl MemoryStore {
    fn key(profile: &str, kind: SecretKind) -> String {
        format!("{profile}/{}", kind.suffix())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&Self::key(profile, kind)).cloned())
    }

    fn set(&self, profile: &str, kind: SecretKind, value: &Secret) -> Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(Self::key(profile, kind), value.clone());
        Ok(())
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&Self::key(profile, kind));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(<redacted>)");
        let m = MemoryStore::default();
        assert!(m.get("p", SecretKind::ClientSecret).unwrap().is_none());
        m.set("p", SecretKind::ClientSecret, &s).unwrap();
        assert_eq!(m.get("p", SecretKind::ClientSecret).unwrap().unwrap().expose(), "hunter2");
        assert!(service_name().starts_with("tidemark"));
    }
}
