//! The report's figures, read back from what they write: the SVG's elements (positions, colours,
//! texts) and the PNG's pixels, against values worked out from the inputs by hand.

use std::collections::HashMap;
use std::path::Path;

use ab_glyph::{Font, ScaleFont};
use lift_analyze::plot::style::{rgb, viridis, MISSING};
use lift_analyze::plot::{bar_chart, figure_files, heatmap_figure, line_chart, Colour, Figure, Grid, Group, Overlay, Series};
use plotters::style::RGBColor;

/// The elements `<tag …>` of an SVG document, each as its attributes.
fn elements(svg: &str, tag: &str) -> Vec<HashMap<String, String>> {
    let open = format!("<{tag} ");
    svg.split(open.as_str())
        .skip(1)
        .map(|rest| {
            let mut head = &rest[..rest.find('>').expect("a closed tag")];
            let mut attrs = HashMap::new();
            while let Some(eq) = head.find("=\"") {
                let name = head[..eq].split_whitespace().last().unwrap_or_default().to_string();
                let value_end = head[eq + 2..].find('"').expect("a closed value");
                attrs.insert(name, head[eq + 2..eq + 2 + value_end].to_string());
                head = &head[eq + 3 + value_end..];
            }
            attrs
        })
        .collect()
}

fn number(attrs: &HashMap<String, String>, name: &str) -> f64 {
    attrs[name].parse().unwrap_or_else(|_| panic!("{name} = {}", attrs[name]))
}

/// The texts an SVG shows.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text ").skip(1).map(|rest| rest[rest.find('>').unwrap() + 1..rest.find("</text>").unwrap()].trim().to_string()).collect()
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn with_fill<'a>(items: &'a [HashMap<String, String>], colour: &str) -> Vec<&'a HashMap<String, String>> {
    items.iter().filter(|a| a.get("fill").map(String::as_str) == Some(colour)).collect()
}

fn series(name: &str, colour: Colour, values: &[f64]) -> Series {
    Series { name: name.into(), points: values.iter().enumerate().map(|(k, &v)| (k as f64 + 1.0, v)).collect(), colour }
}

#[test]
fn a_figure_is_written_as_png_and_svg_with_its_text_in_dejavu_sans() {
    let dir = tempfile::tempdir().unwrap();
    let chart = line_chart("LIFT training", "epoch", vec![series("train", [59, 81, 139], &[1.0, 0.5, 0.25])]);
    let [png, svg] = chart.save(&dir.path().join("curves.svg")).unwrap();
    assert_eq!((png.file_name().unwrap(), svg.file_name().unwrap()), ("curves.png".as_ref(), "curves.svg".as_ref()));
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), chart.size());
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert!(doc.starts_with("<svg") && doc.contains(r#"font-family="sans-serif""#));
    let shown = texts(&doc);
    for label in ["LIFT training", "epoch", "loss (log scale)", "train"] {
        assert!(shown.iter().any(|t| t == label), "{label} missing from {shown:?}");
    }
    // The title band (above the plot) holds only the title: an outline font leaves anti-aliased
    // greys, and its ink is as wide as DejaVu Sans Bold lays the words out at 20 px.
    let band: Vec<(u32, [u8; 3])> =
        (0..34).flat_map(|y| (0..img.width()).map(move |x| (x, y))).map(|(x, y)| (x, img.get_pixel(x, y).0)).filter(|(_, p)| *p != [255; 3]).collect();
    assert!(band.iter().any(|(_, p)| p[0] > 40 && p[0] < 215), "no anti-aliased pixels in the title");
    let ink = band.iter().map(|(x, _)| x).max().unwrap() - band.iter().map(|(x, _)| x).min().unwrap() + 1;
    let font = ab_glyph::FontRef::try_from_slice(dejavu::sans::bold()).unwrap();
    let scaled = font.as_scaled(20.0);
    let ids: Vec<_> = "LIFT training".chars().map(|c| scaled.glyph_id(c)).collect();
    let advance: f32 = ids.iter().map(|&g| scaled.h_advance(g)).sum::<f32>() + ids.windows(2).map(|w| scaled.kern(w[0], w[1])).sum::<f32>();
    // Ink is the advance less the side bearings of the first and last glyph (a pixel or two each).
    assert!((ink as f32) <= advance + 1.0 && (ink as f32) >= advance - 6.0, "title ink {ink} px, DejaVu Sans Bold lays out {advance} px");
}

#[test]
fn figure_names_need_a_png_or_svg_extension() {
    let err = figure_files(Path::new("out/heatmap.jpg")).unwrap_err().to_string();
    assert!(err.contains("out/heatmap.jpg") && err.contains(".svg"), "{err}");
    assert_eq!(figure_files(Path::new("a/b.svg")).unwrap(), [Path::new("a/b.png").to_path_buf(), Path::new("a/b.svg").to_path_buf()]);
}

#[test]
fn bars_stand_on_one_baseline_with_heights_in_proportion_to_their_values() {
    let fine: Colour = [59, 81, 139];
    let groups = vec![
        Group { label: "Test A".into(), values: vec![0.1, 0.4] },
        Group { label: "Test B".into(), values: vec![0.05, 0.2] },
        Group { label: "Test C".into(), values: vec![0.3, f64::NAN] },
    ];
    let chart = bar_chart("MSE tests", "mean squared error", &[("MSE fine 64×64", fine), ("MSE coarse 32×32", [33, 144, 141])], groups);
    let doc = chart.svg().unwrap();
    let rects = elements(&doc, "rect");
    let bars = |c: Colour| -> Vec<(f64, f64, f64)> {
        with_fill(&rects, &hex(rgb(c)))
            .into_iter()
            // The legend swatches are 26 pixels wide, the bars wider.
            .filter(|a| number(a, "width") > 30.0)
            .map(|a| (number(a, "x"), number(a, "y"), number(a, "height")))
            .collect()
    };
    let fine_bars = bars(fine);
    assert_eq!(fine_bars.len(), 3);
    let coarse_bars = bars([33, 144, 141]);
    assert_eq!(coarse_bars.len(), 2, "the NaN bar is left out");
    let base = fine_bars[0].1 + fine_bars[0].2;
    let per_unit = fine_bars[2].2 / 0.3;
    for (&(_, y, h), v) in fine_bars.iter().chain(&coarse_bars).zip([0.1, 0.05, 0.3, 0.4, 0.2]) {
        assert!((y + h - base).abs() <= 1.0, "bar of {v} ends at {}, not {base}", y + h);
        assert!((h - v * per_unit).abs() <= 1.0, "bar of {v} is {h} px, expected {}", v * per_unit);
    }
    assert!(fine_bars[0].0 < coarse_bars[0].0 && coarse_bars[0].0 < fine_bars[1].0, "series side by side within a group");
    let shown = texts(&doc);
    for label in ["Test A", "Test C", "MSE fine 64×64", "MSE coarse 32×32", "mean squared error", "0.05", "0.4"] {
        assert!(shown.iter().any(|t| t == label), "{label} missing from {shown:?}");
    }
}

#[test]
fn lines_break_at_missing_values_and_empty_series_are_left_out() {
    let (train, valid, ema) = ([59, 81, 139], [230, 120, 20], [33, 144, 141]);
    let chart = line_chart(
        "t",
        "epoch",
        vec![series("train", train, &[1.0, 0.5, 0.25, 0.125]), series("valid", valid, &[1.2, 0.6, f64::NAN, 0.3]), series("EMA valid", ema, &[f64::NAN; 4])],
    );
    let doc = chart.svg().unwrap();
    let lines = elements(&doc, "polyline");
    let stroked = |c: Colour| lines.iter().filter(|a| a.get("stroke") == Some(&hex(rgb(c)))).count();
    assert_eq!((stroked(train), stroked(valid), stroked(ema)), (1, 2, 0));
    let circles = elements(&doc, "circle");
    let train_y: Vec<f64> = with_fill(&circles, &hex(rgb(train))).into_iter().map(|a| number(a, "cy")).collect();
    assert_eq!(with_fill(&circles, &hex(rgb(valid))).len(), 3);
    // On a log axis, halving the loss is the same step every time.
    assert_eq!(train_y.len(), 4);
    let steps: Vec<f64> = train_y.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps[0] > 10.0 && steps.iter().all(|s| (s - steps[0]).abs() <= 1.0), "{steps:?}");
    assert!(!texts(&doc).iter().any(|t| t == "EMA valid"));
    let img = image::load_from_memory(&chart.png().unwrap()).unwrap().to_rgb8();
    assert!(!img.pixels().any(|p| p.0 == ema), "an empty series draws nothing, not even a legend swatch");
    assert!(img.pixels().any(|p| p.0 == train) && img.pixels().any(|p| p.0 == valid));
}

#[test]
fn a_long_legend_wraps_onto_more_rows_inside_the_figure() {
    let names: Vec<String> = (0..8).map(|k| format!("LIFT strategy number {k}")).collect();
    let many = line_chart("t", "epoch", names.iter().map(|n| series(n, [10, 20, 30], &[1.0, 2.0])).collect());
    let one = line_chart("t", "epoch", vec![series(&names[0], [10, 20, 30], &[1.0, 2.0])]);
    let (width, height) = many.size();
    assert!(height > one.size().1, "more rows, a taller figure");
    let doc = many.svg().unwrap();
    let labels: Vec<(f64, f64)> = elements(&doc, "text")
        .into_iter()
        .zip(texts(&doc))
        .filter(|(_, t)| t.starts_with("LIFT strategy"))
        .map(|(a, _)| (number(&a, "x"), number(&a, "y")))
        .collect();
    assert_eq!(labels.len(), 8);
    let rows: std::collections::BTreeSet<i64> = labels.iter().map(|p| p.1 as i64).collect();
    assert!(rows.len() >= 2, "{labels:?}");
    assert!(labels.iter().all(|&(x, y)| x < width as f64 - 100.0 && y < height as f64), "{labels:?} inside {width}×{height}");
}

/// A 5-point grid over t = 999 … 0 at the LIFT model's 64×64 sizes.
fn grid() -> Grid {
    Grid { t: vec![999.0, 749.0, 500.0, 250.0, 0.0], snr: vec![4e-5, 0.07, 1.0, 9.5, 1e4], scales: lift_core::data::scale_names(64) }
}

/// Cell (i, j) holds 10^(i + j); (4, 0) holds nothing.
fn matrix(scale: f64) -> Vec<Vec<f64>> {
    (0..5).map(|i| (0..5).map(|j| if (i, j) == (4, 0) { 0.0 } else { scale * 10f64.powi(i + j) }).collect()).collect()
}

#[test]
fn heatmap_cells_take_their_colour_from_the_log_scale_and_axes_name_the_scales_by_size() {
    let path = Overlay { name: "DP-64".into(), indices: vec![[0, 0], [1, 2], [4, 4]], cost: 0.5, colour: [230, 40, 40], dashed: false };
    let figure = heatmap_figure(grid(), vec![("total error".into(), matrix(1.0))], 1, false, vec![path]);
    let doc = figure.svg().unwrap();
    let shown = texts(&doc);
    for label in
        ["t, fine 64×64 scale", "t, coarse 32×32 scale", "SNR, fine 64×64", "SNR, coarse 32×32", "log₁₀ total error", "999", "250", "0.07", "DP-64 (cost 0.5)"]
    {
        assert!(shown.iter().any(|t| t == label), "{label} missing from {shown:?}");
    }
    let rects = elements(&doc, "rect");
    // Cells are large; the colour bar's slices are a few pixels high.
    let cell = |c: RGBColor| -> Vec<[f64; 4]> {
        with_fill(&rects, &hex(c))
            .into_iter()
            .map(|a| [number(a, "x"), number(a, "y"), number(a, "width"), number(a, "height")])
            .filter(|r| r[2] > 40.0 && r[3] > 40.0)
            .collect()
    };
    // log₁₀ runs from 0 at cell (0, 0) to 8 at (4, 4).
    let (lowest, highest, empty) = (cell(viridis(0.0)), cell(viridis(1.0)), cell(MISSING));
    assert_eq!((lowest.len(), highest.len(), empty.len()), (1, 1, 1));
    let [x0, y0, w, h] = lowest[0];
    let [x4, y4, ..] = highest[0];
    assert!((x4 - (x0 + 4.0 * w)).abs() <= 2.0 && (y4 - (y0 + 4.0 * h)).abs() <= 2.0, "(4, 4) is four cells right of and below (0, 0)");
    assert!((empty[0][0] - x0).abs() <= 1.0 && (empty[0][1] - y4).abs() <= 1.0, "(4, 0): bottom row, first column");
    let middle = cell(viridis(4.0 / 8.0));
    assert_eq!(middle.len(), 4, "(0, 4), (1, 3), (2, 2), (3, 1) hold 10⁴; (4, 0) is empty");
    // The path runs through the cells' centres.
    let red = elements(&doc, "polyline").into_iter().find(|a| a.get("stroke").map(String::as_str) == Some("#E62828")).expect("the path");
    let points: Vec<(f64, f64)> =
        red["points"].split_whitespace().map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap()).collect();
    let centre = |i: f64, j: f64| (x0 + (j + 0.5) * w, y0 + (i + 0.5) * h);
    for (p, (i, j)) in points.iter().zip([(0.0, 0.0), (1.0, 2.0), (4.0, 4.0)]) {
        let c = centre(i, j);
        assert!((p.0 - c.0).abs() <= 2.0 && (p.1 - c.1).abs() <= 2.0, "point {p:?} is not the centre {c:?} of cell ({i}, {j})");
    }
    assert_eq!(points.len(), 3);
}

#[test]
fn a_shared_colour_scale_spans_every_panel() {
    let panels = || vec![("HH".to_string(), matrix(1.0)), ("HL".to_string(), matrix(100.0))];
    let top = hex(viridis(1.0));
    let tops = |shared: bool| {
        let rects = elements(&heatmap_figure(grid(), panels(), 2, shared, Vec::new()).svg().unwrap(), "rect");
        with_fill(&rects, &top).into_iter().filter(|a| number(a, "height") > 40.0).count()
    };
    assert_eq!(tops(false), 2, "each panel's largest cell is at the top of its own scale");
    assert_eq!(tops(true), 1, "on one scale only the larger panel reaches the top");
}
