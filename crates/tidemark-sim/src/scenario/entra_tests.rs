//! The Entra side of the tenant against the mailbox side and the bundled IP data: the attacker's
//! addresses read as hosting/VPN and the users' as ordinary providers, the proxied sign-in is the
//! UAL's `UserLoggedIn`, the stolen session shows from two networks, and the answer key names every
//! attacker sign-in and audit.

use std::collections::BTreeSet;

use tidemark_ipintel::{IpClass, IpIntel};

use super::*;

fn small() -> Tenant {
    Tenant::generate(ScenarioSpec::preset("small").unwrap())
}

#[test]
fn attackers_use_hosting_and_vpn_networks_and_users_their_providers() {
    let ip = IpIntel::bundled();
    let look = |a: &str| ip.lookup_str(a).unwrap();
    assert_eq!((look(ATTACKER_IP).class, look(ATTACKER_IP).asn), (IpClass::Hosting, Some(14061)));
    assert_eq!((look(ATTACKER_REPLAY_IP).class, look(ATTACKER_REPLAY_IP).asn), (IpClass::Vpn, Some(136787)));
    assert_eq!((look(ATTACKER_APP_IP).class, look(ATTACKER_APP_IP).asn), (IpClass::Hosting, Some(9009)));
    assert_eq!(look(signin::BACKUP_APP_IP).class, IpClass::Microsoft);
    let t = Tenant::generate(ScenarioSpec { mailboxes: 12, ..ScenarioSpec::preset("small").unwrap() });
    for m in &t.mailboxes {
        for a in [&m.office_ip, &m.home_ip] {
            let info = look(a);
            assert_eq!(info.class, IpClass::Public, "{a}: {info:?}");
            assert_eq!(info.country.as_deref(), Some("GB"), "{a}");
        }
    }
}

#[test]
fn the_proxied_sign_in_is_the_mailbox_records_user_logged_in() {
    let t = small();
    let key = t.answer_key().unwrap();
    let victim = t.victim().unwrap().index;
    let login = t.storyline.iter().find(|e| e.stage == Some("aitm-sign-in")).unwrap();
    let ual = t.ual_record(login).unwrap();
    assert_eq!(ual["ClientIP"], ATTACKER_IP);
    let hour = t.hour_of(login.time_ms) as u32;
    let signins = t.mailbox_hour_signins(victim, hour);
    let ok = signins.iter().find(|s| s.stage == Some("aitm-sign-in") && s.error_code == 0).unwrap();
    assert_eq!(
        (ok.time_ms, ok.ip.as_str(), ok.session.as_str()),
        (login.time_ms, ATTACKER_IP, key.attacker_session.as_str())
    );
    assert_eq!(ok.token_id, key.attacker_token);
    assert_eq!(
        (ual["IntraSystemId"].as_str(), ual["InterSystemsId"].as_str()),
        (Some(ok.id.as_str()), Some(ok.correlation_id.as_str()))
    );
    let v = t.signin_json(ok, true);
    assert_eq!(v["appId"], "4765445b-32c6-49b0-83e6-1d93765276ca");
    assert_eq!(v["userAgent"], "axios/1.7.7");
    assert_eq!(v["authenticationRequirement"], "multiFactorAuthentication");
    assert!(v["createdDateTime"].as_str().unwrap().ends_with("0000Z"));
    let before: Vec<u32> = signins
        .iter()
        .filter(|s| s.stage == Some("aitm-sign-in") && s.time_ms < ok.time_ms)
        .map(|s| s.error_code)
        .collect();
    assert_eq!(before, [50126, 50126, 50074]);
    // v1.0 leaves out beta's properties.
    let v1 = t.signin_json(ok, false);
    assert!(v1.get("sessionId").is_none() && v1.get("userAgent").is_none() && v1["isInteractive"] == true);
}

#[test]
fn the_stolen_session_shows_from_two_networks_and_the_consent_grants_mail_access() {
    let t = small();
    let key = t.answer_key().unwrap();
    let mut networks = BTreeSet::new();
    t.for_each_signin(|s| {
        if s.session == key.attacker_session {
            networks.insert(s.ip.clone());
        }
    });
    assert!(networks.contains(ATTACKER_IP) && networks.contains(ATTACKER_REPLAY_IP), "{networks:?}");
    let mut audits = Vec::new();
    t.for_each_audit(|a| {
        if a.actor == Actor::Attacker {
            audits.push(t.audit_json(a));
        }
    });
    let names: Vec<&str> = audits.iter().map(|a| a["activityDisplayName"].as_str().unwrap()).collect();
    for want in ["User registered security info", "Consent to application", "Add delegated permission grant"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let consent = audits.iter().find(|a| a["activityDisplayName"] == "Consent to application").unwrap().to_string();
    assert!(consent.contains("Mail.ReadWrite") && consent.contains("offline_access") && consent.contains(ROGUE_APP_ID));
    assert!(audits
        .iter()
        .all(|a| a["initiatedBy"]["user"].is_null() || a["initiatedBy"]["user"]["ipAddress"] == ATTACKER_REPLAY_IP));
    // The app reads mail after the consent, from its own network.
    let consent_ms = t.audit_story.iter().find(|a| a.activity == "Consent to application").unwrap().time_ms;
    let reads: Vec<&SimEvent> = t.storyline.iter().filter(|e| e.client == Client::RogueApp).collect();
    assert!(!reads.is_empty() && reads.iter().all(|e| e.time_ms > consent_ms && e.ip == ATTACKER_APP_IP));
}

#[test]
fn the_answer_key_names_every_attacker_sign_in_and_audit_and_nothing_else() {
    let t = small();
    let key = t.answer_key().unwrap();
    let keyed = |src: &str| -> BTreeSet<String> {
        key.records.iter().filter(|r| r.source == src).map(|r| r.id.clone()).collect()
    };
    let (mut si, mut au) = (BTreeSet::new(), BTreeSet::new());
    let mut all_signins = 0;
    t.for_each_signin(|s| {
        all_signins += 1;
        if s.actor == Actor::Attacker {
            si.insert(s.id.clone());
        }
    });
    t.for_each_audit(|a| {
        if a.actor == Actor::Attacker {
            au.insert(a.id.clone());
        }
    });
    assert_eq!(keyed("signin"), si);
    assert_eq!(keyed("directory-audit"), au);
    assert!(si.len() >= 12 && au.len() == 5, "{} {}", si.len(), au.len());
    assert!(all_signins > 100, "{all_signins}");
    assert_eq!(key.attacker_ips, [ATTACKER_IP, ATTACKER_REPLAY_IP, ATTACKER_APP_IP]);
}

#[test]
fn sign_ins_are_per_hour_deterministic_and_have_every_kind() {
    let (a, b) = (small(), small());
    let mut kinds = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for h in 0..a.hours {
        let (x, y) = (a.hour_signins(h), b.hour_signins(h));
        assert_eq!(x.iter().map(|s| &s.id).collect::<Vec<_>>(), y.iter().map(|s| &s.id).collect::<Vec<_>>());
        for s in x {
            assert_eq!(a.hour_of(s.time_ms), i64::from(h), "{s:?}");
            assert!(ids.insert(s.id.clone()), "{} twice", s.id);
            kinds.insert((s.kind, s.error_code));
        }
        // Every UserLoggedIn of the mailbox records is an interactive sign-in of the sign-in log: its
        // IntraSystemId is the sign-in's id.
        let ids_here: BTreeSet<String> = a.hour_signins(h).into_iter().map(|s| s.id).collect();
        for r in a.hour_records(h).iter().filter(|r| r["Operation"] == "UserLoggedIn") {
            assert!(ids_here.contains(r["IntraSystemId"].as_str().unwrap()), "{r}");
        }
        for au in a.hour_audits(h) {
            assert_eq!(a.hour_of(au.time_ms), i64::from(h));
        }
    }
    for want in [
        (SignInKind::Interactive, 0),
        (SignInKind::Interactive, 50126),
        (SignInKind::Interactive, 50074),
        (SignInKind::NonInteractive, 0),
        (SignInKind::ServicePrincipal, 0),
    ] {
        assert!(kinds.contains(&want), "{want:?} missing: {kinds:?}");
    }
}
