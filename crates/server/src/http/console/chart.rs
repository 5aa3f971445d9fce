//! Horizontal bar charts drawn as plain SVG by a template (`console/chart.html`): the
//! geometry is computed here, in whole SVG units, so the template only places shapes.
//! Negative values (an NPS) grow left of the zero line.

/// The chart's drawing width, in SVG units.
const WIDTH: u32 = 480;
/// Where the bars' area starts (the labels are left of it) and how wide it is.
const PLOT_LEFT: u32 = 130;
const PLOT_WIDTH: u32 = 290;
/// One bar's row.
const ROW: u32 = 24;
const BAR: u32 = 16;

/// One bar.
pub(crate) struct Bar {
    /// What it counts (a funnel step, an agent, a day).
    pub(crate) label: String,
    /// The number as shown beside the bar.
    pub(crate) shown: String,
    /// Top of its row.
    pub(crate) y: u32,
    /// Baseline of its texts.
    pub(crate) text_y: u32,
    /// Left edge and width of the bar.
    pub(crate) x: u32,
    pub(crate) width: u32,
    /// Where the number is written.
    pub(crate) shown_x: u32,
    /// Drawn in the warning colour, left of zero.
    pub(crate) negative: bool,
}

/// A chart: its title, its bars, its height and the CSV of the same numbers.
pub(crate) struct Chart {
    /// What it shows.
    pub(crate) title: String,
    /// One per row.
    pub(crate) bars: Vec<Bar>,
    /// The drawing's size.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The zero line's x.
    pub(crate) zero_x: u32,
    /// The CSV of the numbers drawn.
    pub(crate) csv: String,
}

/// Rounds a non-negative position into SVG units (the values are small and bounded).
fn units(value: f64) -> u32 {
    // The value is clamped to [0, WIDTH], so the cast keeps it exactly.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rounded = value.round().clamp(0.0, f64::from(WIDTH)) as u32;
    rounded
}

impl Chart {
    /// A chart of `(label, value, shown)` rows, scaled to the largest magnitude; a row
    /// without a value (no answers yet) gets no bar and shows its text.
    pub(crate) fn bars(
        title: impl Into<String>,
        csv: impl Into<String>,
        rows: Vec<(String, Option<f64>, String)>,
    ) -> Chart {
        let low = rows.iter().filter_map(|r| r.1).fold(0.0_f64, f64::min);
        let high = rows.iter().filter_map(|r| r.1).fold(0.0_f64, f64::max);
        let span = if high - low > 0.0 { high - low } else { 1.0 };
        let scale = f64::from(PLOT_WIDTH) / span;
        let zero = f64::from(PLOT_LEFT) + (-low) * scale;
        let bars = rows
            .into_iter()
            .zip(0u32..)
            .map(|((label, value, shown), index)| {
                let value = value.unwrap_or(0.0);
                let end = zero + value * scale;
                let (left, right) = if value < 0.0 {
                    (end, zero)
                } else {
                    (zero, end)
                };
                let y = 4 + index * ROW;
                Bar {
                    label,
                    shown,
                    y,
                    text_y: y + 13,
                    x: units(left),
                    width: units(right - left).max(u32::from(value != 0.0)),
                    shown_x: units(right) + 6,
                    negative: value < 0.0,
                }
            })
            .collect::<Vec<_>>();
        let rows = u32::try_from(bars.len()).unwrap_or(u32::MAX / ROW);
        Chart {
            title: title.into(),
            bars,
            width: WIDTH,
            height: 8 + rows.max(1) * ROW,
            zero_x: units(zero),
            csv: csv.into(),
        }
    }

    /// The bar's height, for the template.
    pub(crate) fn bar_height(&self) -> u32 {
        BAR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_negatives_grow_left_of_zero() {
        let chart = Chart::bars(
            "NPS",
            "",
            vec![
                ("a".into(), Some(50.0), "50".into()),
                ("b".into(), Some(-50.0), "-50".into()),
                ("c".into(), None, "no answers".into()),
            ],
        );
        let (a, b, c) = (&chart.bars[0], &chart.bars[1], &chart.bars[2]);
        assert_eq!(chart.zero_x, PLOT_LEFT + PLOT_WIDTH / 2);
        assert_eq!(a.x, chart.zero_x);
        assert_eq!(a.width, PLOT_WIDTH / 2);
        assert!(b.negative);
        assert_eq!(b.x + b.width, chart.zero_x);
        assert_eq!(c.width, 0);
        assert_eq!(chart.height, 8 + 3 * ROW);
    }
}
