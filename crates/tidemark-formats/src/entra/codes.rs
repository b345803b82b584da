//! Small tables that turn Entra ID sign-in codes and client names into words an investigator reads at
//! a glance.
//!
//! A sign-in's `status.failureReason` is often empty (non-interactive and service principal sign-ins,
//! exports that drop it) or a sentence written for developers; the AADSTS error code is always there.
//! [`failure_reason`] gives the most common codes in plain words, written here (not copied from
//! Microsoft's error reference), so that "50126" reads as "wrong user name or password". Which codes
//! are *interrupts* (the attempt stopped to ask for something, such as MFA; the flow usually goes on in
//! a later sign-in) is [`is_interrupt`]; the admin center shows those as "Interrupted".
//!
//! [`legacy_client`] maps the `clientAppUsed` values of legacy (basic) authentication to Tidemark's client
//! families, the same names [`crate::event::client_family`] gives UAL records.

/// AADSTS codes the Entra admin center shows as "Interrupted": the attempt stopped to ask for more
/// (MFA, registration, a password reset, "Keep me signed in?"), it is not a verdict on the credentials.
const INTERRUPTS: &[i64] = &[50072, 50074, 50076, 50079, 50097, 50125, 50140, 50158, 50199];

/// Whether a sign-in error code is an interrupt (see [`INTERRUPTS`]).
pub fn is_interrupt(code: i64) -> bool {
    INTERRUPTS.contains(&code)
}

/// The most common AADSTS sign-in error codes in plain words, sorted by code.
static REASONS: &[(i64, &str)] = &[
    (50020, "the user's identity provider is not allowed in this tenant (guest not invited?)"),
    (50034, "the user account does not exist in this tenant"),
    (50053, "account locked (too many failed attempts, or a blocked sign-in source)"),
    (50055, "password expired"),
    (50057, "account disabled"),
    (50058, "silent sign-in failed: there was no session to reuse"),
    (50072, "the user must register a second factor (MFA registration)"),
    (50074, "multifactor authentication required"),
    (50076, "multifactor authentication required (by policy or for this location)"),
    (50079, "the user must register for multifactor authentication"),
    (50089, "the sign-in flow took too long and its token expired"),
    (50097, "device authentication required"),
    (50105, "the user is not assigned to this application"),
    (50125, "interrupted for a password reset or security info registration"),
    (50126, "wrong user name or password"),
    (50133, "session no longer valid: the password changed or expired"),
    (50140, "interrupted by the \"Keep me signed in?\" prompt"),
    (50144, "the on-premises password expired"),
    (50155, "device authentication failed"),
    (50158, "an external security challenge (third-party MFA) was not satisfied"),
    (50173, "token revoked: the password changed or an admin revoked sessions"),
    (50199, "interrupted for a security confirmation"),
    (53000, "blocked by Conditional Access: the device is not compliant"),
    (53001, "blocked by Conditional Access: the device is not domain joined"),
    (53002, "blocked by Conditional Access: the app is not an approved client app"),
    (53003, "blocked by Conditional Access"),
    (53004, "MFA registration blocked because the sign-in is risky"),
    (65001, "consent not granted: the user or an admin has not consented to the application"),
    (65004, "the user declined to consent to the application"),
    (70008, "the authorization code or refresh token expired"),
    (70043, "refresh token expired (Conditional Access sign-in frequency)"),
    (70044, "session expired (Conditional Access sign-in frequency)"),
    (90094, "an administrator must consent to the permissions the application asks for"),
    (500011, "the resource application is not present in this tenant"),
    (500121, "multifactor authentication failed or was denied"),
    (530032, "blocked by a tenant security policy (security defaults)"),
    (700016, "the application was not found in the directory"),
    (700082, "refresh token expired after being unused"),
    (7000215, "wrong client secret"),
    (7000218, "the request needs a client assertion or client secret"),
];

/// A plain-words reason for a sign-in error code, for the common ones (see [`REASONS`]).
pub fn failure_reason(code: i64) -> Option<&'static str> {
    REASONS.binary_search_by_key(&code, |(c, _)| *c).ok().map(|i| REASONS[i].1)
}

/// The client family of a legacy `clientAppUsed` value; `None` for modern clients ("Browser",
/// "Mobile Apps and Desktop clients") and unknown values, whose family comes from the user agent.
pub fn legacy_client(client_app_used: &str) -> Option<&'static str> {
    let v = client_app_used.trim().to_ascii_lowercase();
    Some(match v.as_str() {
        "imap" | "imap4" => "IMAP",
        "pop" | "pop3" => "POP",
        "smtp" | "authenticated smtp" => "SMTP",
        "exchange activesync" | "activesync" => "ActiveSync",
        "exchange web services" | "ews" => "EWS",
        "exchange online powershell" | "remote powershell" => "PowerShell",
        "mapi over http" | "mapi" | "outlook anywhere (rpc over http)" | "offline address book" => "Outlook desktop",
        "autodiscover" | "other clients" | "reporting web services" | "universal outlook" => "Other",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_table_is_sorted_and_covers_the_common_codes() {
        assert!(REASONS.windows(2).all(|w| w[0].0 < w[1].0), "sorted for binary search");
        for code in [50126, 50053, 50057, 50055, 50074, 50076, 50079, 500121, 50140, 50125, 53003, 50158, 70044, 70043]
        {
            assert!(failure_reason(code).is_some(), "{code}");
        }
        for code in [50173, 50133, 90094, 65001, 7000218, 50034, 530032] {
            assert!(failure_reason(code).is_some(), "{code}");
        }
        assert_eq!(failure_reason(50126), Some("wrong user name or password"));
        assert_eq!(failure_reason(0), None);
        assert!(is_interrupt(50074) && is_interrupt(50140) && !is_interrupt(50126) && !is_interrupt(0));
    }

    #[test]
    fn legacy_clients_map_to_families() {
        assert_eq!(legacy_client("IMAP4"), Some("IMAP"));
        assert_eq!(legacy_client("Authenticated SMTP"), Some("SMTP"));
        assert_eq!(legacy_client("Exchange ActiveSync"), Some("ActiveSync"));
        assert_eq!(legacy_client("Exchange Web Services"), Some("EWS"));
        assert_eq!(legacy_client("Other clients"), Some("Other"));
        assert_eq!(legacy_client("Browser"), None);
        assert_eq!(legacy_client("Mobile Apps and Desktop clients"), None);
    }
}
