//! Normalization: one event model for every source.
//!
//! Sources disagree on names, casing and shapes; investigators should not have to. A
//! [`NormalizedEvent`] carries the fields the timeline, search and export use; everything else stays
//! in the raw record, which is kept verbatim. The operation is always kept as given; `action` is
//! Tidemark's category for it ([`Action`]).

use serde::Serialize;

/// Tidemark's action categories, in the order the UI lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A successful sign-in or mailbox logon.
    Logon,
    /// A failed sign-in.
    LogonFailed,
    /// Mail read (MailItemsAccessed Bind, legacy reads).
    Read,
    /// A client synchronised a folder (MailItemsAccessed Sync).
    Sync,
    /// A search in the mailbox.
    Search,
    /// A message sent.
    Send,
    /// A reply.
    Reply,
    /// A forward.
    Forward,
    /// Items deleted (soft, hard, or moved to Deleted Items).
    Delete,
    /// Items moved or copied.
    Move,
    /// An attachment opened or previewed.
    Attachment,
    /// A message delivered into the mailbox.
    Delivery,
    /// Inbox rules created, changed or removed.
    Rule,
    /// Mailbox forwarding set or changed.
    Forwarding,
    /// Mailbox or folder permissions, Send As.
    Permission,
    /// OAuth consent granted to an application.
    Consent,
    /// Directory role or app role membership added or removed (Entra ID).
    Role,
    /// An application's or service principal's certificates, secrets or federated credentials changed.
    AppCredential,
    /// Authentication (MFA) methods registered, changed or removed.
    AuthMethod,
    /// A password reset or changed.
    Password,
    /// Other administrative operations.
    Admin,
    /// Anything else.
    Other,
}

impl Action {
    /// The category as stored and searched (`logon-failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logon => "logon",
            Self::LogonFailed => "logon-failed",
            Self::Read => "read",
            Self::Sync => "sync",
            Self::Search => "search",
            Self::Send => "send",
            Self::Reply => "reply",
            Self::Forward => "forward",
            Self::Delete => "delete",
            Self::Move => "move",
            Self::Attachment => "attachment",
            Self::Delivery => "delivery",
            Self::Rule => "rule",
            Self::Forwarding => "forwarding",
            Self::Permission => "permission",
            Self::Consent => "consent",
            Self::Role => "role",
            Self::AppCredential => "app-credential",
            Self::AuthMethod => "auth-method",
            Self::Password => "password",
            Self::Admin => "admin",
            Self::Other => "other",
        }
    }
}

/// One record, normalized. Built by a [`crate::Format`]; stored as an `event` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NormalizedEvent {
    /// De-duplication key: the same record from any source has the same key (UAL `Id`).
    pub record_key: String,
    /// Event time, Unix milliseconds UTC.
    pub time_ms: i64,
    /// Source format or API id.
    pub source: String,
    /// Workload.
    pub workload: Option<String>,
    /// Record type as given (number or name).
    pub record_type: Option<String>,
    /// Operation, verbatim.
    pub operation: String,
    /// Action category ([`Action::as_str`]).
    pub action: String,
    /// Who did it.
    pub actor: Option<String>,
    /// Whose mailbox.
    pub mailbox: Option<String>,
    /// Client IP without port or brackets.
    pub client_ip: Option<String>,
    /// Client port.
    pub client_port: Option<u16>,
    /// Client family.
    pub client_app: Option<String>,
    /// User agent or client info string.
    pub user_agent: Option<String>,
    /// Application id.
    pub app_id: Option<String>,
    /// Session id.
    pub session_id: Option<String>,
    /// Result, verbatim.
    pub result: Option<String>,
    /// Subject (or search text).
    pub subject: Option<String>,
    /// Folder paths, distinct, in order of appearance.
    pub folders: Vec<String>,
    /// Internet message ids, distinct, in order of appearance.
    pub message_ids: Vec<String>,
    /// Items covered.
    pub item_count: Option<i64>,
    /// Object acted on.
    pub object: Option<String>,
    /// Further normalized details (flattened parameters, access type, raw IP …), a JSON object.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// Splits a client address as found in audit records into IP and port.
///
/// Handles `a.b.c.d`, `a.b.c.d:port`, `[a.b.c.d]:port`, `::ffff:a.b.c.d`, bare and bracketed IPv6 with or
/// without port, and host names (`host:port`). Returns `None` for empty values.
pub fn split_ip(raw: &str) -> Option<(String, Option<u16>)> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_owned(), port));
    }
    let colons = s.bytes().filter(|&b| b == b':').count();
    if colons == 1 {
        let (host, port) = s.split_once(':')?;
        if let Ok(p) = port.parse::<u16>() {
            return Some((host.to_owned(), Some(p)));
        }
    }
    Some((s.to_owned(), None))
}

/// A client address as an audit record gives it: an IP address (with its port, if any), or something
/// that is not an IP address (a host name), which must never be stored as a client IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAddress {
    /// A valid IPv4 or IPv6 address (IPv4-mapped IPv6 included), without brackets or port.
    Ip {
        /// The address as written.
        ip: String,
        /// The port, when the record gave one.
        port: Option<u16>,
    },
    /// Not an IP address: a host name (`cool.client.local`), without its port.
    Host(String),
}

/// Whether text is an IPv4 or IPv6 address (`::ffff:a.b.c.d` included; no brackets, port or zone).
pub fn is_ip_address(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// Reads a client address (see [`split_ip`] for the forms): an IP address, or a host name kept apart.
/// Returns `None` for empty values.
pub fn client_address(raw: &str) -> Option<ClientAddress> {
    let (addr, port) = split_ip(raw)?;
    Some(if is_ip_address(&addr) { ClientAddress::Ip { ip: addr, port } } else { ClientAddress::Host(addr) })
}

/// The client family from an Exchange `ClientInfoString`, a user agent, or both.
pub fn client_family(
    client_info: Option<&str>,
    user_agent: Option<&str>,
    app_id: Option<&str>,
) -> Option<&'static str> {
    let ci = client_info.unwrap_or("");
    let lower = ci.to_ascii_lowercase();
    let ua = user_agent.unwrap_or("").to_ascii_lowercase();
    let fam = if lower.starts_with("client=owa") || lower.contains("owa/") {
        "OWA"
    } else if lower.starts_with("client=msexchangerpc")
        || lower.contains("outlook/16")
        || ua.contains("microsoft office/")
    {
        "Outlook desktop"
    } else if lower.contains("outlook-ios")
        || lower.contains("outlook-android")
        || lower.starts_with("client=outlookservice")
        || ua.contains("outlook-ios")
        || ua.contains("outlook-android")
    {
        "Outlook mobile"
    } else if lower.starts_with("client=rest") || app_id == Some("00000003-0000-0000-c000-000000000000") {
        "REST/Graph"
    } else if lower.starts_with("client=webservices") || lower.contains("ews") {
        "EWS"
    } else if lower.starts_with("client=airsync") || lower.contains("activesync") {
        "ActiveSync"
    } else if lower.contains("imap4") {
        "IMAP"
    } else if lower.contains("pop3") {
        "POP"
    } else if lower.contains("powershell") || ua.contains("powershell") {
        "PowerShell"
    } else if ua.starts_with("mozilla/") {
        "Browser"
    } else if ci.is_empty() && ua.is_empty() {
        return None;
    } else {
        "Other"
    };
    Some(fam)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_client_ip_form() {
        let cases = [
            ("10.11.12.13", "10.11.12.13", None),
            ("10.11.12.13:12345", "10.11.12.13", Some(12345)),
            ("[10.11.12.13]:12345", "10.11.12.13", Some(12345)),
            ("::ffff:10.11.12.13", "::ffff:10.11.12.13", None),
            ("[::ffff:10.11.12.13]:12345", "::ffff:10.11.12.13", Some(12345)),
            ("2001:db8::abcd", "2001:db8::abcd", None),
            ("[2001:db8::abcd]:12345", "2001:db8::abcd", Some(12345)),
            ("[2001:db8::abcd]", "2001:db8::abcd", None),
            ("::1", "::1", None),
            ("cool.client.local:12345", "cool.client.local", Some(12345)),
        ];
        for (raw, ip, port) in cases {
            assert_eq!(split_ip(raw), Some((ip.to_owned(), port)), "{raw}");
        }
        assert_eq!(split_ip("  "), None);
    }

    #[test]
    fn host_names_are_not_ip_addresses() {
        let ip = |ip: &str, port| Some(ClientAddress::Ip { ip: ip.to_owned(), port });
        assert_eq!(client_address("10.11.12.13:443"), ip("10.11.12.13", Some(443)));
        assert_eq!(client_address("[::ffff:10.11.12.13]:80"), ip("::ffff:10.11.12.13", Some(80)));
        assert_eq!(client_address("2001:db8::abcd"), ip("2001:db8::abcd", None));
        assert_eq!(client_address("cool.client.local:12345"), Some(ClientAddress::Host("cool.client.local".into())));
        assert_eq!(client_address("EXHUB01"), Some(ClientAddress::Host("EXHUB01".into())));
        assert_eq!(client_address("999.1.1.1"), Some(ClientAddress::Host("999.1.1.1".into())));
        assert_eq!(client_address(" "), None);
        assert!(is_ip_address("::ffff:198.51.100.7") && !is_ip_address("[::1]"));
    }

    #[test]
    fn recognises_client_families() {
        assert_eq!(client_family(Some("Client=OWA;Action=ViaProxy"), None, None), Some("OWA"));
        assert_eq!(client_family(Some("Client=MSExchangeRPC"), None, None), Some("Outlook desktop"));
        assert_eq!(client_family(Some("Client=REST;Client=RESTSystem;;"), None, None), Some("REST/Graph"));
        assert_eq!(client_family(Some("Client=POP3/IMAP4;Protocol=IMAP4"), None, None), Some("IMAP"));
        assert_eq!(client_family(Some("Client=OutlookService;Outlook-iOS/2.0;"), None, None), Some("Outlook mobile"));
        assert_eq!(client_family(None, Some("Mozilla/5.0 (Windows NT 10.0)"), None), Some("Browser"));
        assert_eq!(client_family(None, None, None), None);
    }
}
