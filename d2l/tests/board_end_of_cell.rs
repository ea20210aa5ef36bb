//! The end of a cell draws a board that holds undrawn points. A test binary of its own:
//! `end_of_cell` draws every registered board of the process, which would disturb the
//! throttling checks in `tests/plot.rs` that run in parallel.

mod common;

use common::Shared;
use std::time::Duration;

use d2l::display::Frontend;
use d2l::plotting::ProgressBoard;

fn displays(out: &Shared) -> usize {
    out.text()
        .matches("application/vnd.d2l.display+json")
        .count()
}

#[test]
fn a_board_filled_in_a_blink_is_shown_at_the_end_of_the_cell() {
    let out = Shared::default();
    let mut board = ProgressBoard::new()
        .xlabel("epoch")
        .with_writer(Frontend::D2lKernel, out.clone());
    board.options_mut().min_redraw_interval = Duration::from_secs(3600);
    for i in 0..5 {
        board.draw(i as f64, 1.0 / (1.0 + i as f64), "loss", 1);
    }
    assert_eq!(
        displays(&out),
        0,
        "faster than the redraw interval: nothing drawn yet"
    );
    // evcxr moves a cell's variables into its store after the cell: the board moves too.
    let moved = Box::new(board);
    d2l::plotting::evcxr_end_of_cell();
    assert_eq!(displays(&out), 1, "the end of the cell draws the board");
    assert_eq!(moved.render_count(), 1);
    d2l::plotting::end_of_cell();
    assert_eq!(displays(&out), 1, "nothing new: no second figure");
    drop(moved);
}
