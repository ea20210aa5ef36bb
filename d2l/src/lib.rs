//! # d2l — the library of *Dive into Deep Learning*, Rust edition
//!
//! The book's code cells that are marked `//@save` become the [`book`] module; the rest of this
//! crate is the hand-written infrastructure they stand on: devices, plots, notebook display,
//! data loading and small utilities. Tensors come from [`tch`] (libtorch 2.11.0), re-exported
//! here so that a notebook needs only `d2l`.
//!
//! ```
//! use d2l::prelude::*;
//! let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).to_device(d2l::try_gpu());
//! assert_eq!(f64::try_from((&x * 2).sum(Kind::Float)).unwrap(), 12.0);
//! ```

pub use tch;

pub mod cuda_loader;
pub mod device;
pub mod prelude;

pub use device::{cpu, gpu, num_gpus, try_all_gpus, try_gpu, try_gpu_at};
