//! The house style for figures: an embedded font, a colour-blind-safe palette, chart defaults, and
//! two ready-made charts (lines and bars) that most lessons need.
//!
//! Every figure is drawn twice, to PNG and to SVG, by the [`figure!`](crate::figure) macro. Text is
//! rendered with DejaVu Sans embedded in the binary, so no system font is needed.

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use plotters;

/// The error type inside a figure's drawing code; the [`figure!`](crate::figure) macro turns it
/// into [`crate::Error::Artefact`] naming the file.
pub type DrawError = Box<dyn std::error::Error + Send + Sync>;

/// Default figure size in pixels (width, height).
pub const SIZE: (u32, u32) = (960, 600);

/// The page colour behind every figure.
pub const BACKGROUND: RGBColor = WHITE;

/// The Okabe–Ito palette: eight colours that stay distinct for the common kinds of colour blindness.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// Colour number `i` of the palette (cycling).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Colour for category `i` of `n`: the palette when it has enough colours, otherwise `n` hues
/// spaced evenly around the colour wheel (ten digit classes, say).
pub fn category_color(i: usize, n: usize) -> RGBColor {
    if n <= PALETTE.len() {
        return color(i);
    }
    let hsl = HSLColor(i as f64 / n as f64, 0.75, 0.45);
    let (r, g, b) = hsl.rgb();
    RGBColor(r, g, b)
}

/// Registers the embedded DejaVu Sans as plotters' sans-serif font (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the `dejavu` crate, so registration
        // cannot fail; a failure would only leave text undrawn, never corrupt a figure.
        let _ = register_font_bytes("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font_bytes("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

fn register_font_bytes(name: &str, style: FontStyle, bytes: &'static [u8]) -> Result<(), ()> {
    plotters::style::register_font(name, style, bytes).map_err(|_| ())
}

/// The title font.
pub fn title_style() -> TextStyle<'static> {
    ("sans-serif", 26).into_font().style(FontStyle::Bold).into()
}

/// The font of axis descriptions and tick labels.
pub fn label_style() -> TextStyle<'static> {
    ("sans-serif", 16).into_font().into()
}

/// The title font at the largest size, from 26 px down to 11 px, at which `title` fits the width
/// of `area` (less the margins): in a grid of small panels a long title shrinks instead of running
/// into its neighbour or off the edge.
pub fn fitted_title_style<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> TextStyle<'static> {
    let room = area.dim_in_pixel().0.saturating_sub(2 * 18);
    for size in (11..=26).rev() {
        let style: TextStyle<'static> = ("sans-serif", size)
            .into_font()
            .style(FontStyle::Bold)
            .into();
        match area.estimate_text_size(title, &style) {
            Ok((width, _)) if width <= room => return style,
            Err(_) => return style,
            _ => {}
        }
    }
    ("sans-serif", 11).into_font().style(FontStyle::Bold).into()
}

/// A chart builder with the house margins and a title that fits.
pub fn chart<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, fitted_title_style(root, title))
        .margin(18)
        .x_label_area_size(52)
        .y_label_area_size(78);
    builder
}

/// Applies the house style to a mesh: faint grid lines and the house font for ticks and axis
/// descriptions. Every chart of this module goes through it.
pub fn house_mesh<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
{
    mesh.light_line_style(BLACK.mix(0.05))
        .bold_line_style(BLACK.mix(0.12))
        .label_style(label_style())
        .axis_desc_style(label_style())
}

/// Draws light grid lines and labelled axes, with the house tick labels (15k, 0.25, no trailing
/// ".0").
pub fn axes<DB>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x_desc: &str,
    y_desc: &str,
) -> Result<(), DrawError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (x, y) = (chart.x_range(), chart.y_range());
    let (x_span, y_span) = (x.end - x.start, y.end - y.start);
    house_mesh(&mut chart.configure_mesh())
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| linear_axis_tick(*v, x_span))
        .y_label_formatter(&|v| linear_axis_tick(*v, y_span))
        .draw()?;
    Ok(())
}

/// Draws the legend of every series that has a label, in the upper left corner.
pub fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    legend_at(chart, SeriesLabelPosition::UpperLeft)
}

/// The house legend (white, faint border, the label font) at `position`.
fn legend_at<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(label_style())
        .position(position)
        .draw()?;
    Ok(())
}

/// The legend box in pixels: a 30 px marker column and the longest name, one 20 px row per entry.
fn legend_size<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    names: &[&str],
) -> (i32, i32) {
    let widest = names
        .iter()
        .filter_map(|n| area.estimate_text_size(n, &label_style()).ok())
        .map(|(w, _)| w as i32)
        .max()
        .unwrap_or(60);
    (widest + 40, names.len() as i32 * 20 + 12)
}

/// Where a legend may go, as plotters names it, with the top-left corner of its box inside a
/// plotting area `size` pixels large (relative to the area's own top-left corner).
fn legend_candidates(size: (i32, i32), legend: (i32, i32)) -> [(SeriesLabelPosition, i32, i32); 6] {
    let ((width, height), (w, h)) = (size, legend);
    [
        (SeriesLabelPosition::UpperLeft, 0, 0),
        (SeriesLabelPosition::UpperRight, width - w, 0),
        (SeriesLabelPosition::LowerLeft, 0, height - h),
        (SeriesLabelPosition::LowerRight, width - w, height - h),
        (SeriesLabelPosition::UpperMiddle, (width - w) / 2, 0),
        (
            SeriesLabelPosition::LowerMiddle,
            (width - w) / 2,
            height - h,
        ),
    ]
}

/// How many of `pixels` fall within 8 px of a legend box of size `legend` at `corner`.
fn covered(pixels: &[(i32, i32)], corner: (i32, i32), legend: (i32, i32)) -> usize {
    let ((x0, y0), (w, h)) = (corner, legend);
    pixels
        .iter()
        .filter(|(x, y)| (x0 - 8..x0 + w + 8).contains(x) && (y0 - 8..y0 + h + 8).contains(y))
        .count()
}

/// Draws the legend in the corner of the plotting area that covers the fewest of `points` (data
/// coordinates), so that it does not sit on the data: the house rule for every chart that knows
/// its points. The charts of this module first make room for it ([`top_with_room_for_legend`]),
/// so that one corner is free.
pub fn legend_clear_of<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    names: &[&str],
    points: &[(f64, f64)],
) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    let area = chart.plotting_area();
    let base = area.get_base_pixel();
    let pixels: Vec<(i32, i32)> = points
        .iter()
        .map(|p| {
            let (x, y) = area.map_coordinate(p);
            (x - base.0, y - base.1)
        })
        .collect();
    legend_clear_of_pixels(chart, names, &pixels)
}

/// [`legend_clear_of`] for points already in pixels of the plotting area (from its top-left).
fn legend_clear_of_pixels<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    names: &[&str],
    pixels: &[(i32, i32)],
) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    let area = chart.plotting_area();
    let size = area.dim_in_pixel();
    let legend = legend_size(area, names);
    let position = legend_candidates((size.0 as i32, size.1 as i32), legend)
        .into_iter()
        .min_by_key(|(_, x0, y0)| covered(pixels, (*x0, *y0), legend))
        .map_or(SeriesLabelPosition::UpperLeft, |c| c.0);
    legend_at(chart, position)
}

/// The top of a y range (`y0..y1`, in axis units: log10 of the values on a log axis) raised just
/// enough that a legend of `names` fits above the data, when no corner of the plotting area is free
/// of `points` (each as a fraction of the current ranges: 0..1 on both axes, y up). The plotting
/// area is estimated from `root`'s size and the house margins of [`chart`]; a chart that already
/// has a free corner keeps its range.
fn top_with_room_for_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    names: &[&str],
    points: &[(f64, f64)],
    (y0, y1): (f64, f64),
) -> f64 {
    let (width, height) = root.dim_in_pixel();
    // Margins of 18 px, a 78 px y-label area, a 52 px x-label area and a title of about 40 px.
    let plot = (
        (width as i32 - 2 * 18 - 78).max(50),
        (height as i32 - 2 * 18 - 52 - 40).max(50),
    );
    let legend = legend_size(root, names);
    let pixels = unit_to_pixels(points, plot);
    let free = legend_candidates(plot, legend)
        .iter()
        .any(|(_, x0, y0)| covered(&pixels, (*x0, *y0), legend) == 0);
    if free || y1 <= y0 {
        return y1;
    }
    // The band the legend needs at the top, as a share of the plotting height (at most half).
    let band = (f64::from(legend.1 + 16) / f64::from(plot.1)).min(0.5);
    y0 + (y1 - y0) / (1.0 - band)
}

/// Points given as fractions of a plotting area (y up), in pixels from its top-left corner.
fn unit_to_pixels(points: &[(f64, f64)], (width, height): (i32, i32)) -> Vec<(i32, i32)> {
    points
        .iter()
        .map(|&(x, y)| {
            (
                (x * f64::from(width)).round() as i32,
                ((1.0 - y) * f64::from(height)).round() as i32,
            )
        })
        .collect()
}

/// Points along each line, a few pixels apart, as fractions of the plotting area (y up): `unit`
/// maps a data point there (through a log axis, say), and the segments are straight in that
/// space, as they are drawn. What a legend must not hide of a line chart.
fn along_lines(series: &[Series], unit: impl Fn((f64, f64)) -> (f64, f64)) -> Vec<(f64, f64)> {
    let mut samples = Vec::new();
    for s in series {
        let mapped: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| unit(*p))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        for w in mapped.windows(2) {
            let (a, b) = (w[0], w[1]);
            // One sample per 1/300 of the area: a few pixels apart on any figure.
            let steps = ((b.0 - a.0).hypot(b.1 - a.1) * 300.0).ceil().max(1.0) as usize;
            samples.extend((0..steps).map(|k| {
                let t = k as f64 / steps as f64;
                (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
            }));
        }
        samples.extend(mapped.last().copied());
    }
    samples
}

/// The tick label of a category axis where category `i` spans `i..i + 1`: the category's name at
/// the middle of its span, nothing at the other tick positions. Ask for `2n + 1` labels on an
/// axis of `n` categories so that every middle gets a tick.
pub fn category_tick<S: AsRef<str>>(names: &[S], v: f64) -> String {
    let i = (v - 0.5).round();
    if (v - 0.5 - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].as_ref().to_string()
    } else {
        String::new()
    }
}

/// Formats a tick value compactly: 1500 → "1500", 15000 → "15k", 2e6 → "2M", 0.001 → "0.001".
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.1}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.1}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 1.0 || a == 0.0 {
        trim(format!("{v:.2}"))
    } else if a >= 1e-3 {
        // Three significant digits: 0.8117 → "0.812", 0.0025 → "0.0025".
        let decimals = (2 - a.log10().floor() as i32) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        format!("{v:.0e}")
    }
}

/// A tick on a linear axis of width `span`: like [`tick`], but a value that is zero up to rounding
/// (−6e-17 from stepping across zero) is written as 0. A log axis has no zero and uses [`tick`].
pub fn linear_axis_tick(v: f64, span: f64) -> String {
    if v.abs() <= 1e-9 * span.abs() {
        "0".into()
    } else {
        tick(v)
    }
}

/// The tick of an axis whose linear span is known, or of a log axis (no span).
fn tick_on(v: f64, linear_span: Option<f64>) -> String {
    linear_span.map_or_else(|| tick(v), |span| linear_axis_tick(v, span))
}

/// One named series of points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// The axis range that shows every finite value of the series: padded by 5 % on a linear axis,
/// by a factor of 1.5 on a logarithmic one (which only shows positive values).
fn axis_range(series: &[Series], log: bool, pick: fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().map(pick))
        .filter(|v| v.is_finite() && (!log || *v > 0.0));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (if log { 1.0 } else { 0.0 }, 1.0);
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-12);
        (lo - pad, hi + pad)
    }
}

/// A chart of lines with markers, on linear or logarithmic axes.
#[derive(Debug, Clone)]
pub struct LineChart {
    title: String,
    x_desc: String,
    y_desc: String,
    log_x: bool,
    log_y: bool,
    series: Vec<Series>,
}

impl LineChart {
    pub fn new(title: &str, x_desc: &str, y_desc: &str) -> LineChart {
        LineChart {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            log_x: false,
            log_y: false,
            series: Vec::new(),
        }
    }

    pub fn log_log(mut self) -> LineChart {
        self.log_x = true;
        self.log_y = true;
        self
    }

    /// A logarithmic x axis over a linear y axis, for a sweep over orders of magnitude.
    pub fn log_x(mut self) -> LineChart {
        self.log_x = true;
        self
    }

    /// A logarithmic y axis over a linear x axis: exponential growth draws as a straight line.
    pub fn log_y(mut self) -> LineChart {
        self.log_y = true;
        self
    }

    pub fn series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> LineChart {
        self.series.push(Series::new(name, points));
        self
    }

    fn bounds(&self, log: bool, pick: fn(&(f64, f64)) -> f64) -> (f64, f64) {
        axis_range(&self.series, log, pick)
    }

    /// Draws the chart on `root`.
    pub fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let (x0, x1) = self.bounds(self.log_x, |p| p.0);
        let (y0, y1) = self.bounds(self.log_y, |p| p.1);
        // The axes in their own units (log10 on a log axis), to make room for the legend.
        let axis = |v: f64, log: bool| if log { v.log10() } else { v };
        let (ax0, ax1) = (axis(x0, self.log_x), axis(x1, self.log_x));
        let (ay0, ay1) = (axis(y0, self.log_y), axis(y1, self.log_y));
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let along = along_lines(&self.series, |(x, y)| {
            (
                (axis(x, self.log_x) - ax0) / (ax1 - ax0),
                (axis(y, self.log_y) - ay0) / (ay1 - ay0),
            )
        });
        let top = top_with_room_for_legend(root, &names, &along, (ay0, ay1));
        let y1 = if self.log_y { 10f64.powf(top) } else { top };
        match (self.log_x, self.log_y) {
            (false, false) => self.draw_in(root, x0..x1, y0..y1, (Some(x1 - x0), Some(y1 - y0))),
            (true, false) => {
                self.draw_in(root, (x0..x1).log_scale(), y0..y1, (None, Some(y1 - y0)))
            }
            (false, true) => {
                self.draw_in(root, x0..x1, (y0..y1).log_scale(), (Some(x1 - x0), None))
            }
            (true, true) => self.draw_in(
                root,
                (x0..x1).log_scale(),
                (y0..y1).log_scale(),
                (None, None),
            ),
        }
    }

    /// `spans` are the widths of the linear axes (None for a logarithmic one).
    fn draw_in<DB, X, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: X,
        y: Y,
        spans: (Option<f64>, Option<f64>),
    ) -> Result<(), DrawError>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = chart(root, &self.title).build_cartesian_2d(x, y)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&|v| tick_on(*v, spans.0))
            .y_label_formatter(&|v| tick_on(*v, spans.1))
            .draw()?;
        for (i, s) in self.series.iter().enumerate() {
            let c = category_color(i, self.series.len());
            // Dense series (a weekly series over decades) get thinner lines and no markers, which
            // would otherwise merge into a solid band.
            let width = if s.points.len() > 200 { 2 } else { 3 };
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    c.stroke_width(width),
                ))?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], c.stroke_width(3)));
            if s.points.len() <= 60 {
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
            }
        }
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        // The lines, every few pixels along each segment, are what the legend must not hide.
        let area = chart.plotting_area();
        let (base, size) = (area.get_base_pixel(), area.dim_in_pixel());
        let along = along_lines(&self.series, |p| {
            let (x, y) = area.map_coordinate(&p);
            (
                f64::from(x - base.0) / f64::from(size.0.max(1)),
                f64::from(base.1 + size.1 as i32 - y) / f64::from(size.1.max(1)),
            )
        });
        let pixels = unit_to_pixels(&along, (size.0 as i32, size.1 as i32));
        legend_clear_of_pixels(&mut chart, &names, &pixels)?;
        Ok(())
    }
}

/// A scatter chart of labelled groups of points (one colour per group), on linear axes that fit
/// the data.
#[derive(Debug, Clone)]
pub struct ScatterChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub groups: Vec<Series>,
}

impl ScatterChart {
    pub fn new(title: &str, x_desc: &str, y_desc: &str) -> ScatterChart {
        ScatterChart {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            groups: Vec::new(),
        }
    }

    pub fn group(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> ScatterChart {
        self.groups.push(Series::new(name, points));
        self
    }

    /// One group per name: the points whose label is that name's index.
    pub fn labelled(
        mut self,
        names: &[String],
        labels: &[usize],
        points: &[(f64, f64)],
    ) -> ScatterChart {
        for (k, name) in names.iter().enumerate() {
            let mine = labels
                .iter()
                .zip(points)
                .filter(|(l, _)| **l == k)
                .map(|(_, p)| *p)
                .collect();
            self = self.group(name.as_str(), mine);
        }
        self
    }

    /// Draws the chart on `root`.
    pub fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let (x0, x1) = axis_range(&self.groups, false, |p| p.0);
        let (y0, y1) = axis_range(&self.groups, false, |p| p.1);
        let names: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        let points: Vec<(f64, f64)> = self
            .groups
            .iter()
            .flat_map(|g| g.points.iter().copied())
            .collect();
        let in_unit: Vec<(f64, f64)> = points
            .iter()
            .map(|&(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)))
            .collect();
        let y1 = top_with_room_for_legend(root, &names, &in_unit, (y0, y1));
        let mut chart = chart(root, &self.title).build_cartesian_2d(x0..x1, y0..y1)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&|v| linear_axis_tick(*v, x1 - x0))
            .y_label_formatter(&|v| linear_axis_tick(*v, y1 - y0))
            .draw()?;
        for (i, g) in self.groups.iter().enumerate() {
            let c = category_color(i, self.groups.len());
            chart
                .draw_series(
                    g.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, c.mix(0.7).filled())),
                )?
                .label(g.name.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        legend_clear_of(&mut chart, &names, &points)?;
        Ok(())
    }
}

/// A chart of labelled horizontal bars (one value each, first at the top), with each value written
/// at the end of its bar. Horizontal bars leave room for long category names.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub value_desc: String,
    pub bars: Vec<(String, f64)>,
}

impl BarChart {
    pub fn new(title: &str, value_desc: &str) -> BarChart {
        BarChart {
            title: title.into(),
            value_desc: value_desc.into(),
            bars: Vec::new(),
        }
    }

    pub fn bar(mut self, label: impl Into<String>, value: f64) -> BarChart {
        self.bars.push((label.into(), value));
        self
    }

    /// Draws the chart on `root`.
    pub fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let n = self.bars.len().max(1) as i32;
        let top = self
            .bars
            .iter()
            .map(|b| b.1)
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max)
            .max(1e-12)
            * 1.18;
        // Row r from the top shows bar r; plotters counts segments from the bottom.
        let label_of = |seg: &SegmentValue<i32>| match seg {
            SegmentValue::CenterOf(k) => self
                .bars
                .get((n - 1 - k) as usize)
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let widest = self
            .bars
            .iter()
            .map(|b| b.0.chars().count())
            .max()
            .unwrap_or(4) as u32;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title.as_str(), fitted_title_style(root, &self.title))
            .margin(18)
            .x_label_area_size(52)
            .y_label_area_size(24 + 9 * widest)
            .build_cartesian_2d(0.0..top, (0..n - 1).into_segmented())?;
        // About one value tick per 110 px, so that labels such as 0.035 do not run together in
        // a small panel.
        let ticks = (root.dim_in_pixel().0 / 110).clamp(3, 10) as usize;
        house_mesh(&mut chart.configure_mesh())
            .disable_y_mesh()
            .x_labels(ticks)
            .x_desc(self.value_desc.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&label_of)
            .y_labels(n as usize)
            .draw()?;
        for (i, (_, value)) in self.bars.iter().enumerate() {
            let row = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (*value, SegmentValue::Exact(row + 1)),
                ],
                // One colour: the labels name the bars, a colour per bar would encode nothing,
                // and the palette's repeats would suggest groups that are not there.
                color(0).filled(),
            );
            bar.set_margin(8, 8, 0, 0);
            chart.draw_series(std::iter::once(bar))?;
            chart.draw_series(std::iter::once(Text::new(
                format!(" {}", tick(*value)),
                (*value, SegmentValue::CenterOf(row)),
                label_style().pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        Ok(())
    }
}

/// Draws a figure to `<out>/<stem>.png` and `<out>/<stem>.svg` with the house font and background,
/// and records both in the lesson's report as a figure (each checked: the PNG decodes, the SVG parses). The body runs once per backend, with `root` bound to the
/// backend's drawing area; inside it `?` works on plotters' errors. Evaluates to
/// `Result<(), harness::Error>`.
///
/// ```ignore
/// figure!(lesson, "speed", plot::SIZE, |root| {
///     plot::BarChart::new("Sum of 1M numbers", "ms").bar("loop", 3.1).draw(&root)?;
/// })?;
/// ```
#[macro_export]
macro_rules! figure {
    ($lesson:expr, $stem:expr, $size:expr, |$root:ident| $body:block) => {{
        use $crate::plot::plotters::prelude::IntoDrawingArea as _;
        let (png, svg) = $lesson.figure_paths($stem);
        $crate::plot::register_font();
        let png_drawn = (|| -> ::std::result::Result<(), $crate::plot::DrawError> {
            let $root = $crate::plot::plotters::prelude::BitMapBackend::new(&png, $size)
                .into_drawing_area();
            $root.fill(&$crate::plot::BACKGROUND)?;
            $body;
            $root.present()?;
            Ok(())
        })();
        let svg_drawn = (|| -> ::std::result::Result<(), $crate::plot::DrawError> {
            let $root =
                $crate::plot::plotters::prelude::SVGBackend::new(&svg, $size).into_drawing_area();
            $root.fill(&$crate::plot::BACKGROUND)?;
            $body;
            $root.present()?;
            Ok(())
        })();
        match (png_drawn, svg_drawn) {
            (Err(e), _) => Err($crate::Error::Artefact {
                kind: $crate::ArtefactKind::Figure,
                path: png.clone(),
                message: e.to_string(),
            }),
            (_, Err(e)) => Err($crate::Error::Artefact {
                kind: $crate::ArtefactKind::Figure,
                path: svg.clone(),
                message: e.to_string(),
            }),
            _ => $lesson
                .record($crate::ArtefactKind::Figure, &png)
                .and_then(|_| $lesson.record($crate::ArtefactKind::Figure, &svg)),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_compact() {
        assert_eq!(linear_axis_tick(-6e-17, 0.8), "0");
        assert_eq!(tick_on(1e-12, None), "1e-12");
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(15000.0), "15k");
        assert_eq!(tick(2e6), "2M");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.8117), "0.812");
        assert_eq!(tick(0.0025), "0.0025");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1e-5), "1e-5");
    }
}
