//! The Customers page's filter as its URL carries it, resolved for one reader: the same
//! resolution serves the list, bulk changes and exports, so they always agree on which
//! customers "the current filter" means.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

use crate::db::listing::{CustomerFilter, Target};
use crate::db::properties::{self, Property};
use crate::db::types::TagId;
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::domain::channel::Channel;
use crate::domain::condition::{Condition, Subject};
use crate::domain::customer::Lifecycle;
use crate::domain::period::Period;
use crate::domain::property::PropertyKind;
use crate::domain::scope::Scope;
use crate::domain::search::FuzzyQuery;

/// The filters as the form shows them (and the URL carries them).
#[derive(Default)]
pub struct FilterForm {
    /// The one search box: a name, customer ID, e-mail, phone or channel id.
    pub q: String,
    /// What the search box is read as, once a page chose (so later pages agree).
    pub qk: String,
    pub period: String,
    pub from: String,
    pub to: String,
    pub on: String,
    pub tags: Vec<i64>,
    pub tag_mode: String,
    pub name: String,
    pub id: String,
    pub email: String,
    pub phone: String,
    pub contact: String,
    /// `mine` (customers served by the reader) or `all`; agents see `mine` unless said.
    pub whose: String,
    pub channel: String,
    pub lifecycle: String,
    pub blacklisted: String,
    pub sort: String,
    pub dir: String,
    pub size: i64,
    /// The condition being added: property, operator, value, second value.
    pub new_property: String,
    pub new_operator: String,
    pub new_value: String,
    pub new_value2: String,
}

/// A condition in force, as a removable chip.
pub struct Chip {
    /// "Orders at least 5".
    pub text: String,
    /// The page's URL without it.
    pub remove: String,
    /// Its URL form (kept by the filter form as a hidden field).
    pub param: String,
}

/// A query string's filter, resolved.
pub struct Resolved {
    pub form: FilterForm,
    pub filter: CustomerFilter,
    /// The whole registry (callers check visibility with it).
    pub registry: Vec<Property>,
    pub chips: Vec<Chip>,
    /// A period or condition that could not be read (the rest still applies).
    pub error: Option<String>,
    /// The condition being added could not be read: why.
    pub condition_error: Option<String>,
    /// The condition being added, in URL form, when it reads well.
    pub added: Option<String>,
    /// What the search box may be read as, most likely first (empty without a search).
    pub kinds: Vec<SearchKind>,
    /// The filter without the search box (each reading of it narrows a copy).
    base: CustomerFilter,
}

impl Resolved {
    /// The filter with the search box read as `kind`.
    pub fn searched_as(&self, kind: SearchKind) -> CustomerFilter {
        let mut filter = self.base.clone();
        kind.apply(&mut filter, &self.form.q);
        filter
    }
}

/// Whether typed text is written like a phone number: four digits or more, and nothing but
/// digits, spaces, `+`, `-`, `(`, `)` and dots.
fn phone_like(text: &str) -> bool {
    text.chars().filter(char::is_ascii_digit).count() >= 4
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// What the one search box's text is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    Name,
    Id,
    Email,
    Phone,
    Contact,
}

impl SearchKind {
    const ALL: [SearchKind; 5] = [
        SearchKind::Name,
        SearchKind::Id,
        SearchKind::Email,
        SearchKind::Phone,
        SearchKind::Contact,
    ];

    /// The URL name (`qk`).
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Name => "name",
            SearchKind::Id => "id",
            SearchKind::Email => "email",
            SearchKind::Phone => "phone",
            SearchKind::Contact => "contact",
        }
    }

    /// "Found by …".
    pub fn label(self) -> &'static str {
        match self {
            SearchKind::Name => "name",
            SearchKind::Id => "customer ID",
            SearchKind::Email => "e-mail",
            SearchKind::Phone => "phone",
            SearchKind::Contact => "channel id",
        }
    }

    /// The property whose visibility the search follows, if any.
    fn property(self) -> Option<&'static str> {
        match self {
            SearchKind::Name => Some("name"),
            SearchKind::Email => Some("email"),
            SearchKind::Phone => Some("phone"),
            SearchKind::Id | SearchKind::Contact => None,
        }
    }

    /// What `text` may be, most likely first, by its shape: an `@` in the middle is an
    /// e-mail (or an e-mail channel id), a leading `@` a handle, mostly digits a phone
    /// (or a QQ or Telegram number, or an ID), `C` and digits a customer ID, anything else
    /// a name first. The shape orders the kinds; each is tried until one finds someone.
    pub fn candidates(text: &str) -> Vec<SearchKind> {
        let text = text.trim();
        let phone_like = phone_like(text);
        let id_like = crate::domain::customer::typed_public_id(text).is_some();
        let first: &[SearchKind] = if text.starts_with('@') {
            &[SearchKind::Contact]
        } else if text.contains('@') {
            &[SearchKind::Email, SearchKind::Contact]
        } else if phone_like {
            &[SearchKind::Phone, SearchKind::Contact, SearchKind::Id]
        } else if id_like {
            &[SearchKind::Id]
        } else {
            &[SearchKind::Name, SearchKind::Id]
        };
        let mut kinds = first.to_vec();
        for kind in SearchKind::ALL {
            // A phone is looked for only in what is written like one (a digit inside a
            // handle is no phone number).
            if !kinds.contains(&kind) && (kind != SearchKind::Phone || phone_like) {
                kinds.push(kind);
            }
        }
        kinds
    }

    fn parse(raw: &str) -> Option<SearchKind> {
        SearchKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether the box tries this reading by itself when the ones before it found nobody.
    /// A "contains" on e-mail is looked up in the trigram index for any three characters
    /// in a row; a shorter text would be tested on every customer, so it is tried only
    /// when shaped like an e-mail. A phone is tried only for text written like one;
    /// otherwise each is a link the reader may follow.
    pub fn tried_unasked(self, text: &str) -> bool {
        let text = text.trim();
        match self {
            SearchKind::Email => {
                let inside = text.trim_start_matches('@');
                inside.contains('@') || crate::domain::search::has_trigram(inside)
            }
            SearchKind::Phone => phone_like(text),
            SearchKind::Name | SearchKind::Id | SearchKind::Contact => true,
        }
    }

    /// Narrows `filter` to customers matching `text` this way.
    pub fn apply(self, filter: &mut CustomerFilter, text: &str) {
        match self {
            SearchKind::Name => filter.name = FuzzyQuery::parse(text),
            SearchKind::Id => filter.public_id = FuzzyQuery::parse(text),
            SearchKind::Email => filter.email = some(text.trim()),
            SearchKind::Phone => {
                let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                filter.phone = some(&digits);
            }
            SearchKind::Contact => {
                filter.contact = crate::services::lookup::id_form(text);
            }
        }
    }

    /// Whether reading `text` this way asks anything (a name search of punctuation asks
    /// nothing and would list everyone).
    pub fn asks(self, text: &str) -> bool {
        let mut probe = CustomerFilter::default();
        self.apply(&mut probe, text);
        probe.name.is_some()
            || probe.public_id.is_some()
            || probe.email.is_some()
            || probe.phone.is_some()
            || probe.contact.is_some()
    }
}

fn get(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn some(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The form fields of a query string.
pub fn parse_form(pairs: &[(String, String)]) -> FilterForm {
    FilterForm {
        q: get(pairs, "q"),
        qk: get(pairs, "qk"),
        period: get(pairs, "period"),
        from: get(pairs, "from"),
        to: get(pairs, "to"),
        on: get(pairs, "on"),
        tags: pairs
            .iter()
            .filter(|(k, _)| k == "tag")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        tag_mode: get(pairs, "tag_mode"),
        name: get(pairs, "name"),
        id: get(pairs, "id"),
        email: get(pairs, "email"),
        phone: get(pairs, "phone"),
        contact: get(pairs, "contact"),
        whose: get(pairs, "whose"),
        channel: get(pairs, "channel"),
        lifecycle: get(pairs, "lifecycle"),
        blacklisted: get(pairs, "blacklisted"),
        sort: get(pairs, "sort"),
        dir: get(pairs, "dir"),
        size: match get(pairs, "size").as_str() {
            "25" => 25,
            "100" => 100,
            _ => 50,
        },
        new_property: get(pairs, "fp"),
        new_operator: get(pairs, "fo"),
        new_value: get(pairs, "fv"),
        new_value2: get(pairs, "fv2"),
    }
}

/// A query string from pairs, leaving out empty values and the `skip` keys.
pub fn query_of(pairs: &[(String, String)], skip: &[&str]) -> String {
    let encode = |text: &str| {
        askama::filters::urlencode_strict(text)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    pairs
        .iter()
        .filter(|(k, v)| !skip.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The keys of the condition being added (folded into an `f` once it reads well).
pub const NEW_CONDITION_KEYS: [&str; 4] = ["fp", "fo", "fv", "fv2"];

/// Reads a query string's filter for a reader of `role`. Filters on properties hidden from
/// the reader are dropped, and say no more than an unknown property would.
pub fn resolve(
    conn: &mut DbConnection,
    pairs: &[(String, String)],
    role: Role,
    user_id: i64,
    scope: &Scope,
) -> diesel::QueryResult<Resolved> {
    let mut form = parse_form(pairs);
    if form.whose != "mine" && form.whose != "all" {
        // Agents start from the customers they served; supervisors from everyone.
        form.whose = if role >= Role::Supervisor {
            "all"
        } else {
            "mine"
        }
        .to_owned();
    }
    let registry = properties::list_properties(conn)?;
    let zone = crate::services::settings::org_zone(conn)?;
    let now = db::now();
    let mut error = None;
    // No period chosen: this week's customers, or any time's for a search (someone looked
    // up by name, ID, e-mail, phone or contact is rarely a customer of this week).
    let searching = [
        &form.q,
        &form.name,
        &form.id,
        &form.email,
        &form.phone,
        &form.contact,
    ]
    .iter()
    .any(|text| !text.trim().is_empty());
    let chosen = match form.period.as_str() {
        "" if searching => "all",
        "" => "this_week",
        other => other,
    };
    let period = Period::parse(
        chosen,
        some(&form.from).as_deref(),
        some(&form.to).as_deref(),
    )
    .unwrap_or_else(|message| {
        error = Some(message);
        Period::ThisWeek
    });
    let (from, until) = period.bounds(now, zone);
    let visible = |key: &str| registry.iter().any(|p| p.key == key && p.visible_to(role));
    let mut filter = CustomerFilter {
        from,
        until,
        on_last_contact: form.on == "last_contact",
        name: FuzzyQuery::parse(&form.name).filter(|_| visible("name")),
        public_id: FuzzyQuery::parse(&form.id),
        email: some(&form.email).filter(|_| visible("email")),
        phone: some(&form.phone).filter(|_| visible("phone")),
        contact: crate::services::lookup::id_form(&form.contact),
        served_by: (form.whose == "mine").then_some(user_id),
        channel: form
            .channel
            .parse::<Channel>()
            .ok()
            .map(|c| c.as_str().to_owned()),
        lifecycle: form
            .lifecycle
            .parse::<Lifecycle>()
            .ok()
            .map(|l| l.as_str().to_owned()),
        blacklisted: match form.blacklisted.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        reach: scope.limited().cloned(),
        ..CustomerFilter::default()
    };
    let tag_ids: Vec<TagId> = form.tags.iter().map(|t| TagId(*t)).collect();
    if !tag_ids.is_empty() {
        // Tag sizes are counters: a popular tag is tested row by row along the sort's index.
        let held: i64 = crate::db::tags::list_tags(conn)?
            .iter()
            .filter(|t| tag_ids.contains(&t.id))
            .map(|t| t.customers_count)
            .sum();
        filter.probe_tags = crate::db::listing::worth_probing(conn, held)?;
    }
    if form.tag_mode == "all" {
        filter.all_tags = tag_ids;
    } else {
        filter.any_tags = tag_ids;
    }
    let today = zone.from_utc_datetime(&now).date_naive();
    let midnight = |day: NaiveDate| -> NaiveDateTime {
        day.and_hms_opt(0, 0, 0)
            .and_then(|local| zone.from_local_datetime(&local).earliest())
            .map_or_else(
                || day.and_hms_opt(0, 0, 0).unwrap_or_default(),
                |t| t.naive_utc(),
            )
    };
    let read =
        |key: &str, operator: &str, value: &str| -> Result<(Target, Condition, String), String> {
            let property = registry
                .iter()
                .find(|p| p.key == key && p.visible_to(role))
                .ok_or_else(|| "Pick a property to filter by.".to_owned())?;
            let subject = Subject {
                key: &property.key,
                kind: property.kind,
                ty: property.ty,
                choices: &property.choices,
            };
            let condition = Condition::parse(&subject, operator, value, today, &midnight)?;
            let target = match property.kind {
                PropertyKind::Standard => Target::Standard(property.key.clone(), property.ty),
                PropertyKind::Custom => Target::Custom(property.id, property.ty),
                PropertyKind::Computed => Target::Computed(property.key.clone()),
            };
            let text = format!(
                "{} {} {}",
                property.label,
                condition.operator.label(),
                condition.raw.replace('|', " and ")
            );
            Ok((target, condition, text.trim_end().to_owned()))
        };
    let mut chips = Vec::new();
    for (index, (key, value)) in pairs.iter().enumerate() {
        if key != "f" {
            continue;
        }
        let Some((property, operator, raw)) = crate::domain::condition::split(value) else {
            continue;
        };
        match read(property, operator, raw) {
            Ok((target, condition, text)) => {
                let param = condition.to_param();
                filter.conditions.push((target, condition.test));
                let others: Vec<(String, String)> = pairs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != index)
                    .map(|(_, p)| p.clone())
                    .collect();
                chips.push(Chip {
                    text,
                    param,
                    remove: query_of(&others, &["after"]),
                });
            }
            Err(message) => error = Some(message),
        }
    }
    let (mut condition_error, mut added) = (None, None);
    if !form.new_property.is_empty() {
        let value = if form.new_operator == "between" {
            format!("{}|{}", form.new_value, form.new_value2)
        } else {
            form.new_value.clone()
        };
        match read(&form.new_property, &form.new_operator, &value) {
            Ok((_, condition, _)) => added = Some(condition.to_param()),
            Err(message) => condition_error = Some(message),
        }
    }
    let mut kinds: Vec<SearchKind> = if form.q.is_empty() {
        Vec::new()
    } else {
        SearchKind::candidates(&form.q)
            .into_iter()
            .filter(|k| k.property().is_none_or(visible))
            .filter(|k| k.asks(&form.q))
            .collect()
    };
    // A page past the first keeps the reading the first page chose.
    if let Some(kept) = SearchKind::parse(&form.qk).filter(|k| kinds.contains(k)) {
        kinds.retain(|k| *k == kept);
    }
    let base = filter.clone();
    if let Some(first) = kinds.first() {
        first.apply(&mut filter, &form.q);
    } else if !form.q.is_empty() {
        // Nothing a search could read: it matches nobody rather than everyone.
        filter.ids = vec![crate::db::types::CustomerId(0)];
    }
    Ok(Resolved {
        kinds,
        base,
        form,
        filter,
        registry,
        chips,
        error,
        condition_error,
        added,
    })
}
