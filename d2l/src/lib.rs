//! # d2l — the library of *Dive into Deep Learning*, Rust edition
//!
//! The book's code cells that are marked `//@save` become the `book` module; the rest of this
//! crate is the hand-written infrastructure they stand on: devices, plots, notebook display,
//! data loading and small utilities. Tensors come from [`tch`] (libtorch 2.11.0), re-exported
//! here so that a notebook needs only `d2l`.
//!
//! ```
//! use d2l::prelude::*;
//! let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).to_device(d2l::try_gpu());
//! assert_eq!(f64::try_from((&x * 2).sum(Kind::Float)).unwrap(), 12.0);
//! ```
//!
//! | module | what it is for |
//! |---|---|
//! | [`device`] | `cpu`, `gpu`, `try_gpu`, `try_all_gpus` (and the CUDA loader behind them) |
//! | [`display`] | showing values in notebooks: the stdout protocol, [`Show`](display::Show), tensors |
//! | [`plot`] | [`plot()`](plot::plot), [`ProgressBoard`](plot::ProgressBoard), [`show_images`](plot::show_images), [`show_heatmaps`](plot::show_heatmaps), [`Figure`](plot::Figure) |
//! | [`data`] | the data hub ([`download`](data::download)), archives, IDX files, Fashion-MNIST, [`TensorLoader`](data::TensorLoader), CSV tables |
//! | [`utils`] | [`Timer`], [`Accumulator`] |

pub use tch;

pub mod cuda_loader;
pub mod data;
pub mod device;
pub mod display;
pub mod plot;
pub mod prelude;
pub mod utils;

pub use data::{download, TensorLoader};
pub use device::{cpu, gpu, num_gpus, try_all_gpus, try_gpu, try_gpu_at};
pub use display::{show, Show};
pub use plot::{plot, plot_with, plot_y, show_heatmaps, show_images, Figure, PlotOptions, ProgressBoard};
pub use utils::{Accumulator, Timer};
