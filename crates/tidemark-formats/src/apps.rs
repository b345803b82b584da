//! Names of well-known Microsoft first-party applications, by application (client) id.
//!
//! Audit records name the application that acted only by its GUID (`AppId`, `ClientAppId`,
//! `ApplicationId`, `AppAccessContext.ClientAppId`). An investigator needs to see at once whether mail
//! was read by "Office 365 Exchange Online" (Outlook on the web), "Microsoft Graph", "Microsoft Azure
//! PowerShell" or an id nobody knows: an unknown id is often the attacker's own OAuth app. Only ids
//! with a public source are listed; each row says where its id comes from:
//!
//! - [`LEARN`]: Microsoft Learn, "Verify first-party Microsoft applications in sign-in reports"
//!   (<https://learn.microsoft.com/troubleshoot/azure/entra/entra-id/governance/verify-first-party-apps-sign-in>),
//!   table "Application IDs of commonly used Microsoft applications" (names as given there).
//! - [`MERILL`]: the community list merill/microsoft-info, `customdata/OtherMicrosoftApps.csv`
//!   (<https://github.com/merill/microsoft-info>), for Microsoft apps the Learn table lacks.
//! - [`MC711020`]: Microsoft 365 Message Center post MC711020 (January 2024), "Outlook for web – new
//!   application ID": Outlook on the web moves from `00000002-0000-0ff1-ce00-000000000000` to
//!   `9199bf20-a13f-4107-85dc-02114787ef48`.
//!
//! Third-party mail clients (eM Client, Thunderbird …) are deliberately absent: this table only says
//! "this id is Microsoft's".

/// Source tag: the Microsoft Learn first-party application table.
pub const LEARN: &str = "Microsoft Learn: Verify first-party Microsoft applications in sign-in reports";
/// Source tag: merill/microsoft-info `customdata/OtherMicrosoftApps.csv`.
pub const MERILL: &str = "merill/microsoft-info: customdata/OtherMicrosoftApps.csv";
/// Source tag: Microsoft 365 Message Center post MC711020.
pub const MC711020: &str = "Microsoft 365 Message Center MC711020 (Outlook for web new application id)";

/// `(lower-case application id, name, source)`, sorted by id (binary search).
static APPS: &[(&str, &str, &str)] = &[
    ("00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory", LEARN),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", LEARN),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph", LEARN),
    ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", LEARN),
    ("00000004-0000-0ff1-ce00-000000000000", "Skype for Business Online", LEARN),
    ("00000005-0000-0ff1-ce00-000000000000", "Yammer", LEARN),
    ("00000006-0000-0ff1-ce00-000000000000", "Microsoft Office 365 Portal", LEARN),
    ("00000007-0000-0000-c000-000000000000", "Dataverse", LEARN),
    ("00000007-0000-0ff1-ce00-000000000000", "Microsoft Exchange Online Protection", LEARN),
    ("00000009-0000-0000-c000-000000000000", "Power BI Service", LEARN),
    ("0000000c-0000-0000-c000-000000000000", "Microsoft App Access Panel", LEARN),
    ("00000015-0000-0000-c000-000000000000", "Microsoft Dynamics ERP", LEARN),
    ("0000001a-0000-0000-c000-000000000000", "MicrosoftAzureActiveAuthn", LEARN),
    ("00b41c95-dab0-4487-9791-b9d2c32c80f2", "Office 365 Management", LEARN),
    ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", LEARN),
    ("08e18876-6177-487e-b8b5-cf950c1e598c", "SharePoint Online Web Client Extensibility", LEARN),
    ("0cb7b9ec-5336-483b-bc31-b15b5788de71", "ASM Campaign Servicing", LEARN),
    ("0e90d0b8-039a-4936-a6f4-d25dd510be5d", "Message Recall", MERILL),
    ("0ec893e0-5785-4de6-99da-4ed124e5296c", "Office UWP PWA", MERILL),
    ("0f698dd4-f011-4d23-a33e-b36416dcb1e6", "OfficeClientService", LEARN),
    ("16aeb910-ce68-41d1-9ac3-9e1673ac9575", "IrisSelectionFrontDoor", LEARN),
    ("1786c5ed-9644-47b2-8aa0-7201292175b6", "Microsoft Bing Default Search Engine", LEARN),
    ("17d5e35f-655b-4fb0-8ae6-86356e9a49f5", "Office Online Client AAD- Maker", LEARN),
    ("18fbca16-2224-45f6-85b0-f7bf2b39b3f3", "Microsoft Docs", LEARN),
    ("1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell", LEARN),
    ("1b3c667f-cde3-4090-b60b-3d2abd0117f0", "Windows Spotlight", LEARN),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", LEARN),
    ("23523755-3a2b-41ca-9315-f81f3f566a95", "ACOM Azure Website", LEARN),
    ("243c63a3-247d-41c5-9d83-7788c43f1c43", "Office Online Core SSO", LEARN),
    ("268761a2-03f3-40df-8a8b-c3db24145b6b", "Universal Store Native Client", LEARN),
    ("26a7ee05-5602-4d76-a7ba-eae8b7b67941", "Windows Search", LEARN),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", LEARN),
    ("28b567f6-162c-4f54-99a0-6887f387bbcc", "Microsoft Storefronts", LEARN),
    ("29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker", LEARN),
    ("2abdc806-e091-4495-9b10-b04d93c3f040", "Office Online Client AAD- Augmentation Loop", LEARN),
    ("2d4d3d8e-2be3-4bef-9f87-7875a61c29de", "OneNote", LEARN),
    ("2d7f3606-b07d-41d1-b9d2-0d0c9296a6e8", "Microsoft Bing Search for Microsoft Edge", LEARN),
    ("3090ab82-f1c1-4cdf-af2c-5d7a6f3e2cc7", "Microsoft Defender for Cloud Apps", LEARN),
    ("37182072-3c9c-4f6a-a4b3-b3f91cacffce", "AzureSupportCenter", LEARN),
    ("4345a7b9-9a63-4910-a426-35363201d503", "O365 Suite UX", LEARN),
    ("45a330b1-b1ec-4cc1-9161-9f03992aa49f", "Windows Store for Business", LEARN),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", LEARN),
    ("4813382a-8fa7-425e-ab75-3b753aab3abb", "Microsoft Authenticator App", MERILL),
    ("4b233688-031c-404b-9a80-a4f3f2351f90", "Office.com", LEARN),
    ("4d5c2d63-cf83-4365-853c-925fd1a64357", "OfficeShredderWacClient", LEARN),
    ("5572c4c0-d078-44ce-b81c-6cbf8d3ed39e", "Vortex [wsfed enabled]", LEARN),
    ("5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Microsoft Teams Web Client", LEARN),
    ("6046742c-3aee-485e-a4ac-92ab7199db2e", "Report Message", MERILL),
    ("60c8bde5-3167-4f92-8fdb-059f6176dc0f", "Enterprise Roaming and Backup", LEARN),
    ("62256cef-54c0-4cb4-bcac-4c67989bdc40", "OMSOctopiPROD", LEARN),
    ("6253bca8-faf2-4587-8f2f-b056d80998a7", "Microsoft Edge Insider Addons Prod", LEARN),
    ("62916641-fc48-44ae-a2a3-163811f1c945", "Message Header Analyzer", MERILL),
    ("65d91a3d-ab74-42e6-8a2f-0add61688c74", "Microsoft Approval Management", LEARN),
    ("66a88757-258c-4c72-893c-3e8bed4d6899", "Office 365 Search Service", LEARN),
    ("67e3df25-268a-4324-a550-0de1c7f97287", "Microsoft Office Web Apps Service", LEARN),
    ("69893ee3-dd10-4b1c-832d-4870354be3d8", "AEM-DualAuth", LEARN),
    ("74bcdadc-2fdc-4bb3-8459-76d06952a0e9", "Microsoft Intune Web Company Portal", LEARN),
    ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", LEARN),
    ("7b7531ad-5926-4f2d-8a1d-38495ad33e17", "Azure Advanced Threat Protection", LEARN),
    ("835b2a73-6e10-4aa5-a979-21dfda45231c", "Azure Lab Services Portal", LEARN),
    ("871c010f-5e61-4fb1-83ac-98610a7e9110", "Microsoft Power BI", LEARN),
    ("89bee1f7-5e6e-4d8a-9f3d-ecd601259da7", "Office365 Shell WCSS-Client", LEARN),
    ("8edd93e1-2103-40b4-bd70-6e34e586362d", "Windows Azure Security Resource Provider", LEARN),
    ("905fcf26-4eb7-48a0-9ff0-8dcc7194b5ba", "Sway", LEARN),
    ("9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web", MC711020),
    ("93625bc8-bfe2-437a-97e0-3d0060024faa", "Microsoft password reset service", LEARN),
    ("93d53678-613d-4013-afc1-62e9e444a0a5", "Office Online Add-in SSO", LEARN),
    ("944f0bd1-117b-4b1c-af26-804ed95e767e", "Media Analysis and Transformation Service", LEARN),
    ("94c63fef-13a3-47bc-8074-75af8c65887a", "Office Delve", LEARN),
    ("95de633a-083e-42f5-b444-a4295d8e9314", "Microsoft Whiteboard Services", LEARN),
    ("9758a0e2-7861-440f-b467-1823144e5b65", "FindTime", MERILL),
    ("98db8bd6-0cc0-4e67-9de5-f187f1cd1b41", "Microsoft Substrate Management", LEARN),
    ("9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", "Microsoft Intune Company Portal", MERILL),
    ("9ea1ad79-fdb6-4f9a-8bc3-2b70f96e34c7", "Bing", LEARN),
    ("a3475900-ccec-4a69-98f5-a65cd5dc5306", "Partner Customer Delegated Admin Offline Processor", LEARN),
    ("a3b79187-70b2-4139-83f9-6016c58cd27b", "WindowsDefenderATP Portal", LEARN),
    ("a57aca87-cbc0-4f3c-8b9e-dc095fdc8978", "IAM Supportability", LEARN),
    ("a9b49b65-0a12-430b-9540-c80b3332c127", "Office Online Search", LEARN),
    ("ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", LEARN),
    ("b23dd4db-9142-4734-867f-3577f640ad0c", "Office Online Client AAD- Loki", LEARN),
    ("b26aadf8-566f-4478-926f-589f601d9c74", "OneDrive", MERILL),
    ("b4bddae8-ab25-483e-8670-df09b9f1d0ea", "Signup", LEARN),
    ("b6e69c34-5f1f-4c34-8cdf-7fea120b8670", "Office Online Client MSA- Loki", LEARN),
    ("bb2a2e3a-c5e7-4f0a-88e0-8e01fd3fc1f4", "CPIM Service", LEARN),
    ("bdd48c81-3a58-4ea9-849c-ebea7f6b6360", "Password Breach Authenticator", LEARN),
    ("c1c74fed-04c9-4704-80dc-9f79a2e515cb", "Yammer Web", LEARN),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", LEARN),
    ("c9a559d2-7aab-4f13-a6ed-e7e9c52aec87", "Microsoft Forms", LEARN),
    ("cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", LEARN),
    ("cf36b471-5b44-428c-9ce7-313bf84528de", "Microsoft Bing Search", LEARN),
    ("cf53fce8-def6-4aeb-8d30-b158e7b1cf83", "Microsoft Stream Portal", LEARN),
    ("d176f6e7-38e5-40c9-8a78-3998aab820e7", "Microsoft Online Syndication Partner Portal", LEARN),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", LEARN),
    ("d73f4b35-55c9-48c7-8b10-651f6f2acb2e", "MCAPI Authorization Prod", LEARN),
    ("e1ef36fd-b883-4dbf-97f0-9ece4b576fc6", "Yammer Web Embed", LEARN),
    ("e64aa8bc-8eb4-40e2-898b-cf261a25954f", "CRM Power BI Integration", LEARN),
    ("e9f49c6b-5ce5-44c8-925d-015017e9f7ad", "Azure Data Lake", LEARN),
    ("ecd6b820-32c2-49b6-98a6-444530e5a77a", "Microsoft Edge", MERILL),
    ("ee272b19-4411-433f-8f28-5c13cb6fd407", "Microsoft 365 Support Service", LEARN),
    ("fc0f3af4-6835-4174-b806-f7db311fd2f3", "Microsoft Intune Windows Agent", LEARN),
    ("fdf9885b-dd37-42bf-82e5-c3129ef5a302", "Microsoft Support", LEARN),
    ("ffcb16e8-f789-467c-8ce9-f826a080d987", "SharedWithMe", LEARN),
];

/// The name of a well-known Microsoft first-party application, by its id (case-insensitive, braces
/// and surrounding spaces ignored). `None` for ids not in the table.
pub fn app_name(app_id: &str) -> Option<&'static str> {
    lookup(app_id).map(|(_, name, _)| name)
}

/// Where the table's entry for this id comes from (one of [`LEARN`], [`MERILL`], [`MC711020`]).
pub fn app_source(app_id: &str) -> Option<&'static str> {
    lookup(app_id).map(|(_, _, source)| source)
}

fn lookup(app_id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let id = app_id.trim().trim_start_matches('{').trim_end_matches('}');
    if id.len() != 36 {
        return None;
    }
    let mut key = [0u8; 36];
    for (k, b) in key.iter_mut().zip(id.bytes()) {
        *k = b.to_ascii_lowercase();
    }
    let key = std::str::from_utf8(&key).ok()?;
    APPS.binary_search_by(|(i, _, _)| (*i).cmp(key)).ok().map(|at| APPS[at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_lower_case_and_unique() {
        for w in APPS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        for (id, name, _) in APPS {
            assert_eq!(id.len(), 36);
            assert_eq!(*id, id.to_ascii_lowercase());
            assert!(!name.is_empty());
        }
    }

    #[test]
    fn names_well_known_apps_case_insensitively() {
        assert_eq!(app_name("00000003-0000-0000-c000-000000000000"), Some("Microsoft Graph"));
        assert_eq!(app_name("00000002-0000-0FF1-CE00-000000000000"), Some("Office 365 Exchange Online"));
        assert_eq!(app_name("{1950A258-227B-4E31-A9CF-717495945FC2}"), Some("Microsoft Azure PowerShell"));
        assert_eq!(app_name(" 27922004-5251-4030-b22d-91ecd9a37ea4 "), Some("Outlook Mobile"));
        assert_eq!(app_name("9199bf20-a13f-4107-85dc-02114787ef48"), Some("One Outlook Web"));
        assert_eq!(app_source("9199bf20-a13f-4107-85dc-02114787ef48"), Some(MC711020));
        assert_eq!(app_source("d3590ed6-52b3-4102-aeff-aad2292ab01c"), Some(LEARN));
        assert_eq!(app_name("eba8c2b2-bea6-4093-4f18-6ce8f240bf43"), None);
        assert_eq!(app_name("not a guid"), None);
        assert_eq!(app_name(""), None);
    }
}
