//! Demo data for `serve --demo`: customers with identities on several channels,
//! conversations with messages and ratings, unknown contacts and one blacklisted customer.
//! Everything goes through the same services as real traffic, so the demo shows real
//! behaviour (counters, history, auto-linking).

use chrono::TimeDelta;

use crate::db::conversations::WebMetadata;
use crate::db::properties::{self, NewProperty};
use crate::db::types::AuthorKind;
use crate::db::{DbConnection, customers, now, tags};
use crate::domain::Role;
use crate::domain::customer::Actor;
use crate::domain::property::RawValue;
use crate::error::AppError;
use crate::services::conversations::{self as traffic, Author};
use crate::services::inbound::{self, Inbound};
use crate::services::profiles::{self, Editor, ProfileEdit};

const FIRST: [&str; 20] = [
    "Ada", "Ivo", "Maja", "Luka", "Sara", "Marko", "Ana", "Tomás", "Yuki", "Fatima", "Olivia",
    "Noah", "Chen", "Priya", "Lars", "Amara", "Mateo", "Zoe", "Omar", "Elena",
];
const LAST: [&str; 15] = [
    "Lovelace", "Horvat", "Kovač", "Novak", "García", "Tanaka", "Haddad", "Smith", "Wang", "Patel",
    "Jensen", "Okafor", "Rossi", "Müller", "Dubois",
];
const CITIES: [(&str, &str); 8] = [
    ("Zagreb", "HR"),
    ("London", "GB"),
    ("Paris", "FR"),
    ("Berlin", "DE"),
    ("Madrid", "ES"),
    ("Tokyo", "JP"),
    ("New York", "US"),
    ("Lagos", "NG"),
];
const OPENERS: [&str; 6] = [
    "Hi, where is my order?",
    "Can I change my delivery address?",
    "The app logs me out every day.",
    "Do you ship to Norway?",
    "I was charged twice.",
    "Thanks for the quick help last time!",
];

/// Demo traffic never says the keyword, so no link is ever built from this.
const DEMO_BASE_URL: &str = "http://127.0.0.1:8080";

/// A tiny deterministic generator, so every demo database looks the same.
struct Seq(u64);

impl Seq {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.next()).unwrap_or(0) % items.len();
        &items[index]
    }
}

/// Fills an empty database with `count` demo customers; does nothing when customers exist.
/// Returns how many were created.
pub fn seed(conn: &mut DbConnection, count: usize) -> Result<usize, AppError> {
    if !customers::list_customers(conn, None, 1)?.is_empty() {
        return Ok(0);
    }
    let at = now();
    for (key, label, ty, choices) in [
        (
            "loyalty_tier",
            "Loyalty tier",
            "single_choice",
            r#"["Bronze","Silver","Gold"]"#,
        ),
        (
            "interests",
            "Interests",
            "multiple_choice",
            r#"["Sports","Music","Travel","Tech"]"#,
        ),
        ("birthday", "Birthday", "date", "[]"),
    ] {
        if !properties::key_exists(conn, key)? {
            properties::insert_property(
                conn,
                &NewProperty {
                    key,
                    label,
                    kind: "custom",
                    value_type: ty,
                    choices: choices.to_owned(),
                    agent_access: "edit",
                    customer_access: "hidden",
                    position: 200,
                    created_at: at,
                    updated_at: at,
                },
            )?;
        }
    }
    for (name, color) in [
        ("VIP", "#c0352b"),
        ("Enterprise", "#2456d6"),
        ("Newsletter", "#1f7a4d"),
    ] {
        if !tags::name_taken(conn, name, None)? {
            tags::insert_tag(conn, name, color)?;
        }
    }
    let all_tags = tags::list_tags(conn)?;
    let registry = properties::list_properties(conn)?;
    let system = Actor::System;
    let agent = Author {
        kind: AuthorKind::Agent,
        user_id: None,
        name: "Demo Agent",
    };
    let mut seq = Seq(42);
    for i in 0..count {
        let first = *seq.pick(&FIRST);
        let last = *seq.pick(&LAST);
        let (city, country) = *seq.pick(&CITIES);
        let phone = format!("+38591{:07}", 1_000_000 + i);
        let email = format!(
            "{}.{}{i}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace(['č', 'ü', 'á'], "c")
        );
        let tier = *seq.pick(&["Bronze", "Silver", "Gold"]);
        let edit = ProfileEdit {
            values: vec![
                ("name".to_owned(), RawValue::One(format!("{first} {last}"))),
                ("phone".to_owned(), RawValue::One(phone.clone())),
                ("email".to_owned(), RawValue::One(email.clone())),
                ("city".to_owned(), RawValue::One(city.to_owned())),
                ("country".to_owned(), RawValue::One(country.to_owned())),
                ("loyalty_tier".to_owned(), RawValue::One(tier.to_owned())),
                (
                    "interests".to_owned(),
                    RawValue::Many(vec![
                        (*seq.pick(&["Sports", "Music", "Travel", "Tech"])).to_owned(),
                    ]),
                ),
            ],
            lifecycle: Some(
                (*seq.pick(&[
                    "prospect", "customer", "active", "at_risk", "churned", "vip",
                ]))
                .to_owned(),
            ),
        };
        let customer = profiles::create_customer(
            conn,
            &registry,
            &system,
            Editor::Staff(Role::Supervisor),
            &edit,
        )?;
        if seq.next().is_multiple_of(3) {
            let tag = seq.pick(&all_tags).id;
            profiles::set_tag(conn, customer.id, tag, true, &system)?;
        }
        // Traffic on one or two channels; phone and e-mail identities link by themselves.
        let channels: Vec<(&str, String)> = match seq.next() % 3 {
            0 => vec![("whatsapp", phone.clone())],
            1 => vec![("email", email.clone()), ("sms", phone.clone())],
            _ => vec![("whatsapp", phone.clone()), ("email", email.clone())],
        };
        for (channel, external_id) in channels {
            let conversations = 1 + seq.next() % 2;
            for c in 0..conversations {
                let days_ago = i64::try_from(seq.next() % 60).unwrap_or(0) + 1;
                let sent = (chrono::Utc::now() - TimeDelta::days(days_ago)
                    + TimeDelta::minutes(i64::try_from(c).unwrap_or(0) * 5))
                .to_rfc3339();
                let outcome = inbound::receive(
                    conn,
                    &Inbound {
                        channel: channel.to_owned(),
                        external_id: external_id.clone(),
                        display_name: Some(first.to_owned()),
                        text: (*seq.pick(&OPENERS)).to_owned(),
                        message_id: None,
                        sent_at: Some(sent),
                        account: None,
                        web: WebMetadata::default(),
                    },
                    DEMO_BASE_URL,
                )?;
                if let Some(id) = outcome.conversation_id {
                    let conversation = crate::db::conversations::get_conversation(conn, id)?;
                    traffic::send(
                        conn,
                        &conversation,
                        &agent,
                        "Thanks for reaching out — let me check that for you.",
                    )?;
                    if c + 1 < conversations {
                        crate::db::conversations::close_conversation(conn, id)?;
                    }
                    if seq.next().is_multiple_of(2) {
                        traffic::rate(conn, id, i64::try_from(1 + seq.next() % 5).unwrap_or(5))?;
                    }
                }
            }
        }
        if i == 7 {
            traffic::set_blacklisted(
                conn,
                customer.id,
                Some("Repeated abusive messages"),
                &system,
            )?;
        }
    }
    // Unknown contacts: a web visitor and a Telegram user nobody has linked yet.
    for (channel, external_id, name, web) in [
        (
            "web",
            "visitor-8f2c",
            None,
            WebMetadata {
                ip: Some("203.0.113.24".to_owned()),
                region: Some("Zagreb, HR".to_owned()),
                user_agent: Some("Mozilla/5.0 (Android 14) Chrome/131".to_owned()),
                source: Some("https://shop.example/checkout".to_owned()),
            },
        ),
        (
            "telegram",
            "987654321",
            Some("Nikola".to_owned()),
            WebMetadata::default(),
        ),
        (
            "instagram",
            "@coffee.lover",
            Some("coffee.lover".to_owned()),
            WebMetadata::default(),
        ),
    ] {
        inbound::receive(
            conn,
            &Inbound {
                channel: channel.to_owned(),
                external_id: external_id.to_owned(),
                display_name: name,
                text: "Hello, is anybody there?".to_owned(),
                message_id: None,
                sent_at: None,
                account: None,
                web,
            },
            DEMO_BASE_URL,
        )?;
    }
    // The demo has no channel behind it: show its replies as delivered.
    crate::db::outbox::mark_all_pending_delivered(conn)?;
    Ok(count)
}
