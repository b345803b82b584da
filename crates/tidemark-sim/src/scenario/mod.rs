//! The simulated tenant's data: a fictional organisation, its mailboxes, D days of ordinary work and a
//! business-email-compromise storyline, all derived from one seed.
//!
//! Why it is shaped like this: every API of the sim (Management blobs, Graph query pages, legacy
//! Activities, offline exports) must tell the same story, and a 10-million-record tenant must not sit in
//! memory. So nothing is stored: the unit of generation is one mailbox-hour, seeded by
//! `(seed, mailbox, hour)`, and any view (an hour of the whole tenant, one mailbox over all days, one
//! message) is recomputed from those slots on demand. The storyline is a short fixed list of events
//! merged into the victim's slots, so the answer key can name exactly which records the attacker made.

mod render;

pub use render::{Activity, AUDIT_RECORD_TYPES};

use chrono::{DateTime, Datelike, Utc, Weekday};
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
    /// Extra client IP addresses for ordinary users, on top of the documentation ranges.
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
    /// The office IP this user normally signs in from.
    pub office_ip: String,
    /// The home IP this user signs in from in the evening.
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
    /// `ual` (a Unified Audit Log record id, also the Graph record id) or `activity` (legacy Activities id).
    pub source: String,
    /// The id.
    pub id: String,
    /// `CreationTime` / `TimeStamp`.
    pub time: String,
    /// UAL operation or `ActivityIdType`.
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
    /// The attacker's session id (in UAL `SessionId` and Activities `ClientSessionId`).
    pub attacker_session: String,
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
/// The attacker's sign-in address (documentation range 203.0.113.0/24).
pub const ATTACKER_IP: &str = "203.0.113.77";
/// The rogue app's API calls come from here.
pub const ATTACKER_APP_IP: &str = "203.0.113.140";
/// The rogue third-party app.
pub const ROGUE_APP_ID: &str = "c1f2d6a4-7b8e-4e21-9a55-3f0e6d2b9c10";
/// Where the attacker forwards the mailbox.
pub const FORWARDING_ADDRESS: &str = "ledger.archive@mailbox-relay.example";
/// The attacker's inbox rule name: a spreadsheet formula, because attackers control it.
pub const INBOX_RULE_NAME: &str = "=HYPERLINK(\"http://203.0.113.77/r\",\"..\")";
const ATTACKER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36 <script>alert(1)</script>";
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
const SUBJECTS: &[&str] = &[
    "Q{n} budget review",
    "Team lunch on Friday",
    "Re: supplier contract draft v{n}",
    "Minutes: weekly operations call",
    "Invoice {n} from Northwind Supplies",
    "Travel request #{n}",
    "Re: customer escalation {n}",
    "Payroll cut-off reminder",
    "Board pack – section {n}",
    "Fw: shipping schedule week {n}",
];
const EXTERNAL_SENDERS: &[&str] =
    &["orders@northwind.example", "billing@contoso-supplies.example", "news@harbourfreight.example"];
const SEARCH_WORDS: &[&str] = &["budget", "contract", "holiday", "minutes", "schedule", "payroll"];
const OWA_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0";
const OUTLOOK_UA: &str = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)";
const MOBILE_UA: &str = "Outlook-iOS/2.0";

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
                format!("192.0.2.{}", 10 + (i % 200))
            } else {
                format!("2001:db8:{:x}::{:x}", 0x100 + i / 200, 10 + i % 200)
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
                office_ip: format!("198.51.100.{}", 20 + (i % 4)),
                home_ip,
            });
        }
        let start_ms = spec.end_ms - i64::from(spec.days) * 24 * HOUR_MS;
        let hours = spec.days * 24;
        let victim = if spec.storyline { Some(if spec.mailboxes >= 2 { 1 } else { 0 }) } else { None };
        let attacker_session = Prng::for_slot(spec.seed, &[0xA77AC4]).guid();
        let mut tenant =
            Tenant { spec, tenant_id, mailboxes, start_ms, hours, storyline: Vec::new(), victim, attacker_session };
        tenant.storyline = tenant.build_storyline();
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

    /// Which records the attacker produced.
    pub fn answer_key(&self) -> Option<AnswerKey> {
        let victim = self.victim()?;
        let mut records = Vec::new();
        for e in self.storyline.iter().filter(|e| e.actor == Actor::Attacker) {
            let stage = e.stage.unwrap_or_default().to_string();
            if let Some(r) = self.ual_record(e) {
                records.push(AnswerEntry {
                    source: "ual".into(),
                    id: e.id.clone(),
                    time: r["CreationTime"].as_str().unwrap_or_default().to_string(),
                    operation: r["Operation"].as_str().unwrap_or_default().to_string(),
                    stage: stage.clone(),
                });
            }
            for a in self.activities(e) {
                records.push(AnswerEntry {
                    source: "activity".into(),
                    id: a.id.clone(),
                    time: crate::wire::iso_ms(a.timestamp_ms),
                    operation: a.id_type.to_string(),
                    stage: stage.clone(),
                });
            }
        }
        records.sort();
        Some(AnswerKey {
            seed: self.spec.seed,
            victim: victim.upn.clone(),
            attacker_ips: vec![ATTACKER_IP.to_string(), ATTACKER_APP_IP.to_string()],
            attacker_session: self.attacker_session.clone(),
            rogue_app_id: ROGUE_APP_ID.to_string(),
            forwarding_address: FORWARDING_ADDRESS.to_string(),
            inbox_rule: INBOX_RULE_NAME.to_string(),
            records,
        })
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

    fn ordinary_hour(&self, mailbox: u32, hour: u32) -> Vec<SimEvent> {
        let seed = self.spec.seed;
        let mut r = Prng::for_slot(seed, &[u64::from(mailbox), u64::from(hour)]);
        let start = self.hour_start(hour);
        let dt = DateTime::<Utc>::from_timestamp_millis(start).unwrap_or_default();
        let hod = dt.time().hour_of_day();
        let weekend = matches!(dt.weekday(), Weekday::Sat | Weekday::Sun);
        let weight = match hod {
            8..=17 => 10.0,
            7 | 18 | 19 => 3.0,
            _ => 1.0,
        } * if weekend { 0.25 } else { 1.0 };
        let expected = f64::from(self.spec.events_per_mailbox_day) * weight / 120.0;
        let mut count = expected.floor() as u32;
        if r.chance(expected - expected.floor()) {
            count += 1;
        }
        let mb = &self.mailboxes[mailbox as usize];
        let day = hour / 24;
        let session = Prng::for_slot(seed, &[u64::from(mailbox), u64::from(day), 0x5E55]).guid();
        let at_office = (8..=17).contains(&hod) && !weekend;
        let ip = if at_office { mb.office_ip.clone() } else { mb.home_ip.clone() };
        let mut out = Vec::with_capacity(count as usize + 1);
        let mut idx: u32 = 0;
        let item = |r: &mut Prng, idx: &mut u32| -> Mail {
            *idx += 1;
            let n = r.range(2, 9999);
            let subject = r.pick(SUBJECTS).replace("{n}", &n.to_string());
            let from = if r.chance(0.6) {
                let o = r.below(u64::from(self.spec.mailboxes)) as usize;
                self.mailboxes[o].upn.clone()
            } else {
                r.pick(EXTERNAL_SENDERS).to_string()
            };
            Mail {
                item_id: encode_item_id(mailbox, hour, *idx, r.next_u64()),
                internet_message_id: format!("<{:016x}{:04}@{}>", r.next_u64(), *idx, domain_of(&from)),
                subject,
                from,
                to: mb.upn.clone(),
                folder: "\\Inbox".to_string(),
                size: 2_000 + r.below(90_000) as u32,
                has_attachment: r.chance(0.3),
                received_ms: start - r.range(60_000, 6 * HOUR_MS),
            }
        };
        if hod == 8 && !weekend {
            out.push(SimEvent {
                time_ms: start + r.range(0, 20 * 60_000),
                id: r.guid(),
                mailbox,
                actor: Actor::Owner,
                stage: None,
                ip: ip.clone(),
                port: r.range(49152, 65535) as u16,
                session: session.clone(),
                client: Client::Owa,
                user_agent: OWA_UA.to_string(),
                kind: Kind::SignIn,
            });
        }
        for _ in 0..count {
            let time_ms = start + r.range(0, HOUR_MS - 1);
            let client = match r.below(10) {
                0..=5 => Client::Owa,
                6..=8 => Client::Outlook,
                _ => Client::Mobile,
            };
            let roll = r.below(100);
            let kind = match roll {
                0..=29 => {
                    let mut m = item(&mut r, &mut idx);
                    m.received_ms = time_ms;
                    Kind::Delivered(m)
                }
                30..=54 => {
                    let n = 1 + r.below(3);
                    Kind::Read((0..n).map(|_| item(&mut r, &mut idx)).collect())
                }
                55..=62 => {
                    let mut m = item(&mut r, &mut idx);
                    m.subject = format!("Re: {}", m.subject);
                    m.from = mb.upn.clone();
                    m.to = r.pick(EXTERNAL_SENDERS).to_string();
                    m.folder = "\\Sent Items".into();
                    m.internet_message_id = format!("<{:016x}{idx:04}@{DOMAIN}>", r.next_u64());
                    Kind::Send(m)
                }
                63..=70 => Kind::Delete(vec![item(&mut r, &mut idx)], "MoveToDeletedItems"),
                71..=75 => Kind::Move(item(&mut r, &mut idx), "\\Archive"),
                76..=80 => Kind::Search(r.pick(SEARCH_WORDS).to_string()),
                81..=84 => Kind::Calendar(format!("1:1 sync #{}", r.range(1, 99))),
                85..=89 => Kind::Sync("\\Inbox"),
                90..=94 => {
                    let mut m = item(&mut r, &mut idx);
                    m.has_attachment = true;
                    Kind::AttachmentOpened(m)
                }
                _ => Kind::SignIn,
            };
            let client = match kind {
                Kind::Sync(_) => Client::Outlook,
                Kind::Delivered(_) => Client::Transport,
                Kind::Search(_) | Kind::SignIn => Client::Owa,
                _ => client,
            };
            let ua = match client {
                Client::Outlook => OUTLOOK_UA,
                Client::Mobile => MOBILE_UA,
                _ => OWA_UA,
            };
            out.push(SimEvent {
                time_ms,
                id: r.guid(),
                mailbox,
                actor: if matches!(kind, Kind::Delivered(_)) { Actor::External } else { Actor::Owner },
                stage: None,
                ip: ip.clone(),
                port: r.range(49152, 65535) as u16,
                session: session.clone(),
                client,
                user_agent: ua.to_string(),
                kind,
            });
        }
        out
    }

    fn build_storyline(&self) -> Vec<SimEvent> {
        let Some(v) = self.victim else { return Vec::new() };
        let mb = &self.mailboxes[v as usize];
        let day = self.spec.days.saturating_sub(2);
        let base = self.hour_start(day * 24);
        let mut r = Prng::for_slot(self.spec.seed, &[0xBEC, u64::from(v)]);
        let at = |h: i64, m: i64, s: i64, ms: i64| base + h * HOUR_MS + m * 60_000 + s * 1000 + ms;
        let mut k: u32 = 0x8000;
        // An item id names the hour whose events reference the message, so `Tenant::message` finds it.
        let mut mail = |r: &mut Prng, time: i64, hour: u32, subject: &str, from: &str, folder: &str| -> Mail {
            k += 1;
            Mail {
                item_id: encode_item_id(v, hour, k, r.next_u64()),
                internet_message_id: format!("<{:016x}@{}>", r.next_u64(), domain_of(from)),
                subject: subject.to_string(),
                from: from.to_string(),
                to: mb.upn.clone(),
                folder: folder.to_string(),
                size: 20_000 + r.below(200_000) as u32,
                has_attachment: true,
                received_ms: time,
            }
        };
        let phish_time = at(8, 47, 12, 310);
        let phish = mail(&mut r, phish_time, day * 24 + 8, PHISH_SUBJECT, "accounts@docs-sign.example", "\\Inbox");
        let finance: Vec<Mail> = (0..6)
            .map(|i| {
                let t = base - i64::from(i + 1) * 26 * HOUR_MS;
                let subj = ["Invoice 4471 – Q1 services", "Wire instructions for March", "Payment run approval"]
                    [i as usize % 3];
                let mut m = mail(&mut r, t, day * 24 + 9, subj, "billing@contoso-supplies.example", "\\Inbox");
                m.received_ms = t;
                m
            })
            .collect();
        let fraud_time = at(10, 25, 3, 12);
        let mut fraud = mail(&mut r, fraud_time, day * 24 + 10, FRAUD_SUBJECT, &mb.upn, "\\Sent Items");
        fraud.to = "billing@contoso-supplies.example".into();
        let owner_session = Prng::for_slot(self.spec.seed, &[u64::from(v), u64::from(day), 0x5E55]).guid();
        let session = self.attacker_session.clone();
        let ev = |r: &mut Prng, t: i64, actor: Actor, stage: &'static str, client: Client, kind: Kind| {
            let (ip, ua, sess) = match (actor, client) {
                (Attacker, Client::RogueApp) => (ATTACKER_APP_IP, "python-httpx/0.27 MailArchiverPro", &session),
                (Attacker, _) => (ATTACKER_IP, ATTACKER_UA, &session),
                _ => (mb.office_ip.as_str(), OWA_UA, &owner_session),
            };
            SimEvent {
                time_ms: t,
                id: r.guid(),
                mailbox: v,
                actor,
                stage: Some(stage),
                ip: ip.to_string(),
                port: r.range(49152, 65535) as u16,
                session: sess.clone(),
                client,
                user_agent: ua.to_string(),
                kind,
            }
        };
        use Actor::{Attacker, External, Owner};
        let mut s = vec![
            ev(&mut r, phish_time, External, "phishing-delivery", Client::Transport, Kind::Delivered(phish.clone())),
            ev(&mut r, at(9, 2, 40, 77), Owner, "phish-opened", Client::Owa, Kind::Read(vec![phish.clone()])),
            ev(&mut r, at(9, 5, 31, 902), Attacker, "aitm-sign-in", Client::Owa, Kind::SignIn),
            ev(
                &mut r,
                at(9, 11, 5, 433),
                Attacker,
                "inbox-rule",
                Client::Owa,
                Kind::NewInboxRule {
                    name: INBOX_RULE_NAME.to_string(),
                    words: "invoice;wire;payment".into(),
                    move_to: "RSS Subscriptions",
                },
            ),
        ];
        for (i, chunk) in finance.chunks(2).enumerate() {
            let t = at(9, 20 + 7 * i as i64, 14, 120 * i as i64);
            s.push(ev(&mut r, t, Attacker, "app-bind-finance-mail", Client::RogueApp, Kind::Read(chunk.to_vec())));
        }
        for (i, q) in ["invoice", "wire", "payment"].iter().enumerate() {
            let t = at(10, 2 + 2 * i as i64, 3, 250);
            s.push(ev(&mut r, t, Attacker, "search", Client::Owa, Kind::Search((*q).to_string())));
        }
        s.push(ev(
            &mut r,
            at(10, 10, 41, 5),
            Attacker,
            "attachment-open",
            Client::Owa,
            Kind::AttachmentOpened(finance[0].clone()),
        ));
        s.push(ev(
            &mut r,
            at(10, 10, 44, 610),
            Attacker,
            "attachment-open",
            Client::Owa,
            Kind::Read(vec![finance[0].clone()]),
        ));
        s.push(ev(&mut r, fraud_time, Attacker, "fraudulent-send", Client::Owa, Kind::Send(fraud.clone())));
        s.push(ev(
            &mut r,
            at(10, 31, 19, 0),
            Attacker,
            "forwarding",
            Client::Owa,
            Kind::SetForwarding(format!("smtp:{FORWARDING_ADDRESS}")),
        ));
        let mut sent_copy = fraud;
        sent_copy.folder = "\\Sent Items".into();
        s.push(ev(
            &mut r,
            at(10, 40, 2, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![sent_copy.clone()], "SoftDelete"),
        ));
        let mut deleted = sent_copy;
        deleted.folder = "\\Deleted Items".into();
        s.push(ev(
            &mut r,
            at(10, 41, 30, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![deleted], "HardDelete"),
        ));
        s.push(ev(
            &mut r,
            at(10, 42, 8, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![phish], "HardDelete"),
        ));
        s
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
