//! The Summary's engagement section: the key figures, and three small charts drawn on the
//! server as SVG (no script), each with its figures as a table for screen readers.

use chrono::Datelike;

use crate::db::customers::Customer;
use crate::db::properties::Property;
use crate::domain::Role;
use crate::domain::engagement::{Engagement, MonthFigures};
use crate::handlers::page::PageContext;

/// A figure at the top of the section.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// One bar (or one channel's part of a stacked bar), in the chart's coordinates.
pub struct Bar {
    pub y: u32,
    pub height: u32,
    /// Which series (colour) it belongs to.
    pub series: usize,
    /// What a pointer over it says.
    pub title: String,
}

/// One month of a chart.
pub struct ChartColumn {
    pub x: u32,
    /// The month's initial under its bar ("N").
    pub initial: String,
    /// "November 2026", for the table.
    pub month: String,
    pub bars: Vec<Bar>,
    /// The table's cells after the month: one per series, or the one value.
    pub cells: Vec<String>,
}

/// A small bar chart of the last twelve months.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    /// The series' names: the table's columns.
    pub series: Vec<String>,
    /// The legend, when there are several series: (colour, name).
    pub legend: Vec<(usize, String)>,
    pub columns: Vec<ChartColumn>,
    /// The value at the top of the axis.
    pub top: String,
    /// Whether anything is charted at all.
    pub empty: bool,
}

/// The whole section.
pub struct EngagementView {
    pub facts: Vec<Fact>,
    pub charts: Vec<Chart>,
}

/// The plot's height and a column's width and bar width, in SVG units.
const PLOT: u32 = 80;
const COLUMN: u32 = 24;
const BAR: u32 = 16;
/// Where the plot starts vertically (room for the top label).
const TOP: u32 = 12;

impl Chart {
    /// The SVG's width.
    pub fn width(&self) -> u32 {
        self.columns.len() as u32 * COLUMN
    }

    /// The SVG's height: the plot, then a line for the months' initials.
    pub fn height(&self) -> u32 {
        TOP + PLOT + 14
    }

    /// Where the plot's base line is.
    pub fn base(&self) -> u32 {
        TOP + PLOT
    }

    /// Where a month's initial is drawn.
    pub fn label_y(&self) -> u32 {
        TOP + PLOT + 11
    }

    /// A column's centre, for its label.
    pub fn centre(&self, column: &ChartColumn) -> u32 {
        column.x + COLUMN / 2
    }

    /// The bar's width.
    pub fn bar_width(&self) -> u32 {
        BAR
    }
}

/// The colour of a series: ten, the last for every series past the ninth.
fn swatch(series: usize) -> usize {
    series.min(9)
}

/// Builds a chart from one stack of values per month (`max` is the axis' top).
fn chart(
    id: &'static str,
    title: &'static str,
    series: Vec<String>,
    months: &[MonthFigures],
    stacks: impl Fn(&MonthFigures) -> Vec<f64>,
    describe: impl Fn(f64) -> String,
    max: Option<f64>,
) -> Chart {
    let values: Vec<Vec<f64>> = months.iter().map(&stacks).collect();
    let highest = values
        .iter()
        .map(|stack| stack.iter().sum::<f64>())
        .fold(0.0_f64, f64::max);
    let top = max.unwrap_or(highest).max(1.0);
    let columns = months
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (month, stack))| {
            let mut bars = Vec::new();
            let mut below = 0.0;
            for (series_index, value) in stack.iter().enumerate() {
                if *value <= 0.0 {
                    continue;
                }
                let from = (below / top * f64::from(PLOT)).round() as u32;
                below += value;
                let to = (below / top * f64::from(PLOT)).round() as u32;
                let height = (to - from).max(1);
                bars.push(Bar {
                    y: TOP + PLOT - from - height,
                    height,
                    series: swatch(series_index),
                    title: match series.get(series_index) {
                        Some(name) if series.len() > 1 => format!(
                            "{} {}: {} {}",
                            month_name(month.first_day.month()),
                            month.first_day.year(),
                            name,
                            describe(*value)
                        ),
                        _ => format!(
                            "{} {}: {}",
                            month_name(month.first_day.month()),
                            month.first_day.year(),
                            describe(*value)
                        ),
                    },
                });
            }
            ChartColumn {
                x: i as u32 * COLUMN,
                initial: month_name(month.first_day.month())[..1].to_owned(),
                month: format!(
                    "{} {}",
                    month_name(month.first_day.month()),
                    month.first_day.year()
                ),
                bars,
                cells: stack.iter().map(|v| describe(*v)).collect(),
            }
        })
        .collect();
    let legend = if series.len() > 1 {
        series
            .iter()
            .enumerate()
            .map(|(i, name)| (swatch(i), name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    Chart {
        id,
        title,
        legend,
        series,
        columns,
        top: describe(top),
        empty: highest <= 0.0,
    }
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

fn whole(value: f64) -> String {
    format!("{value:.0}")
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
