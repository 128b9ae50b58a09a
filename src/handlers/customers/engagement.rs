//! The Summary's engagement section: the key figures, and three small charts drawn on the
//! server as SVG (no script), each with its figures as a table for screen readers.

use chrono::Datelike;

use crate::db::customers::Customer;
use crate::db::properties::Property;
use crate::domain::Role;
use crate::domain::engagement::{Engagement, MonthFigures};
use crate::handlers::charts::{Chart, Column, whole};
use crate::handlers::page::PageContext;

/// A figure at the top of the section.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// The whole section.
pub struct EngagementView {
    pub facts: Vec<Fact>,
    pub charts: Vec<Chart>,
}

/// Builds a chart of the last twelve months from one stack of values per month (`max`
/// is the axis' top).
fn chart(
    id: &'static str,
    title: &'static str,
    series: Vec<String>,
    months: &[MonthFigures],
    stacks: impl Fn(&MonthFigures) -> Vec<f64>,
    describe: impl Fn(f64) -> String,
    max: Option<f64>,
) -> Chart {
    let columns = months
        .iter()
        .map(|month| {
            let name = month_name(month.first_day.month());
            Column {
                initial: name[..1].to_owned(),
                name: format!("{name} {}", month.first_day.year()),
                stack: stacks(month),
                links: Vec::new(),
            }
        })
        .collect();
    Chart::new(id, title, series, columns, describe, max, true)
}

fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES[(month.clamp(1, 12) - 1) as usize]
}

/// The section for `role`: a figure or chart whose property the role may not see is left
/// out (conversations, messages, last contact, satisfaction, orders).
pub fn view(
    ctx: &PageContext,
    customer: &Customer,
    registry: &[Property],
    role: Role,
    figures: &Engagement,
) -> EngagementView {
    let visible = |key: &str| registry.iter().any(|p| p.key == key && p.visible_to(role));
    let mut facts = vec![Fact {
        label: "Lifecycle stage",
        value: super::lifecycle_label(&customer.lifecycle).to_owned(),
    }];
    if visible("created_at") {
        facts.push(Fact {
            label: "Customer since",
            value: ctx.time(customer.created_at),
        });
    }
    if visible("last_contact_at") {
        facts.push(Fact {
            label: "Last contact",
            value: customer
                .last_contact_at
                .map_or_else(|| "Never".to_owned(), |t| ctx.time(t)),
        });
    }
    let mut charts = Vec::new();
    if visible("conversations_count") {
        facts.push(Fact {
            label: "Conversations, 30 / 90 days",
            value: format!(
                "{} / {}",
                figures.conversations_30, figures.conversations_90
            ),
        });
        charts.push(chart(
            "conversations-chart",
            "Conversations per month, by channel",
            figures
                .channels
                .iter()
                .map(|c| super::identities::channel_label(c).to_owned())
                .collect(),
            &figures.months,
            |m| m.by_channel.iter().map(|n| *n as f64).collect(),
            whole,
            None,
        ));
    }
    if visible("messages_count") {
        facts.push(Fact {
            label: "Messages, 30 / 90 days",
            value: format!("{} / {}", figures.messages_30, figures.messages_90),
        });
    }
    if visible("csat_average") {
        facts.push(Fact {
            label: "Satisfaction, 90 days",
            value: match (figures.satisfaction_90, figures.trend) {
                (Some(average), Some(trend)) => format!("{average:.1} of 5, {}", trend.label()),
                (Some(average), None) => format!("{average:.1} of 5"),
                (None, _) => "No ratings".to_owned(),
            },
        });
        charts.push(chart(
            "satisfaction-chart",
            "Average satisfaction per month (1–5)",
            vec!["Satisfaction".to_owned()],
            &figures.months,
            |m| vec![m.satisfaction().unwrap_or(0.0)],
            |v| {
                if v > 0.0 {
                    format!("{v:.1}")
                } else {
                    "—".to_owned()
                }
            },
            Some(5.0),
        ));
    }
    if visible("orders_count") {
        let totals: Vec<String> = figures
            .order_totals
            .iter()
            .map(|(currency, sum)| format!("{sum} {currency}"))
            .collect();
        facts.push(Fact {
            label: "Orders",
            value: if totals.is_empty() {
                figures.orders.to_string()
            } else {
                format!("{}, {}", figures.orders, totals.join(" + "))
            },
        });
        charts.push(chart(
            "orders-chart",
            "Orders per month",
            vec!["Orders".to_owned()],
            &figures.months,
            |m| vec![m.orders as f64],
            whole,
            None,
        ));
    }
    EngagementView { facts, charts }
}
