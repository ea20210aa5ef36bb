//! The front door: `use d2l::prelude::*;` gives a notebook or a program everything the book uses.
//! The kernel runs that line in every new session.
//!
//! - The book's training core: [`Module`], [`DataModule`], [`Optimizer`], [`Trainer`],
//!   [`Model`] (a network with its variables, [`Task`] and optimizer) and [`Classifier`], with
//!   [`Batch`], [`Metrics`] and [`EpochStats`]. Their traits are in scope, so
//!   `impl Module for MyModel` and `model.accuracy(..)` need no path.
//! - Tensors and devices from `tch`, and the devices helpers.
//! - Plotting, data loading and utilities, and [`Show`](crate::display::Show) (unnamed), so that
//!   a tensor, plot or figure at the end of a cell displays richly.

pub use crate::book::{
    Batch, Classifier, DataModule, EpochStats, Metrics, Model, Module, Optimizer, Task, Trainer,
};
pub use crate::data::{download, TensorLoader};
pub use crate::device::{cpu, gpu, num_gpus, try_all_gpus, try_gpu, try_gpu_at};
pub use crate::display::{show, Show as _};
pub use crate::plotting::{
    plot, plot_with, plot_y, show_heatmaps, show_images, Figure, PlotOptions, ProgressBoard, Scale,
};
pub use crate::utils::{Accumulator, Timer};
pub use tch::{
    self, nn, nn::Module as _, nn::ModuleT as _, nn::OptimizerConfig as _, Device, Kind, Tensor,
};
