//! What every report figure shares: drawn once through plotters, written as PNG (for the
//! markdown report) and SVG (vector, text kept as text, for a paper), in DejaVu Sans.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// What drawing on a backend `DB` returns.
pub type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The font family every text uses; DejaVu Sans is registered under it.
pub const FONT: &str = "sans-serif";

/// The font of tick labels, legends and notes.
pub fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}

/// The font of titles.
pub fn title(size: u32) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size as f64, FontStyle::Bold).into()
}

/// The width in pixels of `s` in the [`text`] font of `size`.
pub fn text_width(s: &str, size: u32) -> u32 {
    register_dejavu();
    // DejaVu Sans is registered above, so the estimate cannot miss the font.
    text(size).font.box_size(s).map(|(w, _)| w).unwrap_or(0)
}

/// Registers DejaVu Sans (embedded by the `dejavu` crate) so that figures never depend on the
/// fonts a machine happens to have.
fn register_dejavu() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The embedded files are valid TrueType; a failure here would be a broken crate.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// A figure that draws itself on any plotters backend.
pub trait Figure {
    /// Width and height in pixels (the SVG's user units).
    fn size(&self) -> (u32, u32);

    /// Draws on `root`, already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;

    /// The figure as PNG bytes.
    fn png(&self) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        register_dejavu();
        let (w, h) = self.size();
        let mut rgb = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root).and_then(|_| root.present()).map_err(|e| anyhow!("drawing the figure: {e}"))?;
        }
        let img = image::RgbImage::from_raw(w, h, rgb).ok_or_else(|| anyhow!("figure buffer of the wrong size"))?;
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
        Ok(bytes)
    }

    /// The figure as an SVG document.
    fn svg(&self) -> Result<String>
    where
        Self: Sized,
    {
        register_dejavu();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            root.fill(&WHITE).and_then(|_| self.draw(&root)).and_then(|_| root.present()).map_err(|e| anyhow!("drawing the figure: {e}"))?;
        }
        Ok(svg)
    }

    /// Writes `<path>.png` and `<path>.svg` atomically (`path` ends in either) and returns both.
    fn save(&self, path: &Path) -> Result<[PathBuf; 2]>
    where
        Self: Sized,
    {
        let [png, svg] = figure_files(path)?;
        lift_core::io::write_atomic(&png, &self.png()?)?;
        lift_core::io::write_atomic(&svg, self.svg()?.as_bytes())?;
        Ok([png, svg])
    }
}

/// The PNG and SVG files a figure named `path` is written to.
pub fn figure_files(path: &Path) -> Result<[PathBuf; 2]> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("png" | "svg") => Ok([path.with_extension("png"), path.with_extension("svg")]),
        _ => bail!("{}: a figure is written as .png and .svg; name it with either extension", path.display()),
    }
}
