//! Sample grids as images: CHW floats in [−1, 1] tiled into one RGB picture, the coarse scale (if
//! any) in a row of its own under each row of fine images, enlarged to the same size.

use std::path::Path;

use anyhow::Result;
use image::{Rgb, RgbImage};

/// Gap between tiles, in pixels.
const GAP: u32 = 2;

fn to_u8(v: f32) -> u8 {
    (((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round()) as u8
}

/// Draws image `k` of `data` (`n` CHW images of side `side`) at `zoom`, top-left at (x0, y0).
fn draw(grid: &mut RgbImage, data: &[f32], k: usize, side: usize, zoom: usize, (x0, y0): (u32, u32)) {
    let plane = side * side;
    let img = &data[k * 3 * plane..(k + 1) * 3 * plane];
    for y in 0..side * zoom {
        for x in 0..side * zoom {
            let p = (y / zoom) * side + x / zoom;
            grid.put_pixel(x0 + x as u32, y0 + y as u32, Rgb([to_u8(img[p]), to_u8(img[plane + p]), to_u8(img[2 * plane + p])]));
        }
    }
}

/// `n` fine images of side `side` (and optionally their coarse versions of side `coarse_side`)
/// in rows of `cols`, each image enlarged to at least 64 pixels.
pub fn grid_image(fine: &[f32], coarse: Option<(&[f32], usize)>, n: usize, side: usize, cols: usize) -> RgbImage {
    let zoom = (64 / side).max(1);
    let cell = (side * zoom) as u32 + GAP;
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols) as u32;
    let bands = if coarse.is_some() { 2 } else { 1 };
    let mut grid = RgbImage::from_pixel(cols as u32 * cell + GAP, rows * bands * cell + GAP, Rgb([255, 255, 255]));
    for k in 0..n {
        let (x, row) = ((k % cols) as u32 * cell + GAP, (k / cols) as u32);
        draw(&mut grid, fine, k, side, zoom, (x, row * bands * cell + GAP));
        if let Some((c, c_side)) = coarse {
            draw(&mut grid, c, k, c_side, side * zoom / c_side, (x, (row * bands + 1) * cell + GAP));
        }
    }
    grid
}

/// Writes a grid as PNG, atomically.
pub fn save_png(grid: &RgbImage, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    grid.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
    crate::io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_fine_and_coarse_rows() {
        // Two 32×32 images (−1 = black, +1 = white) and their 16×16 versions, one column.
        let fine = [vec![-1f32; 3 * 32 * 32], vec![1f32; 3 * 32 * 32]].concat();
        let coarse = [vec![1f32; 3 * 16 * 16], vec![-1f32; 3 * 16 * 16]].concat();
        let g = grid_image(&fine, Some((&coarse, 16)), 2, 32, 1);
        // Zoom 2: cells of 64 + 2; four bands (fine, coarse, fine, coarse).
        assert_eq!((g.width(), g.height()), (68, 4 * 66 + 2));
        assert_eq!(g.get_pixel(10, 10).0, [0, 0, 0]);
        assert_eq!(g.get_pixel(10, 66 + 10).0, [255, 255, 255]);
        assert_eq!(g.get_pixel(10, 2 * 66 + 10).0, [255, 255, 255]);
        assert_eq!(g.get_pixel(10, 3 * 66 + 10).0, [0, 0, 0]);
    }
}
