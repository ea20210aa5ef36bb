//! The two sides of the vs_python benchmark and its summary table.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use d2l::data::fashion_mnist::FILES;
use tch::Device;

/// One training task: the book's settings and the speed-up it should reach.
pub struct Task {
    pub name: &'static str,
    pub batch_size: usize,
    pub lr: f64,
    /// The wanted ratio of Rust's median examples per second over Python's.
    pub target: f64,
    /// The most the trainer may take beyond the hand-written loop (0.05 = 5 %), where there is a
    /// target: softmax has none, its epoch takes ~0.08 s, so the per-epoch work of the board and
    /// the validation pass is a share of it that swings with a few milliseconds.
    pub overhead_target: Option<f64>,
}

/// Where the shared data lives: the Rust data cache and the layout torchvision reads.
pub struct Dirs {
    pub root: PathBuf,
    /// d2l's DataModule reads `../data` relative to this working directory.
    pub python_workdir: PathBuf,
}

/// Training examples per second of each repetition.
pub type Rates = Vec<f64>;

/// Writes (once) the synthetic set through the Rust loader's own path and unpacks the same
/// archives where torchvision's FashionMNIST looks for them, so both sides read identical bytes.
pub fn prepare_data() -> Result<Dirs, Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join("d2l-bench-vs-python");
    std::env::set_var("D2L_DATA_DIR", &root);
    std::env::set_var("D2L_FASHION_MNIST", "synthetic");
    let data = d2l::data::FashionMnistTensors::fetch()?;
    assert!(
        data.synthetic,
        "the benchmark must run on the synthetic set"
    );
    let archives = root.join("fashion-mnist-synthetic");
    let raw = root.join("data").join("FashionMNIST").join("raw");
    std::fs::create_dir_all(&raw)?;
    for file in FILES {
        let target = raw.join(file.trim_end_matches(".gz"));
        let mut reader = flate2::read::GzDecoder::new(std::fs::File::open(archives.join(file))?);
        let partial = target.with_extension("partial");
        std::io::copy(&mut reader, &mut std::fs::File::create(&partial)?)?;
        std::fs::rename(partial, target)?;
    }
    let python_workdir = root.join("work");
    std::fs::create_dir_all(&python_workdir)?;
    Ok(Dirs {
        root,
        python_workdir,
    })
}

/// One epoch of `d2l::Trainer::fit` per repetition, the data module built before the clock.
pub fn rust_side(task: &Task, reps: usize, device: Device) -> Rates {
    (0..reps)
        .map(|rep| {
            tch::manual_seed(rep as i64);
            let data = d2l::FashionMNIST::new(task.batch_size);
            let examples = data.data.train_images.size()[0] as f64;
            let mut trainer = d2l::Trainer {
                max_epochs: 1,
                device,
                ..Default::default()
            };
            let seconds = match task.name {
                "softmax" => time_fit(
                    &mut trainer,
                    &mut d2l::softmax_regression(784, 10, task.lr),
                    &data,
                    device,
                ),
                "mlp" => time_fit(
                    &mut trainer,
                    &mut d2l::mlp(784, 10, 256, task.lr),
                    &data,
                    device,
                ),
                "lenet" => time_fit(&mut trainer, &mut d2l::lenet(task.lr, 10), &data, device),
                other => panic!("unknown task {other}"),
            };
            eprintln!("rust   {:8} rep {}: {:.2} s", task.name, rep + 1, seconds);
            examples / seconds
        })
        .collect()
}

/// The floor: the same model, optimizer and batches (the same in-memory data module, its
/// loaders gathering each shuffled batch as the trainer's do) in a hand-written tch loop, with
/// no board and no metrics (the validation pass computes the loss only, read once at the end).
/// What a trainer spends beyond this is the trainer's own overhead. (`D2L_BENCH_FLOOR=pregathered`
/// gathers every batch before the clock instead: the floor of the loop alone.)
pub fn floor_side(task: &Task, reps: usize, device: Device) -> Rates {
    (0..reps)
        .map(|rep| {
            tch::manual_seed(rep as i64);
            let data = d2l::FashionMNIST::new(task.batch_size);
            let examples = data.data.train_images.size()[0] as f64;
            let seconds = match task.name {
                "softmax" => time_floor(
                    &mut d2l::softmax_regression(784, 10, task.lr),
                    &data,
                    device,
                ),
                "mlp" => time_floor(&mut d2l::mlp(784, 10, 256, task.lr), &data, device),
                "lenet" => time_floor(&mut d2l::lenet(task.lr, 10), &data, device),
                other => panic!("unknown task {other}"),
            };
            eprintln!("floor  {:8} rep {}: {:.2} s", task.name, rep + 1, seconds);
            examples / seconds
        })
        .collect()
}

fn time_floor<M: d2l::Module>(model: &mut M, data: &d2l::FashionMNIST, device: Device) -> f64 {
    use d2l::{DataModule, Optimizer};
    model.to_device(device);
    let pregathered = std::env::var("D2L_BENCH_FLOOR").is_ok_and(|v| v == "pregathered");
    let on_device = move |(x, y): d2l::Batch| (x.to_device(device), y.to_device(device));
    let gather = |batches: &mut dyn Iterator<Item = d2l::Batch>| -> Vec<d2l::Batch> {
        batches.map(on_device).collect()
    };
    let (train, val) = if pregathered {
        (
            gather(&mut data.train_dataloader()),
            gather(&mut data.val_dataloader()),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mut optimizer = model.configure_optimizers().expect("the optimizer builds");
    let start = Instant::now();
    let train_batches: Box<dyn Iterator<Item = d2l::Batch>> = if pregathered {
        Box::new(train.into_iter())
    } else {
        Box::new(data.train_dataloader().map(on_device))
    };
    for (x, y) in train_batches {
        let loss = model.loss(&model.forward(&x), &y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    let val_batches: Box<dyn Iterator<Item = d2l::Batch>> = if pregathered {
        Box::new(val.into_iter())
    } else {
        Box::new(data.val_dataloader().map(on_device))
    };
    let zero = tch::Tensor::zeros([], (tch::Kind::Float, device));
    let val_loss = tch::no_grad(|| {
        val_batches
            .map(|(x, y)| model.loss(&model.forward(&x), &y))
            .fold(zero, |sum, l| sum + l)
    });
    // One read at the end, as a loop that keeps its numbers on the device would do.
    let _ = val_loss.double_value(&[]);
    start.elapsed().as_secs_f64()
}

fn time_fit<M: d2l::Module>(
    trainer: &mut d2l::Trainer,
    model: &mut M,
    data: &d2l::FashionMNIST,
    device: Device,
) -> f64 {
    let start = Instant::now();
    trainer.fit(model, data).expect("the optimizer builds");
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
    start.elapsed().as_secs_f64()
}

/// d2l 1.0.3's own Trainer in the bench venv (`scripts/bench-setup`), all repetitions in one
/// process so that Python's start-up and imports are not timed.
pub fn python_side(
    task: &Task,
    reps: usize,
    threads: i32,
    device: Device,
    dirs: &Dirs,
) -> Result<Rates, String> {
    let python = std::env::var_os("D2L_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(default_python);
    let script = python_script();
    let device_name = if device.is_cuda() { "cuda" } else { "cpu" };
    let output = Command::new(&python)
        .arg(&script)
        .args([
            task.name,
            &reps.to_string(),
            &threads.to_string(),
            device_name,
        ])
        .arg(&dirs.python_workdir)
        .env("MPLBACKEND", "Agg")
        .output()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}); run scripts/bench-setup first",
                python.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}\n{}",
            python.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("D2L_BENCH ").map(|(_, json)| json))
        .ok_or("no D2L_BENCH line in the output")?;
    let report: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let examples = report["train_examples"]
        .as_f64()
        .ok_or("no train_examples")?;
    let seconds = report["seconds"].as_array().ok_or("no seconds")?;
    let rates: Rates = seconds
        .iter()
        .filter_map(|s| s.as_f64())
        .map(|s| examples / s)
        .collect();
    for (rep, s) in seconds.iter().enumerate() {
        eprintln!(
            "python {:8} rep {}: {:.2} s",
            task.name,
            rep + 1,
            s.as_f64().unwrap_or(f64::NAN)
        );
    }
    Ok(rates)
}

/// `d2l_side.py` beside this file; relative to the working directory when the binary runs on
/// another machine (a copy of the repository at another path, e.g. a GPU host).
fn python_script() -> PathBuf {
    let relative = Path::new("benches/vs_python/d2l_side.py");
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if built.exists() {
        return built;
    }
    Path::new("d2l").join(relative)
}

fn default_python() -> PathBuf {
    let cache = std::env::var_os("D2L_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("d2l-rs")
        });
    cache.join("bench-py/bin/python")
}

/// One line of the trainer-against-floor table: the book's `Trainer` (board on) against the
/// hand-written loop, and the trainer's overhead in time per example.
pub struct FloorSummary {
    task: &'static str,
    target: Option<f64>,
    trainer: Rates,
    floor: Rates,
}

impl FloorSummary {
    pub fn new(task: &Task, trainer: Rates, floor: Rates) -> Self {
        FloorSummary {
            task: task.name,
            target: task.overhead_target,
            trainer,
            floor,
        }
    }

    pub fn header() -> String {
        format!(
            "{:8} {:>16} {:>16} {:>9} {:>7}",
            "task", "trainer median", "floor median", "overhead", "target"
        )
    }

    /// How much longer the trainer takes than the floor, as a fraction (0.05 = 5 %).
    pub fn overhead(&self) -> f64 {
        min_median(&self.floor).1 / min_median(&self.trainer).1 - 1.0
    }
}

impl fmt::Display for FloorSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.target.map_or("none".to_string(), |limit| {
            format!("≤{:.1}%", 100.0 * limit)
        });
        let verdict = match self.target {
            Some(limit) if self.overhead() <= limit => "met",
            Some(_) => "MISSED",
            None => "",
        };
        write!(
            f,
            "{:8} {:>16.0} {:>16.0} {:>8.1}% {:>7} {verdict}",
            self.task,
            min_median(&self.trainer).1,
            min_median(&self.floor).1,
            100.0 * self.overhead(),
            target
        )
    }
}

/// One line of the summary table.
pub struct Summary {
    task: &'static str,
    target: f64,
    rust: Rates,
    python: Rates,
}

fn min_median(rates: &[f64]) -> (f64, f64) {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[0], sorted[sorted.len() / 2])
}

impl Summary {
    pub fn new(task: &Task, rust: Rates, python: Rates) -> Self {
        Summary {
            task: task.name,
            target: task.target,
            rust,
            python,
        }
    }

    pub fn header() -> String {
        format!(
            "{:8} {:>14} {:>14} {:>14} {:>14} {:>7} {:>7}",
            "task",
            "rust min ex/s",
            "rust median",
            "python min",
            "python median",
            "ratio",
            "target"
        )
    }

    /// Rust's median rate over Python's.
    pub fn ratio(&self) -> f64 {
        min_median(&self.rust).1 / min_median(&self.python).1
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rust_min, rust_median) = min_median(&self.rust);
        let (python_min, python_median) = min_median(&self.python);
        let verdict = if self.ratio() >= self.target {
            "met"
        } else {
            "MISSED"
        };
        write!(
            f,
            "{:8} {:>14.0} {:>14.0} {:>14.0} {:>14.0} {:>6.2}x {:>5.1}x {verdict}",
            self.task,
            rust_min,
            rust_median,
            python_min,
            python_median,
            self.ratio(),
            self.target
        )
    }
}
