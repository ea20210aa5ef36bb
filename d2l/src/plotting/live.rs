//! The shown part of a [`super::ProgressBoard`]: its display, its plotted points and the end of
//! the cell.
//!
//! A board shows its live figure at most once per redraw interval, so the last points of a run
//! (or all of them, for a run shorter than an interval) wait for the next redraw. When nothing
//! calls `finish`, the cell's end draws them: the board registers its [`Live`] part here when
//! it holds points it has not drawn, and the d2l kernel's evaluation process calls
//! [`evcxr_end_of_cell`] after each cell (patch 6 in `vendor/evcxr/PATCHES.md`). The part is
//! shared (`Arc`), so it is reachable after evcxr has moved the board into its variable store.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use super::chart::Plot;
use super::series::Series;
use super::BoardOptions;
use crate::display::{frontend, DisplayHandle, Frontend, Show};

/// What the board's display needs: options, plotted points, the display itself.
pub(super) struct Live {
    pub options: BoardOptions,
    pub data: Vec<(String, Vec<(f64, f64)>)>,
    pub handle: DisplayHandle,
    pub writer: Option<Box<dyn Write + Send>>,
    pub last_draw: Option<Instant>,
    /// Points arrived since the last redraw.
    pub dirty: bool,
    pub renders: usize,
    /// In the list of boards that the cell's end draws.
    registered: bool,
}

/// A board's [`Live`] part, shared with the end-of-cell list.
pub(super) type SharedLive = Arc<Mutex<Live>>;

impl Live {
    pub fn new(options: BoardOptions) -> SharedLive {
        Arc::new(Mutex::new(Live {
            options,
            data: Vec::new(),
            handle: DisplayHandle::new("d2l-board"),
            writer: None,
            last_draw: None,
            dirty: false,
            renders: 0,
            registered: false,
        }))
    }

    pub fn frontend(&self) -> Frontend {
        self.options.frontend.unwrap_or_else(frontend)
    }

    /// Renders the figure and shows it in the board's display.
    pub fn redraw(&mut self) {
        let bundle = plot_of(&self.options, &self.data).figure().bundle();
        let frontend = self.frontend();
        match self.writer.as_mut() {
            Some(w) if frontend.is_notebook() => {
                let _ = self.handle.write_to(w, &bundle);
            }
            Some(_) => {}
            None => self.handle.show_with(&bundle, frontend),
        }
        self.last_draw = Some(Instant::now());
        self.dirty = false;
        self.renders += 1;
    }
}

/// Locks a board's live part (a panic elsewhere does not poison a display).
pub(super) fn lock(live: &SharedLive) -> MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(|e| e.into_inner())
}

/// The boards with points that the cell's end draws.
static PENDING: Mutex<Vec<Weak<Mutex<Live>>>> = Mutex::new(Vec::new());

/// Puts a board with undrawn points on the end-of-cell list (once), with its current options.
pub(super) fn register(shared: &SharedLive, live: &mut Live, options: &BoardOptions) {
    if !live.registered {
        live.registered = true;
        live.options = options.clone();
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(shared));
    }
}

/// Draws every board that still holds undrawn points in a notebook; called at the end of each
/// cell (see [`evcxr_end_of_cell`]).
pub fn end_of_cell() {
    let boards = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    for board in boards.iter().filter_map(Weak::upgrade) {
        let mut live = lock(&board);
        live.registered = false;
        if live.dirty && live.options.display && live.frontend().is_notebook() {
            live.redraw();
        }
    }
}

/// The hook that the d2l kernel's evaluation process (its vendored evcxr) calls after each cell.
#[no_mangle]
pub extern "C" fn evcxr_end_of_cell() {
    // A panic must not cross the C boundary.
    let _ = std::panic::catch_unwind(end_of_cell);
}

/// The figure of a board with these options and points.
pub(super) fn plot_of(o: &BoardOptions, data: &[(String, Vec<(f64, f64)>)]) -> Plot {
    let mut p = Plot::new()
        .figsize(o.figsize.0, o.figsize.1)
        .xscale(o.xscale)
        .yscale(o.yscale)
        .styles(o.styles.clone());
    if let Some(l) = &o.xlabel {
        p = p.xlabel(l.clone());
    }
    if let Some(l) = &o.ylabel {
        p = p.ylabel(l.clone());
    }
    if let Some((a, b)) = o.xlim {
        p = p.xlim(a, b);
    }
    if let Some((a, b)) = o.ylim {
        p = p.ylim(a, b);
    }
    for (label, line) in data {
        let (x, y): (Vec<f64>, Vec<f64>) = line.iter().copied().unzip();
        p = p.add_series(Series::new(x, y).label(label.clone()));
    }
    p
}
