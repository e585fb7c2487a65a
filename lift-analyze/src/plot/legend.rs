//! The legend under a figure: a swatch and a name per entry, left to right, in as many rows as
//! the figure's width needs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{text, text_width, Drawn};
use super::style::{rgb, Colour};

/// Height of one legend row in pixels.
const ROW: u32 = 28;
/// Space above and below the rows.
const PAD: u32 = 6;
/// Where the first entry of a row starts.
const LEFT: u32 = 70;
/// Font size of the names.
const SIZE: u32 = 14;

/// How an entry's swatch looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A filled box (bars, scatter points, chart lines).
    Box,
    /// A thick line in a grey frame (paths over a heatmap; the frame shows white paths).
    Line,
}

/// One legend entry.
pub struct Entry {
    pub label: String,
    pub colour: Colour,
    pub swatch: Swatch,
}

impl Entry {
    /// Its width: swatch, gap, name, space before the next entry.
    fn width(&self) -> u32 {
        36 + text_width(&self.label, SIZE) + 30
    }
}

/// `entries` broken into rows that fit a figure `width` pixels wide.
fn rows(entries: &[Entry], width: u32) -> Vec<&[Entry]> {
    let mut rows = Vec::new();
    let (mut start, mut x) = (0, LEFT);
    for (k, e) in entries.iter().enumerate() {
        if x + e.width() > width && k > start {
            rows.push(&entries[start..k]);
            (start, x) = (k, LEFT);
        }
        x += e.width();
    }
    if start < entries.len() {
        rows.push(&entries[start..]);
    }
    rows
}

/// The height the legend of `entries` takes under a figure `width` pixels wide (0 without entries).
pub fn height(entries: &[Entry], width: u32) -> u32 {
    match rows(entries, width).len() as u32 {
        0 => 0,
        n => n * ROW + 2 * PAD,
    }
}

/// Draws `entries` in as many rows as the area's width needs.
pub fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Drawn<DB> {
    let width = area.dim_in_pixel().0;
    for (r, row) in rows(entries, width).into_iter().enumerate() {
        legend_row(area, row, (PAD + r as u32 * ROW + ROW / 2) as i32)?;
    }
    Ok(())
}

/// Draws one row of entries centred on pixel row `y`.
fn legend_row<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry], y: i32) -> Drawn<DB> {
    let mut x = LEFT as i32;
    for e in entries {
        match e.swatch {
            Swatch::Box => area.draw(&Rectangle::new([(x, y - 6), (x + 26, y + 6)], rgb(e.colour).filled()))?,
            Swatch::Line => {
                area.draw(&Rectangle::new([(x - 2, y - 5), (x + 28, y + 5)], ShapeStyle::from(&RGBColor(120, 120, 120))))?;
                area.draw(&PathElement::new(vec![(x, y), (x + 26, y)], rgb(e.colour).stroke_width(4)))?;
            }
        }
        area.draw(&Text::new(e.label.clone(), (x + 36, y), text(SIZE).pos(Pos::new(HPos::Left, VPos::Center))))?;
        x += e.width() as i32;
    }
    Ok(())
}
