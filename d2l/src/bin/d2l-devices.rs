//! `d2l-devices`: reports what devices `d2l` sees and runs one tensor op on the best of them.
//! Use it to check a GPU set-up: `cargo run -p d2l --bin d2l-devices`.

use d2l::cuda_loader::{cuda_library, CudaLibrary};
use d2l::prelude::*;

fn main() {
    // Like a user's first line: seeding asks ATen about CUDA. It must not hide the GPUs, so the
    // CUDA backend has to be loaded already (see d2l::cuda_loader).
    tch::manual_seed(0);
    match cuda_library() {
        CudaLibrary::Loaded(path) => println!("cuda library: loaded {}", path.display()),
        CudaLibrary::Absent { searched } => {
            println!("cuda library: absent (searched {searched:?})")
        }
        CudaLibrary::Failed { path, error } => {
            println!("cuda library: failed {} ({error})", path.display())
        }
    }
    println!(
        "cuda backend registered: {}",
        d2l::cuda_loader::cuda_backend_registered()
    );
    println!("num_gpus: {}", d2l::num_gpus());
    println!("try_gpu: {:?}", d2l::try_gpu());
    println!("try_all_gpus: {:?}", d2l::try_all_gpus());
    let device = d2l::try_gpu();
    let x = Tensor::arange(6, (Kind::Float, device)).reshape([2, 3]);
    let y = x.matmul(&x.transpose(0, 1));
    println!(
        "tensor op on {:?}: {:?} = {:?}",
        y.device(),
        y.size(),
        Vec::<f32>::try_from(y.flatten(0, -1)).unwrap_or_default()
    );
}
