//! What a notebook gets with `use d2l::prelude::*;` (the kernel does this in every new session).
//!
//! Besides tensors and devices, it brings [`Show`](crate::display::Show) into scope, so that a
//! tensor, plot or figure at the end of a cell displays richly, and the plotting, data and
//! utility names the book uses without a path.

pub use crate::data::{download, TensorLoader};
pub use crate::device::{cpu, gpu, num_gpus, try_all_gpus, try_gpu, try_gpu_at};
pub use crate::display::{show, Show as _};
pub use crate::plot::{plot, plot_with, plot_y, show_heatmaps, show_images, Figure, PlotOptions, ProgressBoard, Scale};
pub use crate::utils::{Accumulator, Timer};
pub use tch::{self, nn, nn::Module as _, nn::OptimizerConfig as _, Device, Kind, Tensor};
