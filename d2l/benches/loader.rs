//! Benchmark (not a test): what batching costs next to training, and what the progress board
//! costs next to training.
//!
//! `cargo bench -p d2l --bench loader` prints, for a 60000×1×28×28 in-memory set in shuffled
//! batches of 256: one epoch of the loader alone (with its default gathering for the device, and
//! with the other one, see `d2l::data::Gather`), the time to read the whole set once (the memory
//! bandwidth floor of any loader that gathers it), one epoch of softmax regression (the loader
//! included), and their ratio. Then what the loader costs training: the same epoch over batches
//! gathered beforehand (no loader work inside the epoch) against the epoch with the loader
//! gathering each batch when asked. (A prefetching thread was tried in session 3: on 2 cores it
//! competed with libtorch's two threads and made the epoch 90% slower, so it was dropped.) Last,
//! the training epoch with a `ProgressBoard` drawing every batch into the d2l kernel's display
//! protocol (output to a sink), and its overhead. Each figure is the median of several epochs.
//!
//! Settings: `D2L_BENCH_EPOCHS` (default 5), `D2L_BENCH_THREADS` (libtorch's intra-op threads),
//! `D2L_BENCH_DEVICE=cpu|cuda` (default: `d2l::try_gpu()`).

use std::io::Write;
use std::time::{Duration, Instant};

use d2l::data::{Gather, TensorLoader};
use d2l::display::Frontend;
use d2l::plotting::ProgressBoard;
use d2l::prelude::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let epochs: usize = std::env::var("D2L_BENCH_EPOCHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // d2l::try_gpu() loads libtorch's CUDA backend first; naming Device::Cuda(0) without it fails.
    let device = match std::env::var("D2L_BENCH_DEVICE").as_deref() {
        Ok("cpu") => Device::Cpu,
        Ok("cuda") => match d2l::try_gpu() {
            Device::Cpu => {
                panic!("loader bench: D2L_BENCH_DEVICE=cuda but d2l finds no GPU (run d2l-devices)")
            }
            gpu => gpu,
        },
        _ => d2l::try_gpu(),
    };
    // `D2L_BENCH_THREADS=n` sets libtorch's intra-op threads (default: libtorch's choice). On a
    // busy machine one thread gives steadier figures: spinning OpenMP workers that wait for a
    // descheduled sibling make every small op cost a time slice.
    if let Some(n) = std::env::var("D2L_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        tch::set_num_threads(n);
    }
    tch::manual_seed(0);
    let x = Tensor::rand([60000, 1, 28, 28], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [60000], (Kind::Int64, Device::Cpu));
    let loader = TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 256)
        .unwrap()
        .shuffle(true)
        .seed(0)
        .device(device);
    let other_gather = match loader.current_gather() {
        Gather::PerBatch => Gather::PerEpoch,
        Gather::PerEpoch => Gather::PerBatch,
    };
    let other = TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 256)
        .unwrap()
        .shuffle(true)
        .seed(0)
        .device(device)
        .gather(other_gather);
    let in_order = TensorLoader::new((x, y), 256).unwrap().device(device);
    let on_device = in_order.iter().next().map(|(xb, _)| xb).unwrap();
    let whole_set = on_device.as_strided([60000, 784], [784, 1], 0);
    println!(
        "device: {device:?}; {} examples, {} batches of {}; gathering {:?} (default), {other_gather:?} (other)",
        loader.num_examples(),
        loader.len(),
        loader.batch_size(),
        loader.current_gather()
    );

    let sync = || {
        if let Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };

    // Softmax regression: linear 784 -> 10, cross-entropy, SGD.
    let vs = nn::VarStore::new(device);
    let net = nn::linear(vs.root(), 784, 10, Default::default());
    let mut opt = nn::Sgd::default().build(&vs, 0.1).unwrap();
    let mut board = ProgressBoard::new()
        .xlabel("epoch")
        .xlim(0.0, (epochs + 1) as f64)
        .with_writer(Frontend::D2lKernel, SinkWriter(std::io::sink()));

    // The three kinds of epoch are interleaved, so that a busy machine slows them alike; each is
    // timed in wall-clock and in CPU time of the whole process (all of libtorch's threads).
    let (mut loader_times, mut train_times, mut board_times, mut order_times) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut gathered_times, mut other_times, mut read_times) =
        (Vec::new(), Vec::new(), Vec::new());
    for e in 0..epochs + 1 {
        // The loader alone: every batch is produced (and synchronised on a GPU).
        let t = Clock::start();
        let mut n = 0i64;
        for (xb, _yb) in &loader {
            n += xb.size()[0];
        }
        sync();
        assert_eq!(n, 60000);
        let loader_t = t.stop();

        let t = Clock::start();
        let n = other.iter().map(|(xb, _)| xb.size()[0]).sum::<i64>();
        sync();
        assert_eq!(n, 60000);
        let other_t = t.stop();

        // Reading every byte of the set once: no loader that gathers it can be faster.
        let t = Clock::start();
        let total = whole_set.sum(Kind::Float);
        sync();
        let read_t = t.stop();
        drop(total);

        // Without shuffling every batch is a view: the floor of what a loader costs.
        let t = Clock::start();
        let n = in_order.iter().map(|(xb, _)| xb.size()[0]).sum::<i64>();
        sync();
        assert_eq!(n, 60000);
        let order_t = t.stop();

        // The same shuffled batches, gathered before the clock starts: training without any
        // loader cost.
        let gathered: Vec<(Tensor, Tensor)> = loader.iter().collect();

        let mut epoch = |batches: &mut dyn Iterator<Item = (Tensor, Tensor)>,
                         board: Option<&mut ProgressBoard>| {
            let t = Clock::start();
            let mut board = board;
            let n = loader.len();
            for (i, (xb, yb)) in batches.enumerate() {
                let loss = net
                    .forward(&xb.flatten(1, -1))
                    .cross_entropy_for_logits(&yb);
                opt.backward_step(&loss);
                if let Some(b) = board.as_deref_mut() {
                    // As the book's trainer does: the loss of every batch, averaged per half epoch.
                    b.draw(
                        e as f64 + (i + 1) as f64 / n as f64,
                        &loss,
                        "train_loss",
                        n / 2,
                    );
                }
            }
            sync();
            t.stop()
        };
        let gathered_t = epoch(&mut gathered.into_iter(), None);
        let train_t = epoch(&mut loader.iter(), None);
        let board_t = epoch(&mut loader.iter(), Some(&mut board));
        if e > 0 {
            // Epoch 0 warms up.
            loader_times.push(loader_t);
            order_times.push(order_t);
            other_times.push(other_t);
            read_times.push(read_t);
            train_times.push(train_t);
            gathered_times.push(gathered_t);
            board_times.push(board_t);
        }
    }
    board.finish();

    for (what, pick) in [("wall", 0usize), ("cpu", 1usize)] {
        let m = |v: &[(Duration, Duration)]| {
            median(
                v.iter()
                    .map(|p| if pick == 0 { p.0 } else { p.1 })
                    .collect(),
            )
        };
        let (l, t, b, o) = (
            m(&loader_times),
            m(&train_times),
            m(&board_times),
            m(&order_times),
        );
        let g = m(&gathered_times);
        let (other, read) = (m(&other_times), m(&read_times));
        let overhead =
            |with: Duration| 100.0 * (with.as_secs_f64() - g.as_secs_f64()) / g.as_secs_f64();
        println!(
            "[{what}] loader epoch (shuffled, batch 256):        {:8.1} ms",
            l.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] loader epoch, gathering {other_gather:<9?}:          {:8.1} ms",
            other.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] reading the whole set once (floor):     {:8.1} ms",
            read.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] loader epoch (in order: views, no copy):   {:8.1} ms",
            o.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] softmax regression epoch (loader incl.):   {:8.1} ms",
            t.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] loader alone / training epoch:             {:8.2} %  (target < 5 %)",
            100.0 * l.as_secs_f64() / t.as_secs_f64()
        );
        println!(
            "[{what}] training on batches gathered beforehand:   {:8.1} ms",
            g.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] loader cost to training:                   {:8.2} %  (target < 5 %)",
            overhead(t)
        );
        println!(
            "[{what}] training epoch with a live ProgressBoard:  {:8.1} ms",
            b.as_secs_f64() * 1e3
        );
        println!(
            "[{what}] board overhead:                            {:8.2} %",
            100.0 * (b.as_secs_f64() - t.as_secs_f64()) / t.as_secs_f64()
        );
    }
    println!(
        "board renders: {} over {} epochs; libtorch threads: {}",
        board.render_count(),
        epochs + 1,
        tch::get_num_threads()
    );
}

/// Wall-clock and process CPU time.
struct Clock {
    wall: Instant,
    cpu: Duration,
}

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }
    fn stop(&self) -> (Duration, Duration) {
        (self.wall.elapsed(), process_cpu() - self.cpu)
    }
}

/// `std::io::Sink` is `Write + Send + 'static` already; the wrapper only names it.
struct SinkWriter(std::io::Sink);

impl Write for SinkWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
