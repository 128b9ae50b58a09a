//! Common name words found together by their pairs: the same pages, tiers and totals as
//! collecting each word's customers, and no pairs relied on while a row lacks them.

use clientele::db::listing::{self, Bounds, CustomerFilter, Plans, SortKey, Total};
use clientele::domain::search::FuzzyQuery;

use crate::helpers::{TestApp, spawn_app};

/// Pairs looked up for every multi-word search (every word counts as common).
pub(crate) const BY_PAIRS: Bounds = Bounds {
    collect: 1_000,
    list: Some(1_000),
    common: Some(0),
    pairs: true,
};

/// Each word's customers collected and intersected.
pub(crate) const BY_LISTS: Bounds = Bounds {
    collect: 1_000,
    list: Some(1_000),
    common: None,
    pairs: false,
};

pub(crate) fn name_filter(query: &str) -> CustomerFilter {
    CustomerFilter {
        name: FuzzyQuery::parse(query),
        ..CustomerFilter::default()
    }
}

pub(crate) fn plans(app: &TestApp, query: &str, bounds: Bounds) -> Plans {
    app.with_db(|conn| listing::plan_within(conn, &name_filter(query), bounds).expect("plan"))
}

pub(crate) fn page(app: &TestApp, query: &str, plans: &Plans) -> (Vec<(String, u8)>, Total) {
    let filter = name_filter(query);
    app.with_db(|conn| {
        let found = listing::list_filtered(
            conn,
            &filter,
            plans,
            listing::PageRequest {
                key: SortKey::Name,
                ascending: true,
                after: None,
                limit: 100,
            },
        )
        .expect("list")
        .into_iter()
        .map(|(c, tier)| (c.public_id, tier))
        .collect();
        (
            found,
            listing::total(conn, &filter, plans, None).expect("total"),
        )
    })
}

pub(crate) fn by_pairs(plans: &Plans) -> bool {
    plans.name().is_some_and(|plan| plan.paired)
}

#[tokio::test]
async fn common_words_found_by_pairs_give_the_same_pages_tiers_and_totals() {
    let app = spawn_app().await;
    for name in [
        "Maria Garcia",
        "Garcia Maria",
        "Maria Garcia Lopez",
        "Annamaria Garcia",
        "Maria McGarcia",
        "Marie Garcia",
        "Mario Garcon",
        "Maria Lopez",
        "Jose Garcia",
        "John Smith",
        "Jon Smyth",
        "Johnny Smith",
        "Smith Smithers",
    ] {
        app.create_customer(&[("name", name)]);
    }
    app.create_customer(&[("name", "Robert Jones"), ("nickname", "Maria Garcia")]);
    // Two words the pairs alone answer are listed from them; others are tested by row.
    let listed_by_pairs = |query: &str| {
        let plans = plans(&app, query, BY_PAIRS);
        let plan = plans.name().expect("a name search");
        (plan.partial.is_some(), plan.candidates.is_some())
    };
    assert_eq!(listed_by_pairs("jonh smtih"), (true, false));
    assert_eq!(listed_by_pairs("maria garc"), (false, true), "Annamaria");
    assert_eq!(listed_by_pairs("garcia maria lopez"), (false, true));
    // Three words: the first paired with each other word, the candidates intersected.
    // Left to test: Maria Garcia Lopez, and Maria McGarcia ("garcia" within a word);
    // every other Maria Garcia lacks "lopez".
    let candidates = plans(&app, "garcia maria lopez", BY_PAIRS)
        .name()
        .and_then(|plan| plan.candidates.clone())
        .expect("candidates");
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    // A name of more words than are paired is a candidate of every search by pairs.
    app.create_customer(&[("name", "A B C D E F G H Maria Garcia")]);
    assert_eq!(listed_by_pairs("jonh smtih"), (false, true));
    for (query, paired) in [
        ("maria garc", true),
        ("garc maria", true),
        ("garcia maria lopez", true),
        ("m garcia lopez", true),
        ("maria garcai", true),
        ("jonh smtih", true),
        ("john smith", true),
        ("jo smi", true),
        // One word could hold both: the pairs cannot tell.
        ("smith smi", false),
        ("maria mari", false),
    ] {
        let pairs = plans(&app, query, BY_PAIRS);
        assert_eq!(by_pairs(&pairs), paired, "{query}");
        let (found, total) = page(&app, query, &pairs);
        let (expected, expected_total) = page(&app, query, &plans(&app, query, BY_LISTS));
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(found, expected, "{query}");
        assert_eq!(total, expected_total, "{query}");
        assert_eq!(total, Total::Exact(expected.len() as i64), "{query}");
    }
    // What the pairs must not lose: a word within a longer one on either side, a name of
    // more words than are paired, a nickname, the reversed order.
    let (found, _) = page(&app, "maria garc", &plans(&app, "maria garc", BY_PAIRS));
    let names: Vec<String> = found
        .iter()
        .map(|(id, _)| {
            let customer = app.customer(id);
            customer.name.unwrap_or_default()
        })
        .collect();
    for name in [
        "Maria Garcia",
        "Garcia Maria",
        "Maria Garcia Lopez",
        "Annamaria Garcia",
        "Maria McGarcia",
        "A B C D E F G H Maria Garcia",
        "Robert Jones",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n == "Maria Lopez" || n == "Jose Garcia")
    );
}

#[tokio::test]
async fn pairs_wait_until_every_row_holds_them() {
    use clientele::db::DbConnection;
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    app.create_customer(&[("name", "Maria Garcia")]);
    let older = app.create_customer(&[("name", "Garcia Maria")]);
    // As a row indexed before pairs: its pair terms are missing.
    let sql = format!(
        "DELETE FROM customer_terms WHERE kind = 4 AND customer_id = \
         (SELECT id FROM customers WHERE public_id = '{older}'); \
         UPDATE customers SET search_version = 2 WHERE public_id = '{older}'"
    );
    for statement in sql.split("; ") {
        app.with_db(|conn| match conn {
            DbConnection::Postgresql(c) => diesel::sql_query(statement).execute(c),
            DbConnection::Sqlite(c) => diesel::sql_query(statement).execute(c),
        })
        .expect("downgraded");
    }
    let waiting = plans(&app, "maria garcia", BY_PAIRS);
    assert!(!by_pairs(&waiting), "a row lacks its pairs");
    assert_eq!(page(&app, "maria garcia", &waiting).0.len(), 2);
    let indexed =
        app.with_db(|conn| clientele::db::search::index_pending(conn, 100).expect("index"));
    assert_eq!(indexed, 1);
    let paired = plans(&app, "maria garcia", BY_PAIRS);
    assert!(by_pairs(&paired));
    assert_eq!(page(&app, "maria garcia", &paired).0.len(), 2);
}

#[tokio::test]
async fn a_changed_or_erased_name_leaves_no_word_behind() {
    use clientele::db::schema::{name_word_keys, name_words};
    use clientele::domain::customer::Actor;
    use clientele::domain::search::typo_keys;
    use diesel::prelude::*;
    let app = spawn_app().await;
    app.create_customer(&[("name", "Zofia Wrzesniewska")]);
    let renamed = app.customer(&app.create_customer(&[("name", "Zofia Brzeczyszczykiewicz")]));
    // The words held, each filed under its typo keys and nothing else filed.
    let words = || -> Vec<String> {
        app.with_db(|conn| {
            let held: Vec<String> = name_words::table
                .select(name_words::word)
                .order(name_words::word)
                .load(conn)
                .expect("words");
            let keys: Vec<(String, String)> = name_word_keys::table
                .select((name_word_keys::word, name_word_keys::key))
                .order((name_word_keys::word, name_word_keys::key))
                .load(conn)
                .expect("keys");
            let filed: Vec<(String, String)> = held
                .iter()
                .flat_map(|w| typo_keys(w).into_iter().map(|k| (w.clone(), k)))
                .collect();
            assert_eq!(keys, filed);
            held
        })
    };
    assert_eq!(words(), ["brzeczyszczykiewicz", "wrzesniewska", "zofia"]);
    rename(&app, renamed.id, "Zofia Nowak");
    assert_eq!(words(), ["nowak", "wrzesniewska", "zofia"]);
    app.with_db(|conn| {
        clientele::services::erasure::anonymize(conn, renamed.id, &Actor::System)
            .expect("anonymized")
    });
    assert_eq!(words(), ["wrzesniewska", "zofia"]);
}

/// Renames a customer as a supervisor's edit does.
fn rename(app: &TestApp, customer: clientele::db::types::CustomerId, name: &str) {
    use clientele::domain::customer::Actor;
    use clientele::domain::property::RawValue;
    use clientele::services::profiles::{self, Editor, ProfileEdit};
    app.with_db(|conn| {
        let properties = clientele::db::properties::list_properties(conn).expect("registry");
        let edit = ProfileEdit {
            values: [("name".to_owned(), RawValue::One(name.to_owned()))]
                .into_iter()
                .collect(),
            lifecycle: None,
        };
        profiles::edit_customer(
            conn,
            customer,
            &properties,
            None,
            &Actor::System,
            Editor::Staff(clientele::domain::Role::Supervisor),
            &edit,
        )
        .expect("renamed")
    });
}

#[tokio::test]
async fn pairs_carry_the_creation_time_through_a_rename() {
    let app = spawn_app().await;
    let first = app.customer(&app.create_customer(&[("name", "Ines Okafor")]));
    let renamed = app.customer(&app.create_customer(&[("name", "Ines Adeyemi")]));
    rename(&app, renamed.id, "Okafor Ines");
    let micros = |c: &clientele::db::customers::Customer| c.created_at.and_utc().timestamp_micros();
    let plans = plans(&app, "ines okafor", BY_PAIRS);
    let plan = plans.name().expect("a name plan");
    assert!(plan.paired);
    assert_eq!(
        plan.created.as_deref(),
        Some([(first.id, micros(&first)), (renamed.id, micros(&renamed))].as_slice()),
        "both matches' times come with their pairs, the renamed one's too"
    );
}

pub(crate) type Listed = Vec<(String, u8)>;

/// A search's matches by creation time: listed tier by tier, and paged 25 at a time from
/// its word pairs, with each page's total.
pub(crate) fn both_ways(
    conn: &mut clientele::db::DbConnection,
    filter: &CustomerFilter,
    ascending: bool,
) -> (Listed, Listed, Vec<Total>) {
    use clientele::db::listing::Cursor;
    let plans = listing::plan_within(conn, filter, BY_PAIRS).expect("plan");
    let ids = |page: &[(clientele::db::customers::Customer, u8)]| -> Listed {
        page.iter()
            .map(|(c, t)| (c.public_id.clone(), *t))
            .collect()
    };
    let request = |after| listing::PageRequest {
        key: SortKey::Created,
        ascending,
        after,
        limit: 25,
    };
    let by_tier = listing::list_filtered(
        conn,
        filter,
        &plans,
        listing::PageRequest {
            limit: 1_000,
            ..request(None)
        },
    )
    .expect("list");
    let (mut pages, mut totals, mut after) = (Vec::new(), Vec::new(), None::<Cursor>);
    loop {
        let (page, total) = listing::page_with_total(
            conn,
            filter,
            &plans,
            listing::PageRequest {
                after: after.as_ref(),
                ..request(None)
            },
        )
        .expect("page")
        .expect("ordered from the pairs");
        totals.push(total);
        pages.extend(ids(&page));
        let Some((last, tier)) = page.last() else {
            break;
        };
        after = Some(Cursor::after(last, SortKey::Created, *tier));
    }
    (ids(&by_tier), pages, totals)
}

#[tokio::test]
async fn pages_ordered_from_the_pairs_keep_each_tier_whole_name_first() {
    use clientele::db::search::Tier;
    let app = spawn_app().await;
    // Thirty of each tier, spread over creation times: the whole name, a longer one, a
    // typo. Then a nickname holding the whole name (its sort name is its name, Robert
    // Jones: a partial match), and a customer known by an e-mail alone, whose folded
    // sort name holds both words ("maria garcia example com") but who is in no tier.
    for i in 0..90 {
        let name = match i % 3 {
            0 => "Maria Garcia",
            1 => "Maria Garcia Lopez",
            _ => "Marie Garcia",
        };
        app.create_customer(&[("name", name)]);
    }
    app.create_customer(&[("name", "Robert Jones"), ("nickname", "Maria Garcia")]);
    app.create_customer(&[("email", "maria.garcia@example.com")]);
    for ascending in [false, true] {
        let (by_tier, by_pages, totals) =
            app.with_db(|conn| both_ways(conn, &name_filter("maria garcia"), ascending));
        assert_eq!(by_pages, by_tier, "the same pages, ascending {ascending}");
        let tiers: Vec<u8> = by_pages.iter().map(|(_, tier)| *tier).collect();
        let count = |tier: Tier| tiers.iter().filter(|t| **t == tier as u8).count();
        assert_eq!(
            (count(Tier::Exact), count(Tier::Partial), count(Tier::Typo)),
            (30, 31, 30),
            "{tiers:?}"
        );
        assert!(tiers.is_sorted(), "{tiers:?}");
        assert!(
            totals.iter().all(|total| *total == Total::Exact(91)),
            "{totals:?}"
        );
    }
}

#[tokio::test]
async fn an_agents_search_of_many_matches_tests_the_reach_a_page_at_a_time() {
    use clientele::db::listing::REACH_TESTED_AT_MOST;
    use clientele::domain::scope::{Grant, Grants};
    let app = spawn_app().await;
    let many = REACH_TESTED_AT_MOST + 60;
    // Every third customer only on e-mail (out of an SMS team's reach), every third on
    // SMS, the rest on no channel (reached: no team owns them).
    let mut links = Vec::new();
    for i in 0..many {
        let name = if i % 2 == 0 {
            "Quinn Rask"
        } else {
            "Quinn Raskin"
        };
        let customer = app.customer(&app.create_customer(&[("name", name)])).id;
        match i % 3 {
            0 => links.push(("email", format!("q{i}@example.com"), customer)),
            1 => links.push(("sms", format!("+3859155{i:05}"), customer)),
            _ => {}
        }
    }
    app.with_db(|conn| {
        let links: Vec<_> = links
            .iter()
            .map(|(c, e, id)| (*c, e.as_str(), *id))
            .collect();
        clientele::db::identities::insert_linked(conn, &links).expect("identities")
    });
    let sms = Grant {
        channel: "sms".into(),
        account: String::new(),
    };
    let filter = CustomerFilter {
        reach: Some(Grants([sms].into_iter().collect())),
        ..name_filter("quinn rask")
    };
    let reached = many - many.div_ceil(3);
    for ascending in [false, true] {
        let (by_tier, by_pages, totals) = app.with_db(|conn| both_ways(conn, &filter, ascending));
        assert_eq!(by_tier.len(), reached);
        assert_eq!(by_pages, by_tier, "the same pages, ascending {ascending}");
        for total in totals {
            let Total::About(about) = total else {
                panic!("{total:?}: past {REACH_TESTED_AT_MOST} matches the total is estimated");
            };
            let off = about.abs_diff(reached as i64) as f64 / reached as f64;
            assert!(off < 0.2, "about {about} for {reached}");
        }
    }
}

#[tokio::test]
async fn the_upgrade_fills_pair_times_typo_keys_and_value_times_for_rows_written_before_it() {
    use clientele::db::schema::{customer_terms, customers, name_word_keys, name_words};
    use clientele::domain::search::{TermKind, typo_keys};
    use diesel::prelude::*;
    let app = spawn_app().await;
    app.create_property("score", "number", &[], "edit");
    for (name, score) in [
        ("Ines Okafor", "3"),
        ("Zofia Maria Nowak", "99"),
        ("Al Bo", "7"),
    ] {
        app.create_customer(&[("name", name), ("score", score)]);
    }
    app.with_db(|conn| {
        // The migrations from 000039 on undone (the time columns and the keys' table
        // dropped), then run again over the rows already there.
        clientele::db::revert_migrations_through(conn, "20261129000039").expect("reverted");
        clientele::db::run_migrations(conn).expect("migrated again");
        crate::value_reading::assert_values_carry_their_customers_times(conn);
        let created: std::collections::HashMap<i64, chrono::NaiveDateTime> = customers::table
            .select((customers::id, customers::created_at))
            .load::<(clientele::db::types::CustomerId, chrono::NaiveDateTime)>(conn)
            .expect("customers")
            .into_iter()
            .map(|(id, at)| (id.0, at))
            .collect();
        let terms: Vec<(i16, i64, Option<chrono::NaiveDateTime>)> = customer_terms::table
            .select((
                customer_terms::kind,
                customer_terms::customer_id,
                customer_terms::created_at,
            ))
            .load(conn)
            .expect("terms");
        let pair = TermKind::NamePair.code();
        assert!(terms.iter().filter(|(kind, _, _)| *kind == pair).count() >= 8);
        for (kind, customer, at) in terms {
            let expected = (kind == pair).then(|| created[&customer]);
            assert_eq!(at, expected, "kind {kind}, customer {customer}");
        }
        let words: Vec<String> = name_words::table
            .select(name_words::word)
            .load(conn)
            .expect("words");
        let mut filed: Vec<(String, String)> = words
            .iter()
            .flat_map(|w| typo_keys(w).into_iter().map(|k| (k, w.clone())))
            .collect();
        filed.sort();
        let mut keys: Vec<(String, String)> = name_word_keys::table
            .select((name_word_keys::key, name_word_keys::word))
            .load(conn)
            .expect("keys");
        keys.sort();
        assert_eq!(keys, filed);
    });
}

#[tokio::test]
async fn a_word_found_common_is_remembered_for_a_day_and_only_chooses_the_walk() {
    let app = spawn_app().await;
    for name in ["Ada Garcia", "Ben Garcia", "Cleo Garcia", "Dora Quill"] {
        app.create_customer(&[("name", name)]);
    }
    let bounds = |common| Bounds {
        collect: 1_000,
        list: Some(1_000),
        common: Some(common),
        pairs: false,
    };
    let collected = |query: &str, common| {
        let search = FuzzyQuery::parse(query).expect("words");
        app.with_db(|conn| {
            clientele::db::search::plan_within(conn, &search, false, bounds(common))
                .expect("plan")
                .words[0]
                .collected
        })
    };
    // Three hold "garcia": common above two, and remembered so.
    assert!(!collected("garcia", 2));
    let [(span, above, _)] = remembered(&app, "garcia")[..] else {
        panic!("one range remembered");
    };
    assert_eq!(above, 2);
    assert!(collected("garcia", 3), "not above three: collected");
    // Found common at a lower bound later, the higher verdict stands.
    assert!(!collected("garcia", 1));
    assert_eq!(remembered(&app, "garcia")[0].1, 2);
    // A remembered verdict decides without walking: "quill" (one holder) taken as common.
    let listed = page(&app, "quill", &plans(&app, "quill", bounds(5)));
    assert!(collected("quill", 5));
    remember(&app, span, "quill", 10, clientele::db::now());
    assert!(!collected("quill", 5), "walked, as remembered");
    let walked = page(&app, "quill", &plans(&app, "quill", bounds(5)));
    assert_eq!(walked, listed, "the same rows and total either way");
    assert_eq!(listed.0.len(), 1);
    // A day later the verdict is walked again.
    let old = clientele::db::now() - chrono::TimeDelta::hours(25);
    remember(&app, span, "quill", 10, old);
    assert!(collected("quill", 5), "stale: walked again, and not common");
}

/// The ranges a search remembered as common for `word`: their spans, bounds and times.
fn remembered(app: &TestApp, word: &str) -> Vec<(i16, i64, chrono::NaiveDateTime)> {
    use clientele::db::schema::common_ranges;
    use diesel::prelude::*;
    app.with_db(|conn| {
        common_ranges::table
            .filter(common_ranges::word.eq(word))
            .select((
                common_ranges::span,
                common_ranges::above,
                common_ranges::seen_at,
            ))
            .load(conn)
            .expect("read")
    })
}

/// Sets what is remembered of a range.
fn remember(app: &TestApp, code: i16, word: &str, bound: i64, at: chrono::NaiveDateTime) {
    use clientele::db::schema::common_ranges;
    use diesel::prelude::*;
    app.with_db(|conn| {
        diesel::delete(common_ranges::table.find((code, word)))
            .execute(conn)
            .expect("forgotten");
        diesel::insert_into(common_ranges::table)
            .values((
                common_ranges::span.eq(code),
                common_ranges::word.eq(word),
                common_ranges::above.eq(bound),
                common_ranges::seen_at.eq(at),
            ))
            .execute(conn)
            .expect("remembered")
    });
}

#[tokio::test]
async fn a_range_too_long_for_the_pairs_is_remembered_and_only_chooses_another_way() {
    let app = spawn_app().await;
    for name in [
        "John Smith",
        "Johnson Smith",
        "Johnson Stone",
        "Johnny Sam",
        "Mary Stone",
    ] {
        app.create_customer(&[("name", name)]);
    }
    let bounds = |list| Bounds {
        collect: 1_000,
        list: Some(list),
        common: Some(0),
        pairs: true,
    };
    // Three longer words start with "john": past a bound of two, the pairs cannot tell,
    // and the range is remembered so.
    assert!(!by_pairs(&plans(&app, "john s", bounds(2))));
    let past_two: Vec<i16> = remembered(&app, "john")
        .into_iter()
        .filter(|(_, above, _)| *above == 2)
        .map(|(span, _, _)| span)
        .collect();
    let [span] = past_two[..] else {
        panic!("one range of john past two: {past_two:?}");
    };
    assert!(
        by_pairs(&plans(&app, "john s", bounds(4))),
        "four candidates in all"
    );
    let paired = page(&app, "john s", &plans(&app, "john s", bounds(1_000)));
    assert_eq!(paired.0.len(), 4, "{paired:?}");
    // A verdict for a higher bound decides without reading: the same rows another way.
    remember(&app, span, "john", 1_000, clientele::db::now());
    let unpaired = plans(&app, "john s", bounds(1_000));
    assert!(!by_pairs(&unpaired));
    assert_eq!(page(&app, "john s", &unpaired), paired);
}
