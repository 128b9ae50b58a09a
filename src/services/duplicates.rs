//! Possible duplicates. Two customers may be the same person when they share an e-mail
//! (without case), a phone, or a contact one of them holds as a channel identity, or when
//! their names are alike by the search's rules (the same folded, a typo apart, or one
//! within the other) and they share a city or company (a name and a country are too
//! common together to mean anything). A profile's
//! Identities tab works its suggestions out on the spot; the duplicates list reads pairs
//! the background worker keeps current from the queue every such change writes to.
//! "Not the same person" keeps a pair from being suggested again.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::db::customers::{self, Customer};
use crate::db::duplicate_checks;
use crate::db::duplicates::{self, MatchOn, Pair, PairCursor};
use crate::db::identities::{self, Identity};
use crate::db::types::CustomerId;
use crate::db::{self, DbConnection};
use crate::domain::channel::Channel;
use crate::domain::customer::Actor;
use crate::error::AppError;

/// At most this many candidates are looked at per way of matching: in the background,
/// and on a page (which shows the strongest of them).
const CANDIDATES: i64 = 50;
const CANDIDATES_ON_PAGE: i64 = 20;

/// Why two customers may be the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// An e-mail address in common (a column or an e-mail identity).
    Email,
    /// A phone number in common (a column or a phone identity).
    Phone,
    /// A similar name and the same city.
    NameAndCity,
    /// A similar name and the same company.
    NameAndCompany,
}

impl Reason {
    const ALL: [Reason; 4] = [
        Reason::Email,
        Reason::Phone,
        Reason::NameAndCity,
        Reason::NameAndCompany,
    ];

    /// As stored in a pair's reasons.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Email => "email",
            Reason::Phone => "phone",
            Reason::NameAndCity => "name_city",
            Reason::NameAndCompany => "name_company",
        }
    }

    /// As staff read it.
    pub fn label(self) -> &'static str {
        match self {
            Reason::Email => "same e-mail",
            Reason::Phone => "same phone",
            Reason::NameAndCity => "similar name and same city",
            Reason::NameAndCompany => "similar name and same company",
        }
    }

    /// How much it says two records are one person.
    fn weight(self) -> i32 {
        match self {
            Reason::Email => 50,
            Reason::Phone => 40,
            Reason::NameAndCompany => 25,
            Reason::NameAndCity => 20,
        }
    }

    fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The sum of the reasons' weights: pairs are listed strongest first.
pub fn score(reasons: &[Reason]) -> i32 {
    reasons.iter().map(|r| r.weight()).sum()
}

/// What one customer is compared on.
struct Keys {
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
}

fn keys_of(customer: &Customer, identities: &[&Identity]) -> Keys {
    let mut keys = Keys {
        emails: customer.email.iter().map(|e| e.to_lowercase()).collect(),
        phones: customer.phone.iter().cloned().collect(),
    };
    for identity in identities {
        match identity.channel.parse::<Channel>() {
            Ok(Channel::Email) => keys.emails.insert(identity.external_id.to_lowercase()),
            Ok(channel) if channel.is_phone() => keys.phones.insert(identity.external_id.clone()),
            _ => false,
        };
    }
    keys
}

fn same(one: Option<&str>, other: Option<&str>) -> bool {
    match (one, other) {
        (Some(a), Some(b)) => !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

/// Why `a` and `b` may be the same person (nothing when they have nothing in common).
fn compare(a: &Customer, a_keys: &Keys, b: &Customer, b_keys: &Keys) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if !a_keys.emails.is_disjoint(&b_keys.emails) {
        reasons.push(Reason::Email);
    }
    if !a_keys.phones.is_disjoint(&b_keys.phones) {
        reasons.push(Reason::Phone);
    }
    if a.name.is_some()
        && b.name.is_some()
        && crate::domain::search::names_alike(&a.sort_name, &b.sort_name)
    {
        if same(a.city.as_deref(), b.city.as_deref()) {
            reasons.push(Reason::NameAndCity);
        }
        if same(a.company.as_deref(), b.company.as_deref()) {
            reasons.push(Reason::NameAndCompany);
        }
    }
    reasons
}

/// A customer who may be the same person, and why.
pub struct Suggestion {
    /// The other customer.
    pub customer: Customer,
    /// What they share, strongest first.
    pub reasons: Vec<Reason>,
}

/// How far to look for customers with a similar name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// A page view: names that fold the same (one indexed lookup).
    Page,
    /// The background check: also names a typo apart or within each other, through the
    /// search index, when the name's words are uncommon enough to list.
    Background,
}

/// At most this many customers with a similar name are looked at.
const NEAR_NAMES: usize = 2_000;

/// The possible duplicates of `customer`, strongest first, leaving out the pairs staff
/// dismissed. A few indexed queries, whatever the number of customers.
pub fn suggestions_for(
    conn: &mut DbConnection,
    customer: &Customer,
) -> Result<Vec<Suggestion>, AppError> {
    Ok(find(conn, customer, Reach::Page)?.0)
}

/// The suggestions for `customer`, and every customer compared (with or without a reason).
fn find(
    conn: &mut DbConnection,
    customer: &Customer,
    reach: Reach,
) -> Result<(Vec<Suggestion>, Vec<CustomerId>), AppError> {
    let own = identities::list_customer_identities(conn, customer.id)?;
    let keys = keys_of(customer, &own.iter().collect::<Vec<_>>());
    let place = [customer.city.as_deref(), customer.company.as_deref()];
    let named = customer.name.is_some() && place.iter().any(Option::is_some);
    let mut near_names = Vec::new();
    if named
        && reach == Reach::Background
        && let Some(query) = crate::domain::search::FuzzyQuery::parse(&customer.sort_name)
    {
        let bounds = crate::db::search::Bounds {
            collect: NEAR_NAMES,
            list: Some(NEAR_NAMES),
            common: None,
            pairs: false,
        };
        let plan = crate::db::search::plan_within(conn, &query, false, bounds)?;
        if let (Some(partial), Some(typo)) = (plan.partial, plan.typo) {
            near_names = partial;
            near_names.extend(typo);
            near_names.truncate(NEAR_NAMES);
        }
    }
    let on = MatchOn {
        emails: keys.emails.iter().cloned().collect(),
        phones: keys.phones.iter().cloned().collect(),
        name: named.then_some((customer.sort_name.as_str(), place)),
        near_names,
    };
    let dismissed: HashSet<CustomerId> = duplicates::list_dismissed(conn, customer.id)?
        .into_iter()
        .collect();
    // Pairs found before are compared again: finding is not symmetric (a longer name
    // is looked up by its own words), so a pair ends only when the two differ now.
    let most = match reach {
        Reach::Page => CANDIDATES_ON_PAGE,
        Reach::Background => CANDIDATES,
    };
    let mut ids = duplicates::list_candidates(conn, customer.id, &on, most)?;
    ids.extend(duplicates::list_paired_with(conn, customer.id, most)?);
    ids.sort_unstable();
    ids.dedup();
    ids.retain(|id| !dismissed.contains(id));
    if ids.is_empty() {
        return Ok((Vec::new(), ids));
    }
    let mut held: HashMap<CustomerId, Vec<Identity>> = HashMap::new();
    for identity in identities::list_identities_for(conn, &ids)? {
        if let Some(owner) = identity.customer_id {
            held.entry(owner).or_default().push(identity);
        }
    }
    let mut found: Vec<Suggestion> = customers::list_by_ids(conn, &ids)?
        .into_iter()
        .filter_map(|other| {
            let other_ids: Vec<&Identity> = held.get(&other.id).into_iter().flatten().collect();
            let reasons = compare(customer, &keys, &other, &keys_of(&other, &other_ids));
            (!reasons.is_empty()).then_some(Suggestion {
                customer: other,
                reasons,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        score(&b.reasons)
            .cmp(&score(&a.reasons))
            .then(b.customer.id.cmp(&a.customer.id))
    });
    found.truncate(most as usize);
    Ok((found, ids))
}

/// Customers matching what staff typed to pick a duplicate (see
/// [`super::lookup::find_customers`]), never `except`.
pub fn find_any(
    conn: &mut DbConnection,
    query: &str,
    except: CustomerId,
    scope: &crate::domain::scope::Scope,
    limit: i64,
) -> Result<Vec<Customer>, AppError> {
    let mut found = super::lookup::find_customers(conn, query, scope, limit + 1)?;
    found.retain(|c| c.id != except);
    found.truncate(limit as usize);
    Ok(found)
}

/// Works out the pairs of up to `batch` queued customers: read first, then written in a
/// short transaction per customer, so writers are not held up while names are looked up. Returns how
/// many it looked at (0 when the queue is empty).
pub fn check_pending(conn: &mut DbConnection, batch: i64) -> Result<usize, AppError> {
    let queued = duplicate_checks::list_checks(conn, batch)?;
    if queued.is_empty() {
        return Ok(0);
    }
    let ids: Vec<CustomerId> = queued.iter().map(|(id, _)| *id).collect();
    type Worked = (CustomerId, Vec<(CustomerId, i32, String)>, Vec<CustomerId>);
    let mut worked: Vec<Worked> = Vec::new();
    for customer in customers::list_by_ids(conn, &ids)? {
        let (found, compared) = find(conn, &customer, Reach::Background)?;
        let unlike: Vec<CustomerId> = compared
            .into_iter()
            .filter(|id| !found.iter().any(|s| s.customer.id == *id))
            .collect();
        let pairs = found
            .into_iter()
            .map(|s| {
                let codes: Vec<&str> = s.reasons.iter().map(|r| r.code()).collect();
                (s.customer.id, score(&s.reasons), codes.join(","))
            })
            .collect();
        worked.push((customer.id, pairs, unlike));
    }
    // One short transaction per customer: a merge deleting a customer waits for at most
    // one of them, and none waits for the merge while holding what the merge needs.
    for (customer, queued_at) in &queued {
        db::transaction(conn, |conn| -> Result<(), AppError> {
            // Changed since it was read: it stays queued and is worked out again.
            if duplicate_checks::delete_check(conn, *customer, *queued_at)? == 0 {
                return Ok(());
            }
            let Some((_, pairs, unlike)) = worked.iter().find(|(id, _, _)| id == customer) else {
                return Ok(());
            };
            // Customers merged away meanwhile are left out (their rows are gone).
            let mut involved: Vec<CustomerId> = pairs.iter().map(|(other, _, _)| *other).collect();
            involved.push(*customer);
            let alive = customers::list_present(conn, &involved)?;
            if !alive.contains(customer) {
                return Ok(());
            }
            let pairs: Vec<_> = pairs
                .iter()
                .filter(|(other, _, _)| alive.contains(other))
                .cloned()
                .collect();
            duplicates::update_pairs(conn, *customer, &pairs, unlike)?;
            Ok(())
        })?;
    }
    Ok(queued.len())
}

/// A suggested pair for the duplicates list.
pub struct PairView {
    pub one: Customer,
    pub other: Customer,
    pub score: i32,
    pub reasons: Vec<Reason>,
}

/// How many pairs a page of the duplicates list shows.
pub const PAGE: i64 = 25;

/// A page of suggested pairs, strongest first, and the cursor of the next page.
pub fn list_pairs(
    conn: &mut DbConnection,
    after: Option<PairCursor>,
) -> Result<(Vec<PairView>, Option<PairCursor>), AppError> {
    let pairs: Vec<Pair> = duplicates::list_pairs(conn, after, PAGE + 1)?;
    let next = (pairs.len() as i64 > PAGE)
        .then(|| pairs.get(PAGE as usize - 1))
        .flatten()
        .map(|p| (p.score, p.customer_a, p.customer_b));
    let pairs = &pairs[..pairs.len().min(PAGE as usize)];
    let by_id: HashMap<CustomerId, Customer> = duplicates::customers_of(conn, pairs)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let views = pairs
        .iter()
        .filter_map(|pair| {
            Some(PairView {
                // The newer customer is usually the duplicate: show the older first.
                one: by_id.get(&pair.customer_a)?.clone(),
                other: by_id.get(&pair.customer_b)?.clone(),
                score: pair.score,
                reasons: pair
                    .reasons
                    .split(',')
                    .filter_map(Reason::from_code)
                    .collect(),
            })
        })
        .collect();
    Ok((views, next))
}

/// "Not the same person": the pair is not suggested again.
pub fn dismiss(
    conn: &mut DbConnection,
    customer: CustomerId,
    other: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    if customer == other {
        return Err(AppError::NotFound);
    }
    db::transaction(conn, |conn| {
        customers::get_customer(conn, customer)?;
        customers::get_customer(conn, other)?;
        duplicates::insert_dismissal(conn, customer, other, &actor.name())?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_code() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(Reason::from_code("nonsense"), None);
    }

    #[test]
    fn contacts_and_names_make_reasons() {
        let at = chrono::NaiveDateTime::default();
        let mut a = customers::blank(CustomerId(1), "prospect", at);
        let mut b = customers::blank(CustomerId(2), "prospect", at);
        a.email = Some("Ana@Example.com".into());
        b.email = Some("ana@example.com".into());
        a.name = Some("Ana Kovač".into());
        b.name = Some("Ana Kovač".into());
        a.sort_name = "ana kovac".into();
        b.sort_name = "ana kovac".into();
        a.city = Some("Split".into());
        b.city = Some("split".into());
        let reasons = compare(&a, &keys_of(&a, &[]), &b, &keys_of(&b, &[]));
        assert_eq!(reasons, [Reason::Email, Reason::NameAndCity]);
        assert_eq!(score(&reasons), 70);
        b.email = None;
        b.city = None;
        assert!(compare(&a, &keys_of(&a, &[]), &b, &keys_of(&b, &[])).is_empty());
    }
}
