//! A scrolling list whose rows differ in height (a running job shows its rungs, a finished one
//! its files) that lays out only the rows in view: each row's height is remembered from the
//! last time it was drawn, rows never drawn count as `default_height`, and space stands in for
//! the rest, so a queue of thousands of jobs costs what a screenful does.

use std::collections::HashMap;
use std::hash::Hash;

/// Rows drawn beyond each edge of the view, so a small scroll shows drawn rows at once.
const OVERSCAN_ROWS: usize = 2;

/// Remembered row heights, by row key.
#[derive(Debug, Default)]
pub struct RowHeights<K> {
    heights: HashMap<K, f32>,
}

impl<K: Hash + Eq + Clone + std::fmt::Debug> RowHeights<K> {
    /// Draws `keys` in a vertical scroll area; `row(ui, k)` draws the k-th row and is called
    /// only for rows in (or next to) the visible part.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        id_salt: &str,
        keys: &[K],
        default_height: f32,
        mut row: impl FnMut(&mut egui::Ui, usize),
    ) {
        // Forget rows that left the list.
        if self.heights.len() > keys.len() * 2 + 64 {
            let live: std::collections::HashSet<&K> = keys.iter().collect();
            self.heights.retain(|k, _| live.contains(k));
        }
        egui::ScrollArea::vertical()
            .id_salt(id_salt)
            .auto_shrink([false, false])
            .show_viewport(ui, |ui, viewport| {
                let heights: Vec<f32> = keys
                    .iter()
                    .map(|k| self.heights.get(k).copied().unwrap_or(default_height))
                    .collect();
                let (first, last) = visible_span(&heights, viewport.min.y, viewport.max.y);
                let first = first.saturating_sub(OVERSCAN_ROWS);
                let last = (last + OVERSCAN_ROWS).min(keys.len());
                let above: f32 = heights[..first].iter().sum();
                ui.add_space(above);
                let mut changed = false;
                for (k, key) in keys.iter().enumerate().take(last).skip(first) {
                    let before = ui.cursor().top();
                    // Ids follow the row, not its place on screen: hover and focus stay with it
                    // while the list scrolls.
                    ui.push_id(key, |ui| ui.vertical(|ui| row(ui, k)));
                    let height = (ui.cursor().top() - before).max(1.0);
                    let old = self.heights.insert(key.clone(), height);
                    changed |= old.is_none_or(|h| (h - height).abs() > 0.5);
                }
                // Rows drawn for the first time (or grown or shrunk) move the ones below: draw
                // again with the measured heights so the view is not left short.
                if changed {
                    ui.ctx().request_repaint();
                }
                // The rows below: space, so the scroll bar knows the whole list.
                ui.add_space(heights[last..].iter().sum());
            });
    }
}

/// The rows `[first, last)` a view from `top` to `bottom` (content coordinates) shows, for
/// rows of the given heights stacked from 0.
fn visible_span(heights: &[f32], top: f32, bottom: f32) -> (usize, usize) {
    let (mut y, mut first, mut last) = (0.0, heights.len(), heights.len());
    for (k, h) in heights.iter().enumerate() {
        if first == heights.len() && y + h > top {
            first = k;
        }
        if y >= bottom {
            last = k;
            break;
        }
        y += h;
    }
    (first.min(last), last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_covers_exactly_the_rows_in_view() {
        let h = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(visible_span(&h, 0.0, 5.0), (0, 1));
        assert_eq!(visible_span(&h, 15.0, 35.0), (1, 3));
        assert_eq!(visible_span(&h, 30.0, 60.0), (2, 3));
        assert_eq!(visible_span(&h, 95.0, 500.0), (3, 4));
        assert_eq!(visible_span(&h, 200.0, 300.0), (4, 4));
        assert_eq!(visible_span(&[], 0.0, 100.0), (0, 0));
    }
}
