//! Small bar charts drawn on the server as SVG (no script): stacked bars, a legend, a
//! `<title>` on each bar, an optional link per bar, and the figures as a table for screen
//! readers. Shared by the profile's engagement section and the Insights page; the
//! template is `partials/chart.html`.

/// One bar (or one series' part of a stacked bar), in the chart's coordinates.
pub struct Bar {
    pub y: u32,
    pub height: u32,
    /// Which series (colour) it belongs to.
    pub series: usize,
    /// What a pointer over it says.
    pub title: String,
    /// Where clicking it leads (the matching customers), if anywhere.
    pub href: Option<String>,
}

/// One column of a chart.
pub struct ChartColumn {
    pub x: u32,
    /// The short label under the bar ("N", "23/11"), empty to leave room.
    pub initial: String,
    /// The table's row heading ("November 2026").
    pub month: String,
    pub bars: Vec<Bar>,
    /// The table's cells after the heading: one per series.
    pub cells: Vec<String>,
}

/// A chart ready for the template.
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
    /// The table's first column heading ("Month", "Week", "Rating").
    pub axis: &'static str,
    /// What the chart says when empty.
    pub nothing: &'static str,
    /// Where its figures download as CSV, if they do.
    pub csv: Option<String>,
    column: u32,
    bar: u32,
}

/// What a chart is built from: one column's stack of values, one per series.
pub struct Column {
    pub initial: String,
    pub name: String,
    pub stack: Vec<f64>,
    /// A link per series, or none.
    pub links: Vec<Option<String>>,
}

/// The plot's height, in SVG units.
const PLOT: u32 = 80;
/// Where the plot starts vertically (room for the top label).
const TOP: u32 = 12;

impl Chart {
    /// Builds a chart (`max` is the axis' top, else the highest stack); `wide` columns
    /// suit a dozen of them, narrow ones a year of weeks.
    pub fn new(
        id: &'static str,
        title: &'static str,
        series: Vec<String>,
        columns: Vec<Column>,
        describe: impl Fn(f64) -> String,
        max: Option<f64>,
        wide: bool,
    ) -> Chart {
        let (column_width, bar_width) = if wide { (24, 16) } else { (14, 10) };
        let highest = columns
            .iter()
            .map(|c| c.stack.iter().sum::<f64>())
            .fold(0.0_f64, f64::max);
        let top = max.unwrap_or(highest).max(1.0);
        let drawn = columns
            .into_iter()
            .enumerate()
            .map(|(i, column)| {
                let mut bars = Vec::new();
                let mut below = 0.0;
                let cells: Vec<String> = column.stack.iter().map(|v| describe(*v)).collect();
                for (index, value) in column.stack.iter().enumerate() {
                    if *value <= 0.0 {
                        continue;
                    }
                    let from = (below / top * f64::from(PLOT)).round() as u32;
                    below += value;
                    let to = (below / top * f64::from(PLOT)).round() as u32;
                    let height = (to - from).max(1);
                    let title = match series.get(index) {
                        Some(name) if series.len() > 1 => {
                            format!("{}: {} {}", column.name, name, cells[index])
                        }
                        _ => format!("{}: {}", column.name, cells[index]),
                    };
                    bars.push(Bar {
                        y: TOP + PLOT - from.min(PLOT) - height.min(PLOT),
                        height: height.min(PLOT),
                        series: index.min(9),
                        title,
                        href: column.links.get(index).cloned().flatten(),
                    });
                }
                ChartColumn {
                    x: i as u32 * column_width,
                    initial: column.initial,
                    month: column.name,
                    bars,
                    cells,
                }
            })
            .collect();
        let legend = if series.len() > 1 {
            series
                .iter()
                .enumerate()
                .map(|(i, name)| (i.min(9), name.clone()))
                .collect()
        } else {
            Vec::new()
        };
        Chart {
            id,
            title,
            legend,
            series,
            columns: drawn,
            top: describe(top),
            empty: highest <= 0.0,
            axis: "Month",
            nothing: "Nothing in the last 12 months.",
            csv: None,
            column: column_width,
            bar: bar_width,
        }
    }

    /// The table's first heading and the empty chart's words.
    pub fn described(mut self, axis: &'static str, nothing: &'static str) -> Chart {
        self.axis = axis;
        self.nothing = nothing;
        self
    }

    /// Where the figures download as CSV.
    pub fn with_csv(mut self, href: String) -> Chart {
        self.csv = Some(href);
        self
    }

    /// Whether a bar links somewhere (the drawing is then reachable, not only the table).
    pub fn linked(&self) -> bool {
        self.columns
            .iter()
            .any(|c| c.bars.iter().any(|b| b.href.is_some()))
    }

    /// The SVG's width.
    pub fn width(&self) -> u32 {
        (self.columns.len() as u32 * self.column).max(self.column)
    }

    /// The SVG's height: the plot, then a line for the labels.
    pub fn height(&self) -> u32 {
        TOP + PLOT + 14
    }

    /// Where the plot's base line is.
    pub fn base(&self) -> u32 {
        TOP + PLOT
    }

    /// Where a column's label is drawn.
    pub fn label_y(&self) -> u32 {
        TOP + PLOT + 11
    }

    /// A column's centre, for its label.
    pub fn centre(&self, column: &ChartColumn) -> u32 {
        column.x + self.column / 2
    }

    /// Where a bar starts within its column.
    pub fn bar_x(&self, column: &ChartColumn) -> u32 {
        column.x + (self.column - self.bar) / 2
    }

    /// The bar's width.
    pub fn bar_width(&self) -> u32 {
        self.bar
    }
}

/// A whole number as the charts write it. Counts are written as integers: `{:.0}` on a
/// float takes the exact (slow) formatting path, and a year of charts writes thousands.
pub fn whole(value: f64) -> String {
    // Negative zero and negatives keep the exact path ("-0" is what it writes for -0.4).
    if value.is_sign_positive() && value < 1e15 {
        (value.round_ties_even() as i64).to_string()
    } else {
        format!("{value:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::whole;

    #[test]
    fn whole_numbers_read_as_the_exact_formatting_writes_them() {
        for value in [
            0.0,
            -0.0,
            -0.4,
            -3.0,
            0.4,
            1.0,
            7.0,
            0.5,
            1.5,
            2.5,
            99.49,
            12_345.0,
            3.0e9,
            1e16,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(whole(value), format!("{value:.0}"), "{value}");
        }
    }
}
