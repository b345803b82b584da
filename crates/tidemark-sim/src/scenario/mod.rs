//! The simulated tenant's data: a fictional organisation, its mailboxes, D days of ordinary work and a
//! business-email-compromise storyline, all derived from one seed.
//!
//! Why it is shaped like this: every API of the sim (Management blobs, Graph query pages, legacy
//! Activities, offline exports) must tell the same story, and a 10-million-record tenant must not sit in
//! memory. So nothing is stored: the unit of generation is one mailbox-hour, seeded by
//! `(seed, mailbox, hour)`, and any view (an hour of the whole tenant, one mailbox over all days, one
//! message) is recomputed from those slots on demand. The storyline is a short fixed list of events
//! merged into the victim's slots, so the answer key can name exactly which records the attacker made.
//! Entra ID's view of the same tenant (sign-ins, [`signin`]; directory audits, [`audit`]) is derived
//! from the same slots, and the attack's sign-ins and audits ([`story`]) are merged the same way.

mod audit;
#[cfg(test)]
mod entra_tests;
mod ordinary;
mod render;
mod signin;
mod story;

pub use audit::{DirectoryAudit, Initiator};
pub use render::{Activity, AUDIT_RECORD_TYPES};
pub use signin::{EntraSignIn, SignInKind};

use serde::Serialize;

use crate::prng::{guid_from, hash_str, mix, Prng};

/// 2025-03-15T00:00:00Z: the default end of every scenario (the tenant's "yesterday at midnight").
pub const DEFAULT_END_MS: i64 = 1_741_996_800_000;
const HOUR_MS: i64 = 3_600_000;

/// What to generate. Presets: [`ScenarioSpec::preset`].
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ScenarioSpec {
    /// Preset name the spec started from (printed, not used for generation).
    pub name: String,
    /// Everything random derives from this.
    pub seed: u64,
    /// Number of mailboxes (at least 1).
    pub mailboxes: u32,
    /// Days of activity ending at `end_ms` (at least 1).
    pub days: u32,
    /// Average activities per mailbox and working day (weekends are quieter).
    pub events_per_mailbox_day: u32,
    /// The end of the scenario (exclusive), Unix ms, at a UTC midnight.
    pub end_ms: i64,
    /// Extra client IP addresses for ordinary users, on top of their internet providers' addresses.
    pub extra_ips: Vec<String>,
    /// Whether the business-email-compromise storyline is played.
    pub storyline: bool,
}

impl ScenarioSpec {
    /// `demo` (8 mailboxes × 10 days), `small` (4 × 3, fast for tests), `large` (2,000 × 30 ≈ 10 M records).
    pub fn preset(name: &str) -> Option<ScenarioSpec> {
        let (mailboxes, days, epd) = match name {
            "demo" => (8, 10, 30),
            "small" => (4, 3, 12),
            "large" => (2000, 30, 165),
            _ => return None,
        };
        Some(ScenarioSpec {
            name: name.to_string(),
            seed: 42,
            mailboxes,
            days,
            events_per_mailbox_day: epd,
            end_ms: DEFAULT_END_MS,
            extra_ips: Vec::new(),
            storyline: true,
        })
    }
}

/// A mailbox (and its owner's account).
#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    /// Position in the tenant.
    pub index: u32,
    /// User principal name, e.g. `lena.okafor@fabrikam.example`.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// Exchange PUID as the UAL `UserKey` carries it.
    pub puid: String,
    /// Entra object id.
    pub object_id: String,
    /// Exchange mailbox GUID.
    pub mailbox_guid: String,
    /// Owner SID.
    pub sid: String,
    /// The office IP this user normally signs in from (a business line of a UK provider).
    pub office_ip: String,
    /// The home IP this user signs in from in the evening (a home broadband provider, IPv4 or IPv6).
    pub home_ip: String,
}

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The mailbox owner.
    Owner,
    /// The attacker of the storyline.
    Attacker,
    /// An external sender (mail delivery).
    External,
}

/// The client a mailbox action came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Outlook on the web.
    Owa,
    /// Windows Outlook.
    Outlook,
    /// Outlook mobile.
    Mobile,
    /// The third-party mail app the attacker consented.
    RogueApp,
    /// Exchange itself (delivery).
    Transport,
}

/// A message as the sim knows it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// EWS-style item id (decodes to mailbox and hour, see [`Tenant::message`]).
    pub item_id: String,
    /// `<…@…>`.
    pub internet_message_id: String,
    /// Subject (may contain attacker-controlled text).
    pub subject: String,
    /// Sender address.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Folder path like `\Inbox`.
    pub folder: String,
    /// Size in bytes.
    pub size: u32,
    /// Whether it has an attachment.
    pub has_attachment: bool,
    /// When it was received (Unix ms).
    pub received_ms: i64,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An Entra sign-in (UserLoggedIn).
    SignIn,
    /// A message was delivered (Activities only; the UAL has no delivery record).
    Delivered(Mail),
    /// MailItemsAccessed Bind of these messages.
    Read(Vec<Mail>),
    /// MailItemsAccessed Sync of a folder.
    Sync(&'static str),
    /// A message was sent.
    Send(Mail),
    /// Messages were deleted with this operation (`MoveToDeletedItems`, `SoftDelete`, `HardDelete`).
    Delete(Vec<Mail>, &'static str),
    /// A message was moved to a folder.
    Move(Mail, &'static str),
    /// A mailbox search.
    Search(String),
    /// A calendar item was created.
    Calendar(String),
    /// An attachment was opened (Activities only).
    AttachmentOpened(Mail),
    /// New-InboxRule with a name, words and a target folder.
    NewInboxRule { name: String, words: String, move_to: &'static str },
    /// Set-Mailbox forwarding to an external address.
    SetForwarding(String),
}

/// One thing that happened in the tenant; it renders into UAL/Graph records and Activities.
#[derive(Debug, Clone)]
pub struct SimEvent {
    /// When (Unix ms, millisecond precision; the UAL shows whole seconds).
    pub time_ms: i64,
    /// The UAL record id.
    pub id: String,
    /// The mailbox it concerns.
    pub mailbox: u32,
    /// Who did it.
    pub actor: Actor,
    /// The storyline stage, for attacker events.
    pub stage: Option<&'static str>,
    /// Client IP (no port).
    pub ip: String,
    /// Client source port (admin cmdlets show `ip:port`).
    pub port: u16,
    /// Session id.
    pub session: String,
    /// Client family.
    pub client: Client,
    /// User agent string.
    pub user_agent: String,
    /// What happened.
    pub kind: Kind,
}

/// One entry of the answer key: a record or activity the attacker produced.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct AnswerEntry {
    /// `ual` (a Unified Audit Log record id, also the Graph record id), `activity` (legacy Activities
    /// id), `signin` (Entra sign-in id) or `directory-audit` (Entra directory audit id).
    pub source: String,
    /// The id.
    pub id: String,
    /// `CreationTime` / `TimeStamp`.
    pub time: String,
    /// UAL operation, `ActivityIdType`, the sign-in's kind (`Sign-in`, `Non-interactive sign-in`,
    /// with its error code when it failed) or the audit's `activityDisplayName`.
    pub operation: String,
    /// Storyline stage.
    pub stage: String,
}

/// The answer key: which records belong to the attacker, and the storyline's indicators.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerKey {
    /// Scenario seed.
    pub seed: u64,
    /// The compromised mailbox.
    pub victim: String,
    /// Attacker IP addresses.
    pub attacker_ips: Vec<String>,
    /// The attacker's session id (in UAL `SessionId`, Activities `ClientSessionId` and the sign-ins'
    /// `sessionId`: captured by the proxy, replayed from the VPN exit and by the consented app).
    pub attacker_session: String,
    /// `uniqueTokenIdentifier` of the token the proxy's successful sign-in issued.
    pub attacker_token: String,
    /// The consented third-party app id.
    pub rogue_app_id: String,
    /// The external forwarding address.
    pub forwarding_address: String,
    /// The inbox rule name.
    pub inbox_rule: String,
    /// Every attacker record, ordered by (source, time, id).
    pub records: Vec<AnswerEntry>,
}

/// The organisation's domain.
pub const DOMAIN: &str = "fabrikam.example";
/// The organisation's display name.
pub const ORG_NAME: &str = "Fabrikam Tidewater Ltd";
/// The attacker's adversary-in-the-middle proxy: the spray and the proxied sign-in come from here. A
/// real DigitalOcean address (AS14061, 206.189.0.0/16 in the bundled data), so enrichment reads it as
/// hosting, as it would in a real case.
pub const ATTACKER_IP: &str = "206.189.117.42";
/// Where the attacker replays the stolen session and works in the mailbox: a commercial VPN exit
/// (PacketHub, AS136787, 31.209.64.0/20 in the bundled data).
pub const ATTACKER_REPLAY_IP: &str = "31.209.71.86";
/// The rogue app's backend: its token refreshes and API calls come from here (M247, AS9009, hosting).
pub const ATTACKER_APP_IP: &str = "37.120.201.93";
/// The rogue third-party app.
pub const ROGUE_APP_ID: &str = "c1f2d6a4-7b8e-4e21-9a55-3f0e6d2b9c10";
/// Its name as it registered itself.
pub const ROGUE_APP_NAME: &str = "MailArchiverPro";
/// Its service principal, created in the tenant by the consent.
pub const ROGUE_SP_ID: &str = "8e3b1d5f-7a9c-4e2b-b6d8-0f1a3c5e7b94";
/// Microsoft Graph's service principal in the tenant (the resource of the consent).
pub const GRAPH_SP_ID: &str = "2f4a6c8e-0b1d-4f3a-9c5e-7d9f1b3a5c68";
/// The MFA service's service principal (it writes the new authenticator to the user object).
pub const MFA_SERVICE_SP_ID: &str = "b9d1f3a5-c7e9-4b1d-8f3a-5c7e9b1d3f52";
/// Where the attacker forwards the mailbox.
pub const FORWARDING_ADDRESS: &str = "ledger.archive@mailbox-relay.example";
/// The attacker's inbox rule name: a spreadsheet formula, because attackers control it.
pub const INBOX_RULE_NAME: &str = "=HYPERLINK(\"http://203.0.113.77/r\",\"..\")";
const ATTACKER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36 <script>alert(1)</script>";
/// The proxy's HTTP client (AiTM kits run on Node.js).
const AITM_UA: &str = "axios/1.7.7";
/// The consented app's backend.
const ROGUE_APP_UA: &str = "python-httpx/0.27 MailArchiverPro";
const PHISH_SUBJECT: &str = "Action required: invoice 4471 overdue <img src=x onerror=alert('tidemark')>";
const FRAUD_SUBJECT: &str = "=1+1 RE: Invoice 4471 – updated bank details @SUM(A1)";

const FIRST: &[&str] = &[
    "Lena", "Omar", "Priya", "Jonas", "Mei", "Tomás", "Aisha", "Nils", "Grace", "Kofi", "Ines", "Ravi", "Sofia",
    "Hugo", "Yara", "Pavel", "Leila", "Marco", "Hana", "Diego",
];
const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Tanaka",
    "Novak",
    "Fischer",
    "Silva",
    "Kowalski",
    "Brennan",
    "Abara",
    "Castillo",
    "Nakamura",
    "Petrov",
    "O'Neill",
    "Duarte",
];
const OWA_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0";

/// The generated tenant. Cheap to hold: mailboxes and the storyline only; records are computed per slot.
#[derive(Debug)]
pub struct Tenant {
    /// The spec it was generated from.
    pub spec: ScenarioSpec,
    /// Tenant (organisation) id.
    pub tenant_id: String,
    /// Mailboxes.
    pub mailboxes: Vec<Mailbox>,
    /// Unix ms of the first hour.
    pub start_ms: i64,
    /// Number of hours.
    pub hours: u32,
    storyline: Vec<SimEvent>,
    signin_story: Vec<EntraSignIn>,
    audit_story: Vec<DirectoryAudit>,
    victim: Option<u32>,
    attacker_session: String,
}

impl Tenant {
    /// Generates the tenant's fixed parts for `spec`.
    pub fn generate(spec: ScenarioSpec) -> Tenant {
        let mut spec = spec;
        spec.mailboxes = spec.mailboxes.max(1);
        spec.days = spec.days.max(1);
        let mut r = Prng::for_slot(spec.seed, &[0x7E4A47]);
        let tenant_id = r.guid();
        let mut mailboxes = Vec::with_capacity(spec.mailboxes as usize);
        let mut ip_pool: Vec<String> = Vec::new();
        for i in 0..spec.mailboxes {
            let mut m = Prng::for_slot(spec.seed, &[0x3A11B0, u64::from(i)]);
            let first = FIRST[(i as usize) % FIRST.len()];
            let last = LAST[(i as usize / FIRST.len() + (i as usize) * 7) % LAST.len()];
            let local = format!("{}.{}", ascii_lower(first), ascii_lower(last).replace('\'', ""));
            let local = if i as usize >= FIRST.len() { format!("{local}{i}") } else { local };
            let home_ip = if !spec.extra_ips.is_empty() && i % 3 == 2 {
                spec.extra_ips[(i as usize / 3) % spec.extra_ips.len()].clone()
            } else if i % 2 == 0 {
                // Virgin Media (AS5089) home broadband.
                format!("80.5.{}.{}", i / 200, 10 + (i % 200))
            } else {
                // Sky (AS5607) home broadband, IPv6.
                format!("2a02:c7f:{:x}::{:x}", 0x100 + i / 200, 10 + i % 200)
            };
            ip_pool.push(home_ip.clone());
            mailboxes.push(Mailbox {
                index: i,
                upn: format!("{local}@{DOMAIN}"),
                display_name: format!("{first} {last}"),
                puid: format!("1003{:012X}", m.next_u64() & 0xFFFF_FFFF_FFFF),
                object_id: m.guid(),
                mailbox_guid: m.guid(),
                sid: format!(
                    "S-1-5-21-{}-{}-{}-{}",
                    1_000_000_000 + m.below(999_999_999),
                    1_000_000_000 + m.below(999_999_999),
                    1_000_000_000 + m.below(999_999_999),
                    10_000 + i
                ),
                // The office's BT (AS2856) business line: four addresses.
                office_ip: format!("31.49.58.{}", 20 + (i % 4)),
                home_ip,
            });
        }
        let start_ms = spec.end_ms - i64::from(spec.days) * 24 * HOUR_MS;
        let hours = spec.days * 24;
        let victim = if spec.storyline { Some(if spec.mailboxes >= 2 { 1 } else { 0 }) } else { None };
        let attacker_session = Prng::for_slot(spec.seed, &[0xA77AC4]).guid();
        let mut tenant = Tenant {
            spec,
            tenant_id,
            mailboxes,
            start_ms,
            hours,
            storyline: Vec::new(),
            signin_story: Vec::new(),
            audit_story: Vec::new(),
            victim,
            attacker_session,
        };
        tenant.storyline = tenant.build_storyline();
        (tenant.signin_story, tenant.audit_story) = tenant.build_entra_story();
        tenant
    }

    /// The compromised mailbox, if the storyline is on.
    pub fn victim(&self) -> Option<&Mailbox> {
        self.victim.map(|v| &self.mailboxes[v as usize])
    }

    /// The mailbox with this UPN (case-insensitive).
    pub fn mailbox_by_upn(&self, upn: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| m.upn.eq_ignore_ascii_case(upn))
    }

    /// The hour index containing `ms` (clamped to the scenario).
    pub fn hour_of(&self, ms: i64) -> i64 {
        (ms - self.start_ms).div_euclid(HOUR_MS)
    }

    /// Unix ms of the start of hour `h`.
    pub fn hour_start(&self, h: u32) -> i64 {
        self.start_ms + i64::from(h) * HOUR_MS
    }

    /// Everything that happened in one hour in the whole tenant, ordered by (time, id).
    pub fn hour_events(&self, hour: u32) -> Vec<SimEvent> {
        let mut all = Vec::new();
        for m in 0..self.spec.mailboxes {
            all.extend(self.mailbox_hour(m, hour));
        }
        all.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// The UAL records of one hour, in event order.
    pub fn hour_records(&self, hour: u32) -> Vec<serde_json::Value> {
        self.hour_events(hour).iter().filter_map(|e| self.ual_record(e)).collect()
    }

    /// Calls `f` with every UAL record of the tenant in time order, one hour at a time.
    pub fn for_each_record(&self, mut f: impl FnMut(&SimEvent, &serde_json::Value)) {
        for h in 0..self.hours {
            for e in self.hour_events(h) {
                if let Some(r) = self.ual_record(&e) {
                    f(&e, &r);
                }
            }
        }
    }

    /// All Activities of one mailbox in time order (generated hour by hour).
    pub fn mailbox_activities(&self, mailbox: u32) -> Vec<Activity> {
        let mut out = Vec::new();
        for h in 0..self.hours {
            for e in self.mailbox_hour(mailbox, h) {
                out.extend(self.activities(&e));
            }
        }
        out.sort_by(|a, b| a.timestamp_ms.cmp(&b.timestamp_ms).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The message with this item id in this mailbox, if the sim ever generated it.
    pub fn message(&self, mailbox: u32, item_id: &str) -> Option<Mail> {
        let (m, h) = decode_item_id(item_id)?;
        if m != mailbox || h >= self.hours {
            return None;
        }
        self.mailbox_hour(m, h).into_iter().find_map(|e| e.mails().into_iter().find(|x| x.item_id == item_id))
    }

    /// One mailbox-hour: ordinary work seeded by `(seed, mailbox, hour)` plus any storyline events.
    pub fn mailbox_hour(&self, mailbox: u32, hour: u32) -> Vec<SimEvent> {
        let mut out = self.ordinary_hour(mailbox, hour);
        out.extend(
            self.storyline
                .iter()
                .filter(|e| e.mailbox == mailbox && self.hour_of(e.time_ms) == i64::from(hour))
                .cloned(),
        );
        out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        out
    }
}

impl SimEvent {
    /// The messages this event touches.
    pub fn mails(&self) -> Vec<Mail> {
        match &self.kind {
            Kind::Delivered(m) | Kind::Send(m) | Kind::Move(m, _) | Kind::AttachmentOpened(m) => vec![m.clone()],
            Kind::Read(v) | Kind::Delete(v, _) => v.clone(),
            _ => Vec::new(),
        }
    }
}

trait HourOfDay {
    fn hour_of_day(&self) -> u32;
}

impl HourOfDay for chrono::NaiveTime {
    fn hour_of_day(&self) -> u32 {
        chrono::Timelike::hour(self)
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit('@').next().unwrap_or(DOMAIN)
}

/// `AAMkAG` + mailbox, hour and item number in hex + a salt: opaque to clients, decodable by the sim.
fn encode_item_id(mailbox: u32, hour: u32, idx: u32, salt: u64) -> String {
    format!("AAMkAG{mailbox:08x}{hour:08x}{idx:08x}{:016x}AAA=", mix(salt))
}

fn decode_item_id(id: &str) -> Option<(u32, u32)> {
    let hex = id.strip_prefix("AAMkAG")?;
    if hex.len() < 24 {
        return None;
    }
    let m = u32::from_str_radix(hex.get(0..8)?, 16).ok()?;
    let h = u32::from_str_radix(hex.get(8..16)?, 16).ok()?;
    Some((m, h))
}

/// A stable id for derived things (activities), from a parent id and an index.
pub fn derived_id(parent: &str, k: u32) -> String {
    let h = hash_str(parent);
    let a = mix(h ^ u64::from(k));
    let b = mix(a ^ 0xAC7);
    format!("AAMkAGI{}", &guid_from(a, b).replace('-', "")[..30]) + "AAA="
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_tenant_and_item_ids_resolve() {
        let a = Tenant::generate(ScenarioSpec::preset("small").unwrap());
        let b = Tenant::generate(ScenarioSpec::preset("small").unwrap());
        assert_eq!(a.tenant_id, b.tenant_id);
        let ha: Vec<String> = a.hour_events(9 + 24).iter().map(|e| e.id.clone()).collect();
        let hb: Vec<String> = b.hour_events(9 + 24).iter().map(|e| e.id.clone()).collect();
        assert_eq!(ha, hb);
        assert!(!ha.is_empty());
        let e = a.hour_events(9 + 24).into_iter().find(|e| !e.mails().is_empty()).unwrap();
        let m = &e.mails()[0];
        assert_eq!(a.message(e.mailbox, &m.item_id).unwrap().internet_message_id, m.internet_message_id);
    }

    #[test]
    fn storyline_is_in_the_victims_hours() {
        let t = Tenant::generate(ScenarioSpec::preset("small").unwrap());
        let key = t.answer_key().unwrap();
        assert!(key.records.iter().any(|r| r.operation == "New-InboxRule"));
        assert!(key.records.iter().any(|r| r.operation == "SearchSuggestionsDisplay"));
        let victim = t.victim().unwrap().index;
        let acts = t.mailbox_activities(victim);
        for r in key.records.iter().filter(|r| r.source == "activity") {
            assert!(acts.iter().any(|a| a.id == r.id), "{r:?}");
        }
    }
}
