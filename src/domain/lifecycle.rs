//! Lifecycle rules: what moves a customer from one stage to the next, following the
//! stages' meanings (Prospect — new contact, Customer — made a first purchase, Active —
//! regular engagement, At risk — declining activity, Churned — no recent activity, VIP —
//! high value). Rules apply in the supervisor's order; the first that holds sets the stage,
//! and when none holds the stage stays as it is. Plain data and arithmetic: the facts are
//! read elsewhere.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::FieldErrors;
use super::customer::Lifecycle;
use super::decimal::Decimal;

/// The five rules, one per stage a rule can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Orders total at least an amount, or a tag → VIP.
    HighValue,
    /// No contact and no order for D days → Churned.
    Silent,
    /// Engagement in the last D days below half of the D days before → At risk.
    Declining,
    /// At least N conversations or orders in the last D days → Active.
    Engaged,
    /// A first order → Customer.
    FirstOrder,
}

impl RuleKind {
    /// Every rule, in the default order (the most telling first).
    pub const ALL: [RuleKind; 5] = [
        RuleKind::HighValue,
        RuleKind::Silent,
        RuleKind::Declining,
        RuleKind::Engaged,
        RuleKind::FirstOrder,
    ];

    /// The name in forms and stored rules.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::HighValue => "high_value",
            RuleKind::Silent => "silent",
            RuleKind::Declining => "declining",
            RuleKind::Engaged => "engaged",
            RuleKind::FirstOrder => "first_order",
        }
    }

    /// What people call it (History says "by rule …").
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::HighValue => "High value",
            RuleKind::Silent => "No recent contact",
            RuleKind::Declining => "Declining activity",
            RuleKind::Engaged => "Regular engagement",
            RuleKind::FirstOrder => "First order",
        }
    }

    /// The stage the rule gives.
    pub fn stage(self) -> Lifecycle {
        match self {
            RuleKind::HighValue => Lifecycle::Vip,
            RuleKind::Silent => Lifecycle::Churned,
            RuleKind::Declining => Lifecycle::AtRisk,
            RuleKind::Engaged => Lifecycle::Active,
            RuleKind::FirstOrder => Lifecycle::Customer,
        }
    }
}

/// One rule with its settings; settings a rule does not use are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub kind: RuleKind,
    pub enabled: bool,
    /// The window in days (engaged, declining, silent).
    pub days: u32,
    /// Conversations or orders needed (engaged).
    pub at_least: u32,
    /// Orders total that makes a VIP, as a decimal ("1000"); empty: no amount.
    pub amount: String,
    /// The currency of `amount` (ISO 4217).
    pub currency: String,
    /// A tag that makes a VIP.
    pub tag: Option<i64>,
}

impl Rule {
    fn default_for(kind: RuleKind) -> Rule {
        Rule {
            kind,
            enabled: false,
            days: match kind {
                RuleKind::Silent => 90,
                _ => 30,
            },
            at_least: 3,
            amount: if kind == RuleKind::HighValue {
                "1000".to_owned()
            } else {
                String::new()
            },
            currency: "EUR".to_owned(),
            tag: None,
        }
    }

    /// What the rule checks, in a sentence (`tag_name` names the VIP tag).
    pub fn describe(&self, tag_name: Option<&str>) -> String {
        let days = self.days;
        match self.kind {
            RuleKind::FirstOrder => "the customer has placed an order".to_owned(),
            RuleKind::Engaged => format!(
                "at least {} conversations or orders in the last {days} days",
                self.at_least
            ),
            RuleKind::Declining => format!(
                "conversations and orders in the last {days} days fell below half of the {days} days before"
            ),
            RuleKind::Silent => format!("no contact and no order for {days} days"),
            RuleKind::HighValue => {
                let amount = (!self.amount.is_empty())
                    .then(|| format!("orders total at least {} {}", self.amount, self.currency));
                let tag = tag_name.map(|name| format!("tagged {name}"));
                match (amount, tag) {
                    (Some(a), Some(t)) => format!("{a}, or {t}"),
                    (Some(a), None) => a,
                    (None, Some(t)) => t,
                    (None, None) => "never (give an amount or a tag)".to_owned(),
                }
            }
        }
    }
}

/// What rules need to know about one customer, read at `now`.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub orders_count: i64,
    pub last_contact_at: Option<NaiveDateTime>,
    pub last_order_at: Option<NaiveDateTime>,
    /// Conversations started plus orders placed in the last N days, by N (the windows of
    /// [`Rules::windows`]).
    pub engaged: BTreeMap<u32, i64>,
    /// Orders total in the high-value rule's currency (`None`: none, or unreadable).
    pub orders_total: Option<Decimal>,
    /// Whether the customer has the high-value rule's tag.
    pub has_tag: bool,
}

impl Facts {
    fn engaged_in(&self, days: u32) -> i64 {
        self.engaged.get(&days).copied().unwrap_or(0)
    }
}

/// The rules in the order they apply; every kind exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules(pub Vec<Rule>);

impl Default for Rules {
    /// The seed's meanings, each rule off until a supervisor turns it on.
    fn default() -> Self {
        Rules(RuleKind::ALL.into_iter().map(Rule::default_for).collect())
    }
}

impl Rules {
    /// Reads stored rules; what is missing or unreadable takes its default, so a stored
    /// set from an older release still gives every rule once.
    pub fn from_stored(text: Option<&str>) -> Rules {
        let stored: Vec<Rule> = text
            .and_then(|t| serde_json::from_str::<Rules>(t).ok())
            .map(|r| r.0)
            .unwrap_or_default();
        let mut rules: Vec<Rule> = Vec::with_capacity(RuleKind::ALL.len());
        for rule in stored {
            if !rules.iter().any(|r| r.kind == rule.kind) {
                rules.push(rule);
            }
        }
        for kind in RuleKind::ALL {
            if !rules.iter().any(|r| r.kind == kind) {
                rules.push(Rule::default_for(kind));
            }
        }
        Rules(rules)
    }

    /// As stored.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether any rule is on.
    pub fn any_enabled(&self) -> bool {
        self.0.iter().any(|r| r.enabled)
    }

    /// The rule of one kind.
    pub fn get(&self, kind: RuleKind) -> Option<&Rule> {
        self.0.iter().find(|r| r.kind == kind)
    }

    /// The windows (in days) whose engagement the enabled rules read.
    pub fn windows(&self) -> Vec<u32> {
        let mut days: Vec<u32> = Vec::new();
        for rule in self.0.iter().filter(|r| r.enabled) {
            match rule.kind {
                RuleKind::Engaged => days.push(rule.days),
                RuleKind::Declining => days.extend([rule.days, rule.days.saturating_mul(2)]),
                _ => {}
            }
        }
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The first enabled rule that holds for `facts`, with the stage it gives.
    pub fn first_holding(&self, facts: &Facts, now: NaiveDateTime) -> Option<&Rule> {
        self.0
            .iter()
            .filter(|r| r.enabled)
            .find(|rule| holds(rule, facts, now))
    }
}

fn holds(rule: &Rule, facts: &Facts, now: NaiveDateTime) -> bool {
    let days = rule.days;
    match rule.kind {
        RuleKind::FirstOrder => facts.orders_count > 0,
        RuleKind::Engaged => facts.engaged_in(days) >= i64::from(rule.at_least),
        RuleKind::Declining => {
            let recent = facts.engaged_in(days);
            let before = facts.engaged_in(days.saturating_mul(2)) - recent;
            before > 0 && recent * 2 < before
        }
        RuleKind::Silent => {
            let last = facts.last_contact_at.max(facts.last_order_at);
            last.is_some_and(|at| at < now - TimeDelta::days(i64::from(days)))
        }
        RuleKind::HighValue => {
            let by_amount = Decimal::parse(&rule.amount)
                .zip(facts.orders_total)
                .and_then(|(floor, total)| total.at_least(floor))
                .unwrap_or(false);
            by_amount || (rule.tag.is_some() && facts.has_tag)
        }
    }
}

/// The rules form as submitted: per rule `{kind}_on`, `{kind}_position`, `{kind}_days`;
/// `engaged_at_least`; `high_value_amount`, `high_value_currency`, `high_value_tag`.
pub fn parse_form(pairs: &[(String, String)]) -> Result<Rules, FieldErrors> {
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    };
    let mut errors = FieldErrors::default();
    let mut placed: Vec<(i64, usize, Rule)> = Vec::new();
    for (index, kind) in RuleKind::ALL.into_iter().enumerate() {
        let name = kind.as_str();
        let mut rule = Rule::default_for(kind);
        rule.enabled = !value(&format!("{name}_on")).is_empty();
        let position = value(&format!("{name}_position"))
            .parse::<i64>()
            .unwrap_or(index as i64 + 1);
        if matches!(
            kind,
            RuleKind::Engaged | RuleKind::Declining | RuleKind::Silent
        ) {
            let field = format!("{name}_days");
            if let Some(days) = errors.check(&field, whole_number(value(&field), 1, 3650)) {
                rule.days = days;
            }
        }
        if kind == RuleKind::Engaged {
            let field = "engaged_at_least";
            if let Some(n) = errors.check(field, whole_number(value(field), 1, 10_000)) {
                rule.at_least = n;
            }
        }
        if kind == RuleKind::HighValue {
            rule.amount = value("high_value_amount").to_owned();
            rule.currency = value("high_value_currency").to_ascii_uppercase();
            rule.tag = value("high_value_tag").parse::<i64>().ok();
            if !rule.amount.is_empty()
                && !Decimal::parse(&rule.amount)
                    .and_then(|d| d.at_least(Decimal::ZERO))
                    .unwrap_or(false)
            {
                errors.push(
                    "high_value_amount",
                    "Give an amount such as 1000 or 499.90, or leave it empty.",
                );
            }
            if rule.currency.len() != 3 || !rule.currency.chars().all(|c| c.is_ascii_uppercase()) {
                errors.push(
                    "high_value_currency",
                    "Use a three-letter ISO 4217 code such as EUR.",
                );
            }
            if rule.enabled && rule.amount.is_empty() && rule.tag.is_none() {
                errors.push(
                    "high_value_amount",
                    "Give an amount, a tag or both, or turn this rule off.",
                );
            }
        }
        placed.push((position, index, rule));
    }
    placed.sort_by_key(|(position, index, _)| (*position, *index));
    if errors.is_empty() {
        Ok(Rules(placed.into_iter().map(|(_, _, r)| r).collect()))
    } else {
        Err(errors)
    }
}

fn whole_number(text: &str, least: u32, most: u32) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| (least..=most).contains(n))
        .ok_or_else(|| format!("Give a whole number from {least} to {most}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(kinds: &[RuleKind]) -> Rules {
        let mut rules = Rules::default();
        for rule in &mut rules.0 {
            rule.enabled = kinds.contains(&rule.kind);
        }
        rules
    }

    fn now() -> NaiveDateTime {
        NaiveDateTime::parse_from_str("2026-11-29 12:00", "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    fn stage(rules: &Rules, facts: &Facts) -> Option<Lifecycle> {
        rules.first_holding(facts, now()).map(|r| r.kind.stage())
    }

    #[test]
    fn each_rule_follows_its_meaning() {
        let all = on(&RuleKind::ALL);
        assert_eq!(stage(&all, &Facts::default()), None, "a new contact stays");
        let ordered = Facts {
            orders_count: 1,
            last_order_at: Some(now()),
            orders_total: Decimal::parse("20"),
            engaged: BTreeMap::from([(30, 1), (60, 1)]),
            ..Facts::default()
        };
        assert_eq!(stage(&all, &ordered), Some(Lifecycle::Customer));
        let regular = Facts {
            engaged: BTreeMap::from([(30, 3), (60, 4)]),
            last_contact_at: Some(now()),
            ..Facts::default()
        };
        assert_eq!(stage(&all, &regular), Some(Lifecycle::Active));
        let fading = Facts {
            engaged: BTreeMap::from([(30, 2), (60, 7)]),
            last_contact_at: Some(now()),
            ..Facts::default()
        };
        assert_eq!(stage(&all, &fading), Some(Lifecycle::AtRisk));
        let gone = Facts {
            last_contact_at: Some(now() - TimeDelta::days(91)),
            ..Facts::default()
        };
        assert_eq!(stage(&all, &gone), Some(Lifecycle::Churned));
        let big = Facts {
            orders_total: Decimal::parse("1000.00"),
            ..ordered.clone()
        };
        assert_eq!(stage(&all, &big), Some(Lifecycle::Vip));
        assert_eq!(stage(&on(&[RuleKind::Engaged]), &big), None, "rules off");
    }

    #[test]
    fn the_order_decides_and_a_tag_makes_a_vip() {
        let mut rules = on(&RuleKind::ALL);
        rules.0.reverse();
        let both = Facts {
            orders_count: 1,
            orders_total: Decimal::parse("5000"),
            ..Facts::default()
        };
        assert_eq!(stage(&rules, &both), Some(Lifecycle::Customer));
        let mut tagged = on(&[RuleKind::HighValue]);
        tagged.0[0].amount.clear();
        tagged.0[0].tag = Some(7);
        let facts = Facts {
            has_tag: true,
            ..Facts::default()
        };
        assert_eq!(stage(&tagged, &facts), Some(Lifecycle::Vip));
        assert_eq!(tagged.windows(), Vec::<u32>::new());
        assert_eq!(on(&RuleKind::ALL).windows(), vec![30, 60]);
    }

    #[test]
    fn the_form_orders_rules_and_names_every_wrong_field() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let good = pairs(&[
            ("first_order_on", "on"),
            ("first_order_position", "1"),
            ("high_value_position", "5"),
            ("high_value_amount", "250.50"),
            ("high_value_currency", "usd"),
            ("engaged_days", "14"),
            ("engaged_at_least", "2"),
            ("declining_days", "30"),
            ("silent_days", "120"),
        ]);
        let rules = parse_form(&good).expect("valid");
        assert_eq!(rules.0[0].kind, RuleKind::FirstOrder);
        assert_eq!(rules.0[4].kind, RuleKind::HighValue);
        assert_eq!(rules.0[4].currency, "USD");
        assert!(rules.0[0].enabled && !rules.0[1].enabled);
        let bad = pairs(&[
            ("high_value_on", "on"),
            ("high_value_amount", ""),
            ("high_value_currency", "EU"),
            ("engaged_days", "0"),
            ("engaged_at_least", "many"),
            ("declining_days", "30"),
            ("silent_days", "90"),
        ]);
        let errors = parse_form(&bad).expect_err("refused");
        for field in [
            "high_value_amount",
            "high_value_currency",
            "engaged_days",
            "engaged_at_least",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        let round = Rules::from_stored(Some(&rules.to_stored()));
        assert_eq!(round, rules);
        assert_eq!(Rules::from_stored(Some("nonsense")), Rules::default());
    }
}
