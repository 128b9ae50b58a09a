//! A one-letter word of a name search is an initial: it matches the start of a name's word,
//! never a letter inside one, and a word of its own when another word of the search starts
//! with it — whichever way the search is answered.

use std::collections::BTreeSet;

use clientele::db::listing::{Bounds, Total};

use crate::helpers::spawn_app;
use crate::search_pairs::{BY_LISTS, BY_PAIRS, both_ways, by_pairs, name_filter, page, plans};

/// Every word too common to collect and no pairs: each row tested as it is listed.
const ROW_BY_ROW: Bounds = Bounds {
    collect: 1,
    list: Some(0),
    common: Some(1),
    pairs: false,
};

#[tokio::test]
async fn a_single_letter_matches_the_start_of_a_word_only() {
    let app = spawn_app().await;
    let names = [
        "Maria Garcia",
        "Garcia Maria",
        "Maria Lopez Garcia",
        // A "g" and an "m" inside words only.
        "Maria Rodriguez",
        "Mariag Smith",
        "Omar Garcia",
        "Ann Garcia",
        // Two words starting with "m", one, and one a typo from "maria".
        "Maria Mora",
        "Mora Maria",
        "Annamaria Mora",
        "Omar Maria",
        "Marie Mora",
    ];
    let mut named = std::collections::HashMap::new();
    for name in names {
        named.insert(app.create_customer(&[("name", name)]), name);
    }
    let expected =
        |matches: &[&'static str]| -> BTreeSet<&'static str> { matches.iter().copied().collect() };
    let garcias = ["Maria Garcia", "Garcia Maria", "Maria Lopez Garcia"];
    let two_m = ["Maria Mora", "Mora Maria", "Marie Mora"];
    for (query, paired, matches) in [
        ("maria g", true, expected(&garcias)),
        ("g maria", true, expected(&garcias)),
        ("m garcia", true, expected(&garcias)),
        ("g", false, {
            let mut all = expected(&garcias);
            all.extend(["Omar Garcia", "Ann Garcia"]);
            all
        }),
        ("maria r", true, expected(&["Maria Rodriguez"])),
        ("mariag s", true, expected(&["Mariag Smith"])),
        // Two initials: every word's start, in any order.
        ("m g", false, expected(&garcias)),
        // An initial starting another word of the search needs a word of its own.
        ("maria m", true, expected(&two_m)),
        ("m m", false, expected(&two_m)),
        // Within a word is not at its start: the word holding it may start with it.
        ("aria m", false, {
            let mut all = expected(&garcias);
            all.extend([
                "Maria Rodriguez",
                "Mariag Smith",
                "Maria Mora",
                "Mora Maria",
                "Annamaria Mora",
                "Omar Maria",
            ]);
            all
        }),
    ] {
        let exact = Total::Exact(matches.len() as i64);
        // Each way lists the same customers in the same tiers (Marie Mora's a typo's).
        let mut tiers = None;
        for (bounds, way) in [
            (BY_LISTS, "lists"),
            (BY_PAIRS, "pairs"),
            (ROW_BY_ROW, "row by row"),
        ] {
            let plans = plans(&app, query, bounds);
            if way == "pairs" {
                assert_eq!(by_pairs(&plans), paired, "{query}");
            }
            let (found, total) = page(&app, query, &plans);
            let found: BTreeSet<(&str, u8)> = found
                .iter()
                .map(|(id, tier)| (named[id.as_str()], *tier))
                .collect();
            let names: BTreeSet<&str> = found.iter().map(|(name, _)| *name).collect();
            assert_eq!(names, matches, "{query} by {way}");
            assert_eq!(total, exact, "{query} by {way}");
            assert_eq!(
                tiers.get_or_insert(found.clone()),
                &found,
                "{query} by {way}"
            );
        }
        if query == "maria m" {
            let tiers = tiers.expect("listed");
            assert!(tiers.contains(&("Marie Mora", 2)), "{tiers:?}");
            assert!(tiers.contains(&("Maria Mora", 1)), "{tiers:?}");
        }
        if paired {
            // Paged in creation order from the pairs: the same matches, tiers and order.
            let (by_tier, pages, totals) =
                app.with_db(|conn| both_ways(conn, &name_filter(query), false));
            assert_eq!(pages, by_tier, "{query}");
            let paged: BTreeSet<&str> = pages.iter().map(|(id, _)| named[id.as_str()]).collect();
            assert_eq!(paged, matches, "{query}");
            assert!(totals.iter().all(|t| *t == exact), "{query}: {totals:?}");
        }
    }
}
