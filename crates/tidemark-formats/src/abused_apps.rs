//! Third-party OAuth applications known to be abused in mailbox compromises, by application id.
//!
//! Attackers who have a user's session often consent a legitimate mail client or backup tool to the
//! mailbox and use it to download, send or sync mail from anywhere: an app id from this list in a
//! consent, a sign-in or a `MailItemsAccessed` record deserves a look even though the app itself is
//! lawful software. Ids and names come from the community list huntresslabs/rogueapps
//! (`data/rogueapps.toml`, MIT licence, checked December 2026); the sentences are ours.

/// Source tag for every entry.
pub const ROGUEAPPS: &str = "huntresslabs/rogueapps (MIT): data/rogueapps.toml";

/// `(lower-case application id, name, what attackers use it for)`, sorted by id.
static ABUSED: &[(&str, &str, &str)] = &[
    (
        "2ef68ccc-8a4d-42ff-ae88-2d7bb89ad139",
        "Mail_Backup (PerfectData)",
        "mailbox export, used to take copies of mail",
    ),
    (
        "a245e8c0-b53c-4b67-9b45-751d1dff8e6b",
        "Newsletter Software Supermailer",
        "mass mailing, used to send phishing from the mailbox",
    ),
    ("a43e5392-f48b-46a4-a0f1-098b5eeb4757", "CloudSponge", "contact export, used to find the next phishing targets"),
    (
        "b15665d9-eda6-4092-8539-0eec376afd59",
        "rclone",
        "cloud file copying, used to download OneDrive and SharePoint files",
    ),
    ("caffae8c-0882-4c81-9a27-d1803af53a40", "SigParser", "contact and signature harvesting from mail and calendars"),
    (
        "e9a7fea1-1cc0-4cd9-a31b-9137ca5deedd",
        "eM Client",
        "a full mail client, used to sync, download and send mail and to set rules",
    ),
    ("ff8d92dc-3d82-41d6-bcbd-b9174d163620", "PerfectData Software", "mailbox export, used to take copies of mail"),
];

/// The name of an abused application and what attackers use it for.
pub fn abused_app(app_id: &str) -> Option<(&'static str, &'static str)> {
    let id = app_id.trim().to_ascii_lowercase();
    ABUSED.binary_search_by(|(i, _, _)| (*i).cmp(id.as_str())).ok().map(|at| (ABUSED[at].1, ABUSED[at].2))
}

/// A name for any application id Tidemark knows: Microsoft's own first, then the abused ones.
pub fn any_app_name(app_id: &str) -> Option<&'static str> {
    crate::apps::app_name(app_id).or_else(|| abused_app(app_id).map(|(name, _)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_lower_case_unique_and_apart_from_microsofts() {
        for w in ABUSED.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        for (id, name, why) in ABUSED {
            assert_eq!((id.len(), *id), (36, id.to_ascii_lowercase().as_str()));
            assert!(!name.is_empty() && !why.is_empty());
            assert!(crate::apps::app_name(id).is_none(), "{id} is listed as Microsoft's too");
        }
    }

    #[test]
    fn names_abused_and_microsoft_apps() {
        assert_eq!(abused_app("E9A7FEA1-1CC0-4CD9-A31B-9137CA5DEEDD").map(|a| a.0), Some("eM Client"));
        assert_eq!(any_app_name("e9a7fea1-1cc0-4cd9-a31b-9137ca5deedd"), Some("eM Client"));
        assert_eq!(any_app_name("00000003-0000-0000-c000-000000000000"), Some("Microsoft Graph"));
        assert_eq!(any_app_name("11111111-2222-3333-4444-555555555555"), None);
    }
}
