//! Ordinary work: what each mailbox does in one hour (mail delivered, read, sent, deleted, moved,
//! searched, calendar items, sign-ins), seeded by `(seed, mailbox, hour)`.
//!
//! Working hours are busier than evenings and weekends; people work from the office on weekdays and
//! from home otherwise, one session per mailbox and day. Everything a mailbox-hour holds is drawn
//! from its own stream, so any hour is recomputed on demand without the others.

use chrono::{DateTime, Datelike, Utc, Weekday};

use super::*;

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
const OUTLOOK_UA: &str = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)";
const MOBILE_UA: &str = "Outlook-iOS/2.0";

impl Tenant {
    pub(super) fn ordinary_hour(&self, mailbox: u32, hour: u32) -> Vec<SimEvent> {
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
}
