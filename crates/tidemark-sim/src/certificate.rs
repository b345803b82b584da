//! The test certificate for certificate-based client credentials, and JWT client assertions.
//!
//! Entra checks a client assertion against the certificates registered on the app: the JWT header names
//! the certificate by thumbprint (`x5t` = base64url SHA-1 of the DER, or `x5t#S256` = SHA-256) and the
//! signature is RS256 or PS256 with its key. The sim does the same against certificates it knows.
//!
//! Generating an RSA key takes seconds in a debug build, and `serve` must start in under two, so the sim
//! ships one key pair and self-signed certificate it generated itself (`tidemark-sim make-cert`,
//! `keys/`). It is a test credential for a loopback server and protects nothing. The X.509 DER is
//! written and read by the few lines below, because the sim needs only a self-signed certificate with a
//! subject name and a public key.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha1::Digest as _;
use sha2::Sha256;

/// The shipped test private key (PKCS#8 PEM).
pub const SHIPPED_KEY_PEM: &str = include_str!("../keys/sim-client-key.pem");
/// The shipped self-signed test certificate (PEM).
pub const SHIPPED_CERT_PEM: &str = include_str!("../keys/sim-client-cert.pem");

/// Why a certificate or assertion was refused.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Not PEM/DER we can read.
    #[error("malformed certificate or key: {0}")]
    Malformed(String),
}

/// A registered certificate: DER bytes and the RSA public key inside.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// The certificate as DER.
    pub der: Vec<u8>,
    /// Its public key.
    pub public_key: RsaPublicKey,
}

impl ClientCertificate {
    /// Reads a PEM (`-----BEGIN CERTIFICATE-----`) certificate.
    pub fn from_pem(pem: &str) -> Result<Self, CertificateError> {
        let der = pem_to_der(pem)?;
        let spki =
            spki_of_certificate(&der).ok_or_else(|| CertificateError::Malformed("no subjectPublicKeyInfo".into()))?;
        let public_key =
            RsaPublicKey::from_public_key_der(spki).map_err(|e| CertificateError::Malformed(e.to_string()))?;
        Ok(ClientCertificate { der, public_key })
    }

    /// The shipped test certificate.
    pub fn shipped() -> Self {
        Self::from_pem(SHIPPED_CERT_PEM).expect("the shipped certificate parses")
    }

    /// `x5t`: base64url SHA-1 of the DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&self.der))
    }

    /// `x5t#S256`: base64url SHA-256 of the DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// Upper-case hex SHA-1 thumbprint as the Entra portal shows it.
    pub fn thumbprint_hex(&self) -> String {
        sha1::Sha1::digest(&self.der).iter().map(|b| format!("{b:02X}")).collect()
    }

    /// PEM text.
    pub fn to_pem(&self) -> String {
        let b = STANDARD.encode(&self.der);
        let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            s.push('\n');
        }
        s.push_str("-----END CERTIFICATE-----\n");
        s
    }
}

/// The private key that signs client assertions (tests and collection clients use it).
#[derive(Debug, Clone)]
pub struct AssertionKey(pub RsaPrivateKey);

impl AssertionKey {
    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, CertificateError> {
        RsaPrivateKey::from_pkcs8_pem(pem).map(AssertionKey).map_err(|e| CertificateError::Malformed(e.to_string()))
    }

    /// The shipped test key.
    pub fn shipped() -> Self {
        Self::from_pem(SHIPPED_KEY_PEM).expect("the shipped key parses")
    }
}

/// The signature algorithm of a client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
}

/// Builds a signed client-assertion JWT: header `alg`, `typ`, and `x5t` or `x5t#S256`; `claims` as given.
/// `seed` makes PS256 salts reproducible in tests.
pub fn sign_client_assertion(
    key: &AssertionKey,
    cert: &ClientCertificate,
    alg: AssertionAlg,
    sha256_thumbprint: bool,
    claims: &Value,
    seed: u64,
) -> String {
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), Value::from(if alg == AssertionAlg::Rs256 { "RS256" } else { "PS256" }));
    header.insert("typ".into(), Value::from("JWT"));
    if sha256_thumbprint {
        header.insert("x5t#S256".into(), Value::from(cert.x5t_s256()));
    } else {
        header.insert("x5t".into(), Value::from(cert.x5t()));
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = match alg {
        AssertionAlg::Rs256 => {
            rsa::pkcs1v15::SigningKey::<Sha256>::new(key.0.clone()).sign(signing_input.as_bytes()).to_vec()
        }
        AssertionAlg::Ps256 => {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            rsa::pss::BlindedSigningKey::<Sha256>::new(key.0.clone())
                .sign_with_rng(&mut rng, signing_input.as_bytes())
                .to_vec()
        }
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Why a client assertion was refused (mapped to AADSTS codes by the identity endpoint).
#[derive(Debug, PartialEq, Eq)]
pub enum AssertionRejection {
    /// Not three base64url JSON parts.
    Malformed,
    /// Neither `x5t` nor `x5t#S256` names a registered certificate.
    UnknownCertificate,
    /// `alg` is not RS256/PS256.
    UnsupportedAlg,
    /// The signature does not verify.
    BadSignature,
}

/// Verifies a client assertion against registered certificates; returns its claims.
pub fn verify_client_assertion(jwt: &str, certs: &[ClientCertificate]) -> Result<Value, AssertionRejection> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(AssertionRejection::Malformed);
    }
    let decode = |s: &str| -> Result<Value, AssertionRejection> {
        let b = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| AssertionRejection::Malformed)?;
        serde_json::from_slice(&b).map_err(|_| AssertionRejection::Malformed)
    };
    let header = decode(parts[0])?;
    let claims = decode(parts[1])?;
    let sig = URL_SAFE_NO_PAD.decode(parts[2].trim_end_matches('=')).map_err(|_| AssertionRejection::Malformed)?;
    let cert = certs
        .iter()
        .find(|c| {
            header.get("x5t#S256").and_then(Value::as_str) == Some(c.x5t_s256().as_str())
                || header.get("x5t").and_then(Value::as_str) == Some(c.x5t().as_str())
        })
        .ok_or(AssertionRejection::UnknownCertificate)?;
    let input = format!("{}.{}", parts[0], parts[1]);
    let ok = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => rsa::pkcs1v15::Signature::try_from(sig.as_slice())
            .map(|s| {
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(cert.public_key.clone()).verify(input.as_bytes(), &s).is_ok()
            })
            .unwrap_or(false),
        Some("PS256") => rsa::pss::Signature::try_from(sig.as_slice())
            .map(|s| {
                rsa::pss::VerifyingKey::<Sha256>::new(cert.public_key.clone()).verify(input.as_bytes(), &s).is_ok()
            })
            .unwrap_or(false),
        _ => return Err(AssertionRejection::UnsupportedAlg),
    };
    if ok {
        Ok(claims)
    } else {
        Err(AssertionRejection::BadSignature)
    }
}

/// Generates a new RSA-2048 key and a self-signed certificate for `common_name`, returning
/// `(key PEM, certificate PEM)`. Slow in debug builds; used by `tidemark-sim make-cert`.
pub fn make_self_signed(common_name: &str, seed: u64) -> Result<(String, String), CertificateError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let spki = key.to_public_key().to_public_key_der().map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let sha256_rsa = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
    let alg = seq(&[&sha256_rsa[..], &[0x05, 0x00]]);
    let name = seq(&[&set(&[&seq(&[&[0x06, 0x03, 0x55, 0x04, 0x03], &tlv(0x0C, common_name.as_bytes())])])]);
    let validity = seq(&[&tlv(0x17, b"200101000000Z"), &tlv(0x17, b"491231235959Z")]);
    let serial = tlv(0x02, &[0x01, (seed & 0x7F) as u8, 0x5E, 0x11]);
    let tbs = seq(&[&tlv(0xA0, &tlv(0x02, &[0x02])), &serial, &alg, &name, &validity, &name, spki.as_bytes()]);
    let sig = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone()).sign(&tbs).to_vec();
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    let cert = seq(&[&tbs, &alg, &tlv(0x03, &bits)]);
    let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let cert = ClientCertificate::from_pem(&ClientCertificate { der: cert, public_key: key.to_public_key() }.to_pem())?;
    Ok((key_pem.to_string(), cert.to_pem()))
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

/// Reads one DER TLV: (tag, content, rest).
fn read_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let first = *buf.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7F) as usize;
        let mut len = 0usize;
        for b in buf.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let content = buf.get(hdr..hdr + len)?;
    Some((tag, content, &buf[hdr + len..]))
}

/// The `subjectPublicKeyInfo` TLV of an X.509 certificate.
fn spki_of_certificate(der: &[u8]) -> Option<&[u8]> {
    let (_, cert, _) = read_tlv(der)?;
    let (_, tbs, _) = read_tlv(cert)?;
    let mut rest = tbs;
    let mut index = 0;
    loop {
        let (tag, _, next) = read_tlv(rest)?;
        if index == 0 && tag == 0xA0 {
            rest = next;
            continue;
        }
        if index == 5 {
            return Some(&rest[..rest.len() - next.len()]);
        }
        index += 1;
        rest = next;
    }
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, CertificateError> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    STANDARD.decode(b64).map_err(|e| CertificateError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_pair_signs_and_verifies_both_algorithms() {
        let cert = ClientCertificate::shipped();
        let key = AssertionKey::shipped();
        assert_eq!(key.0.to_public_key(), cert.public_key);
        let claims = serde_json::json!({"iss": "a", "sub": "a"});
        for (alg, s256) in [(AssertionAlg::Rs256, false), (AssertionAlg::Ps256, true)] {
            let jwt = sign_client_assertion(&key, &cert, alg, s256, &claims, 1);
            assert_eq!(verify_client_assertion(&jwt, std::slice::from_ref(&cert)).unwrap(), claims);
            let mut bad = jwt.clone();
            bad.truncate(bad.len() - 4);
            bad.push_str("AAAA");
            assert_eq!(
                verify_client_assertion(&bad, std::slice::from_ref(&cert)),
                Err(AssertionRejection::BadSignature)
            );
        }
        assert_eq!(cert.x5t().len(), 27);
        assert_eq!(cert.x5t_s256().len(), 43);
    }
}
