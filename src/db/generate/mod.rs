//! `clientele generate`: fills a database with realistic customers for benchmarks — 1 to 3
//! identities on varied channels, tags, custom property values, lifecycle stages, about two
//! conversations of about five messages each, creation times over two years. Rows go in a
//! few thousand customers per transaction: on SQLite as multi-row INSERTs of generated
//! literals (numbers and text from fixed lists, quotes doubled), on PostgreSQL as COPY. The
//! search index and every counter are written as the application would write them. A
//! large load into an empty database builds the secondary indexes at the end (and on
//! PostgreSQL adds its foreign keys back). The rows
//! are made on a thread of their own while the database writes the previous batch.

use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

use crate::db::{self, DbConnection};
use crate::domain::customer::public_id_for;
use crate::domain::search::{SEARCH_VERSION, TermKind, fold, search_text, terms};

#[macro_use]
mod load;
pub use load::SetAside;
use load::{Lit, Rows};
mod samples;
use samples::{CHANNELS, CITIES, FIRST, LAST, LIFECYCLES, LINES, PLANS, TAGS};

/// Customers written per transaction.
const BATCH: u64 = 2_000;

/// Ids the generator needs from the registry: tags and two custom properties.
fn prepare(conn: &mut DbConnection) -> anyhow::Result<(Vec<i64>, i64, i64)> {
    use crate::db::properties::{self, NewProperty};
    let mut tag_ids = Vec::new();
    for (i, name) in TAGS.iter().enumerate() {
        let key = name.to_lowercase();
        if !crate::db::tags::name_taken(conn, name, None)? {
            let color = crate::domain::customer::TAG_COLORS[i % 8].0;
            crate::db::tags::insert_tag(conn, name, color)?;
        }
        let tag = crate::db::tags::list_tags(conn)?
            .into_iter()
            .find(|t| t.name.to_lowercase() == key)
            .ok_or_else(|| anyhow::anyhow!("tag {name} missing"))?;
        tag_ids.push(tag.id.0);
    }
    let mut property = |key: &str, ty: &str, choices: &[&str]| -> anyhow::Result<i64> {
        let registry = properties::list_properties(conn)?;
        if let Some(found) = registry.iter().find(|p| p.key == key) {
            return Ok(found.id.0);
        }
        let at = db::now();
        let choices = serde_json::to_string(choices)?;
        let label = format!("{}{}", key[..1].to_uppercase(), &key[1..]);
        Ok(properties::insert_property(
            conn,
            &NewProperty {
                key,
                label: &label,
                kind: "custom",
                value_type: ty,
                choices,
                agent_access: "edit",
                customer_access: "hidden",
                position: 500,
                created_at: at,
                updated_at: at,
            },
        )?
        .0)
    };
    let plan = property("plan", "single_choice", &PLANS)?;
    let score = property("score", "number", &[])?;
    Ok((tag_ids, plan, score))
}

/// What the row maker hands back once every batch is made: the counters and lists written
/// after the rows.
struct Made {
    tag_counts: Vec<i64>,
    duplicated: Vec<super::types::CustomerId>,
    name_words: std::collections::BTreeSet<String>,
}

/// Below this many customers the indexes stay in place while loading.
const BUILD_INDEXES_AFTER: u64 = 100_000;

fn next_id(conn: &mut DbConnection, table: &str) -> diesel::QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Max {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        next: i64,
    }
    let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM {table}");
    Ok(diesel::sql_query(sql).get_result::<Max>(conn)?.next)
}

/// How far back the generated customers' creation times reach (two years, in seconds).
const CREATED_SPAN: i64 = 2 * 365 * 86_400;

/// When the `index`-th of `count` generated customers was created. Customers are
/// numbered in the order they arrive (imports and the API alike), so creation times rise
/// with the id over [`CREATED_SPAN`], each a random moment of its own step.
fn created_at(
    now: NaiveDateTime,
    index: u64,
    count: u64,
    rng: &mut fastrand::Rng,
) -> NaiveDateTime {
    let step = (CREATED_SPAN as u64 / count.max(1)).max(1);
    let offset = (index as u128 * CREATED_SPAN as u128 / count.max(1) as u128) as i64;
    now - Duration::seconds(CREATED_SPAN) + Duration::seconds(offset + rng.i64(0..step as i64))
}

/// Writes `count` customers; prints progress; returns how long it took.
pub fn generate(
    conn: &mut DbConnection,
    count: u64,
    seed: u64,
) -> anyhow::Result<std::time::Duration> {
    generate_building_indexes_after(conn, count, seed, BUILD_INDEXES_AFTER)
}

/// [`generate`], setting the indexes aside into an empty database from
/// `build_indexes_after` customers on (the tests load a few hundred that way).
pub fn generate_building_indexes_after(
    conn: &mut DbConnection,
    count: u64,
    seed: u64,
    build_indexes_after: u64,
) -> anyhow::Result<std::time::Duration> {
    let started = Instant::now();
    let (tag_ids, plan_property, score_property) = prepare(conn)?;
    let postgres = matches!(conn, DbConnection::Postgresql(_));
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute(
            "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; PRAGMA threads = 2;",
        )?;
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let now = db::now();
    let mut customer_id = next_id(conn, "customers")?;
    let first_id = customer_id;
    let mut identity_id = next_id(conn, "channel_identities")?;
    let mut conversation_id = next_id(conn, "conversations")?;
    let mut tag_counts = vec![0_i64; tag_ids.len()];
    let mut previous_email = String::new();
    let mut duplicated = Vec::new();
    let mut name_words = std::collections::BTreeSet::new();
    // Into an empty database, the secondary indexes are built once at the end: sorting a
    // million keys costs a fraction of inserting them one by one.
    let set_aside = if customer_id == 1 && count >= build_indexes_after {
        SetAside::take(conn)?
    } else {
        SetAside::nothing()
    };
    let terms_template = set_aside.terms_rows(postgres);
    let (to_writer, batches) = std::sync::mpsc::sync_channel::<(u64, [Rows; 8])>(2);
    // The rows are made on a thread of their own while the database writes the previous
    // batch: on two cores, one makes text while the other stores it.
    let tag_ids = &tag_ids;
    let make = move || -> Made {
        let mut made = 0;
        while made < count {
            let size = BATCH.min(count - made);
            made += size;
            let mut customers = rows!(
                postgres,
                customers(
                    id,
                    public_id,
                    name,
                    email,
                    phone,
                    city,
                    country,
                    language,
                    lifecycle,
                    conversations_count,
                    messages_count,
                    last_contact_at,
                    csat_sum,
                    csat_count,
                    csat_average,
                    orders_count,
                    version,
                    created_at,
                    updated_at,
                    sort_name,
                    contact_sort,
                    csat_sort,
                    search_version,
                    search_text,
                )
            );
            let mut terms_rows = terms_template.clone();
            let mut identities = rows!(
                postgres,
                channel_identities(
                    id,
                    channel,
                    external_id,
                    customer_id,
                    display_name,
                    created_at,
                    last_seen_at,
                )
            );
            let mut conversations = rows!(
                postgres,
                conversations(
                    id,
                    identity_id,
                    customer_id,
                    channel,
                    status,
                    direction,
                    started_at,
                    ended_at,
                    last_message_at,
                    messages_count,
                    rating,
                    first_answer_at,
                )
            );
            let mut messages = rows!(
                postgres,
                messages(
                    conversation_id,
                    identity_id,
                    customer_id,
                    direction,
                    author_kind,
                    author_name,
                    body,
                    suppressed,
                    sent_at,
                    created_at,
                )
            );
            let mut tags = rows!(postgres, customer_tags(customer_id, tag_id, created_at));
            let mut values = rows!(
                postgres,
                customer_values(
                    customer_id,
                    property_id,
                    value_text,
                    value_number,
                    created_at
                )
            );
            let mut events = rows!(
                postgres,
                customer_events(
                    customer_id,
                    actor_kind,
                    actor_name,
                    action,
                    customer_version,
                    created_at,
                )
            );
            // The batch's search terms, written in key order: each index page is then
            // visited once per batch instead of once per customer.
            let mut batch_terms: Vec<(i16, String, i64, Option<NaiveDateTime>)> = Vec::new();
            for _ in 0..size {
                let id = customer_id;
                customer_id += 1;
                let public_id = public_id_for(id);
                let first = FIRST[rng.usize(..FIRST.len())];
                let last = LAST[rng.usize(..LAST.len())];
                let name = format!("{first} {last}");
                let email = format!(
                    "{}.{}{id}@example.com",
                    fold(first),
                    fold(last).replace(' ', "")
                );
                // One customer in 200 holds the previous one's e-mail in capitals: a duplicate
                // for the duplicates list to find.
                let email_value = if id % 200 == 0 && !previous_email.is_empty() {
                    duplicated.push(super::types::CustomerId(id));
                    previous_email.to_uppercase()
                } else {
                    email.clone()
                };
                previous_email = email.clone();
                let phone = format!("+3859{:08}", id % 100_000_000);
                let (city, country) = CITIES[rng.usize(..CITIES.len())];
                let created = created_at(now, (id - first_id) as u64, count, &mut rng);
                // Conversations: 0 to 4, about two; each 2 to 8 messages, about five.
                let mut channels: Vec<&str> = Vec::new();
                for _ in 0..rng.usize(1..=3) {
                    let channel = CHANNELS[rng.usize(..CHANNELS.len())];
                    if !channels.contains(&channel) {
                        channels.push(channel);
                    }
                }
                let mut identity_ids = Vec::new();
                for channel in &channels {
                    let external = match *channel {
                        "whatsapp" | "sms" => phone.clone(),
                        "email" => email.clone(),
                        "telegram" => (100_000_000 + id).to_string(),
                        "instagram" => format!("ig.{id}"),
                        _ => format!("web-{id}"),
                    };
                    identities.push(&[
                        Lit::Int(identity_id),
                        Lit::Text(channel),
                        Lit::Text(&external),
                        Lit::Int(id),
                        Lit::Text(&name),
                        Lit::At(created),
                        Lit::At(created),
                    ]);
                    identity_ids.push((identity_id, *channel));
                    identity_id += 1;
                }
                let (mut conversations_count, mut messages_count) = (0_i64, 0_i64);
                let (mut csat_sum, mut csat_count) = (0_i64, 0_i64);
                let mut last_contact: Option<NaiveDateTime> = None;
                for _ in 0..rng.usize(0..=4) {
                    let (identity, channel) = identity_ids[rng.usize(..identity_ids.len())];
                    let span = (now - created).num_seconds().max(1);
                    let started_at = created + Duration::seconds(rng.i64(0..span));
                    let count = rng.i64(2..=8);
                    let ended = started_at + Duration::minutes(count * 3);
                    let rating = (rng.u8(..3) == 0).then(|| rng.i64(1..=5));
                    if let Some(r) = rating {
                        csat_sum += r;
                        csat_count += 1;
                    }
                    conversations.push(&[
                        Lit::Int(conversation_id),
                        Lit::Int(identity),
                        Lit::Int(id),
                        Lit::Text(channel),
                        Lit::Text("closed"),
                        Lit::Text("inbound"),
                        Lit::At(started_at),
                        Lit::At(ended),
                        Lit::At(ended),
                        Lit::Int(count),
                        rating.map_or(Lit::Null, Lit::Int),
                        // The second message is the agent's (see below).
                        Lit::At(started_at + Duration::minutes(3)),
                    ]);
                    for m in 0..count {
                        let inbound = m % 2 == 0;
                        let at = started_at + Duration::minutes(m * 3);
                        messages.push(&[
                            Lit::Int(conversation_id),
                            Lit::Int(identity),
                            Lit::Int(id),
                            Lit::Text(if inbound { "inbound" } else { "outbound" }),
                            Lit::Text(if inbound { "customer" } else { "agent" }),
                            Lit::Text(if inbound { &name } else { "Agent" }),
                            Lit::Text(LINES[rng.usize(..LINES.len())]),
                            Lit::False,
                            Lit::At(at),
                            Lit::At(at),
                        ]);
                    }
                    conversation_id += 1;
                    conversations_count += 1;
                    messages_count += count;
                    last_contact = last_contact.max(Some(ended));
                }
                let average = (csat_count > 0).then(|| csat_sum as f64 / csat_count as f64);
                let lifecycle = LIFECYCLES[rng.usize(..LIFECYCLES.len())];
                let sort_name = fold(&name);
                let text = search_text(Some(&name), None);
                customers.push(&[
                    Lit::Int(id),
                    Lit::Text(&public_id),
                    Lit::Text(&name),
                    Lit::Text(&email_value),
                    Lit::Text(&phone),
                    Lit::Text(city),
                    Lit::Text(country),
                    Lit::Text("en"),
                    Lit::Text(lifecycle),
                    Lit::Int(conversations_count),
                    Lit::Int(messages_count),
                    last_contact.map_or(Lit::Null, Lit::At),
                    Lit::Int(csat_sum),
                    Lit::Int(csat_count),
                    average.map_or(Lit::Null, Lit::Real),
                    Lit::Int(rng.i64(0..12)),
                    Lit::Int(1),
                    Lit::At(created),
                    Lit::At(created),
                    Lit::Text(&sort_name),
                    Lit::Int(last_contact.map_or(0, |t| t.and_utc().timestamp_micros())),
                    Lit::Int(average.map_or(-1, |a| (a * 1000.0).round() as i64)),
                    Lit::Int(SEARCH_VERSION.into()),
                    Lit::Text(&text),
                ]);
                for (kind, term) in terms(Some(&name), None, &public_id) {
                    if kind == TermKind::NameWord.code() && !name_words.contains(&term) {
                        name_words.insert(term.clone());
                    }
                    // Pair terms carry the creation time (see `search::time_held`).
                    let time = (kind == TermKind::NamePair.code()).then_some(created);
                    batch_terms.push((kind, term, id, time));
                }
                for (i, tag) in tag_ids.iter().enumerate() {
                    if rng.u8(..5) == 0 {
                        tags.push(&[Lit::Int(id), Lit::Int(*tag), Lit::At(created)]);
                        tag_counts[i] += 1;
                    }
                }
                let plan = PLANS[rng.usize(..PLANS.len())];
                values.push(&[
                    Lit::Int(id),
                    Lit::Int(plan_property),
                    Lit::Text(plan),
                    Lit::Null,
                    Lit::At(created),
                ]);
                let score = rng.i64(0..100);
                let score_text = score.to_string();
                values.push(&[
                    Lit::Int(id),
                    Lit::Int(score_property),
                    Lit::Text(&score_text),
                    Lit::Int(score),
                    Lit::At(created),
                ]);
                events.push(&[
                    Lit::Int(id),
                    Lit::Text("system"),
                    Lit::Text("Data generator"),
                    Lit::Text("created"),
                    Lit::Int(1),
                    Lit::At(created),
                ]);
            }
            batch_terms.sort_unstable();
            for (kind, term, id, time) in &batch_terms {
                terms_rows.push(&[
                    Lit::Int((*kind).into()),
                    Lit::Text(term),
                    Lit::Int(*id),
                    time.map_or(Lit::Null, Lit::At),
                ]);
            }
            let batch = [
                customers,
                terms_rows,
                identities,
                conversations,
                messages,
                tags,
                values,
                events,
            ];
            if to_writer.send((size, batch)).is_err() {
                break; // The writer stopped on an error.
            }
        }
        Made {
            tag_counts,
            duplicated,
            name_words,
        }
    };
    let mut write = |batches: std::sync::mpsc::Receiver<(u64, [Rows; 8])>| -> anyhow::Result<()> {
        let mut done = 0;
        for (size, mut batch) in batches {
            db::transaction(conn, |conn| -> diesel::QueryResult<()> {
                for rows in &mut batch {
                    rows.flush(conn)?;
                }
                Ok(())
            })?;
            done += size;
            if done % 50_000 == 0 || done == count {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                println!("{done} customers ({rate:.0}/s)");
            }
        }
        Ok(())
    };
    let (made, written) = std::thread::scope(|scope| {
        let maker = scope.spawn(make);
        let written = write(batches);
        (maker.join(), written)
    });
    let loaded = started.elapsed();
    set_aside.restore(conn)?;
    written?;
    let Made {
        tag_counts,
        duplicated,
        name_words,
    } = made.map_err(|_| anyhow::anyhow!("making the rows failed"))?;
    println!(
        "rows written in {:.1} s, indexes built in {:.1} s",
        loaded.as_secs_f64(),
        (started.elapsed() - loaded).as_secs_f64()
    );
    super::duplicate_checks::queue_checks(conn, &duplicated)?;
    super::search::add_name_words(conn, name_words.iter().map(String::as_str))?;
    for (tag, added) in tag_ids.iter().zip(tag_counts) {
        diesel::sql_query(format!(
            "UPDATE tags SET customers_count = customers_count + {added} WHERE id = {tag}"
        ))
        .execute(conn)?;
    }
    if postgres {
        for table in ["customers", "channel_identities", "conversations"] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(conn)?;
        }
        diesel::sql_query("ANALYZE").execute(conn)?;
    } else {
        // Table statistics only: with per-value samples (sqlite_stat4) SQLite prepares a
        // statement again whenever a bound value changes, which costs more than the plans
        // gain (a fifth of a list page's time at 10,000 customers).
        diesel::sql_query("ANALYZE").execute(conn)?;
        diesel::sql_query("DELETE FROM sqlite_stat4").execute(conn)?;
        diesel::sql_query("ANALYZE sqlite_schema").execute(conn)?;
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_customers_are_created_in_the_order_of_their_ids() {
        let now = crate::db::now();
        let mut rng = fastrand::Rng::with_seed(1);
        for count in [1_u64, 7, 1_000, 1_000_000] {
            let head = count.min(2_000);
            let times: Vec<NaiveDateTime> = (0..head)
                .chain(count.saturating_sub(2_000).max(head)..count)
                .map(|index| created_at(now, index, count, &mut rng))
                .collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "{count}");
            assert!(times[0] >= now - Duration::seconds(CREATED_SPAN), "{count}");
            assert!(*times.last().expect("one") <= now, "{count}");
        }
    }

    #[test]
    fn generated_channels_and_stages_are_ones_the_product_knows() {
        for channel in CHANNELS {
            assert!(
                channel.parse::<crate::domain::channel::Channel>().is_ok(),
                "{channel}"
            );
        }
        for stage in LIFECYCLES {
            assert!(
                stage.parse::<crate::domain::customer::Lifecycle>().is_ok(),
                "{stage}"
            );
        }
    }
}
