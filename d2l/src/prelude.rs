//! What a notebook gets with `use d2l::prelude::*;` (the kernel does this in every new session).

pub use crate::device::{cpu, gpu, num_gpus, try_all_gpus, try_gpu, try_gpu_at};
pub use tch::{self, nn, nn::Module as _, nn::OptimizerConfig as _, Device, Kind, Tensor};
