//! Behaviour of the API that the optimization chapter saves into `d2l::book`
//! (notebooks/chapter_optimization): the 2-D tools, the airfoil data and training loop, the
//! hand-written optimizers (checked against values computed by hand and, where tch has the same
//! algorithm, against tch step for step) and the learning rate schedulers.
//!
//! The real airfoil file is read from `../shared/data/airfoil_self_noise.dat` (set
//! `D2L_SHARED_DATA` to put it elsewhere) through the data hub's cache lookup, so its SHA-1 is
//! checked and no network is used. Tests that draw random numbers hold `RNG` while they seed and
//! draw, since tests run in parallel and share libtorch's generator.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use d2l::data::DataHub;
use d2l::prelude::*;
use d2l::{
    contour_lines, linreg_params, show_trace_2d, train_2d, train_airfoil_concise,
    train_airfoil_scratch, Adadelta, Adagrad, Adam, AirfoilData, CosineScheduler, FactorScheduler,
    LossCurve, LrScheduler, MomentumSGD, MultiFactorScheduler, Optimizer, RMSProp, Yogi, SGD,
};

static RNG: Mutex<()> = Mutex::new(());

fn shared_data() -> PathBuf {
    match std::env::var_os("D2L_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// The real data set, found in the shared data folder and checked against the hub's SHA-1.
fn airfoil(n: usize) -> AirfoilData {
    let hub = DataHub::new()
        .with_cache_dir(shared_data())
        .with_base_url("http://127.0.0.1:9/")
        .quiet(true);
    let path = hub
        .download("airfoil")
        .expect("airfoil_self_noise.dat in ../shared/data");
    AirfoilData::parse(&std::fs::read_to_string(path).unwrap(), n).unwrap()
}

/// A small table in the airfoil format: five features from a fixed pseudo-random sequence and a
/// target that is a linear function of them plus a little noise.
fn synthetic_table(rows: usize) -> String {
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    (0..rows)
        .map(|_| {
            let x: Vec<f64> = (0..5).map(|_| next() * 10.0).collect();
            let y = 2.0 * x[0] - x[1] + 0.5 * x[2] + 0.1 * x[4] + next();
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\r\n",
                x[0], x[1], x[2], x[3], x[4], y
            )
        })
        .collect()
}

/// Runs `steps` optimizer steps on the loss `w²` from `w = 1` and returns `w` after each.
fn scalar_steps<O: Optimizer>(make: impl FnOnce(Vec<Tensor>) -> O, steps: usize) -> Vec<f64> {
    let w = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
    let mut optimizer = make(vec![w.shallow_clone()]);
    (0..steps)
        .map(|_| {
            optimizer.zero_grad();
            w.square().sum(Kind::Float).backward();
            optimizer.step();
            w.double_value(&[0])
        })
        .collect()
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() < tol,
            "step {}: {a} but expected {e} (all: {actual:?})",
            i + 1
        );
    }
}

#[test]
fn train_2d_records_start_and_every_step() {
    // Gradient descent on x1² + 2 x2² with eta 0.1 multiplies x1 by 0.8 and x2 by 0.6.
    let trace = train_2d(
        |[x1, x2]| [x1 - 0.1 * 2.0 * x1, x2 - 0.1 * 4.0 * x2],
        [-5.0, -2.0],
        20,
    );
    assert_eq!(trace.len(), 21);
    assert_eq!(trace[0], [-5.0, -2.0]);
    assert!((trace[1][0] + 4.0).abs() < 1e-12 && (trace[1][1] + 1.2).abs() < 1e-12);
    assert!((trace[20][0] + 5.0 * 0.8f64.powi(20)).abs() < 1e-9);
    assert!((trace[20][1] + 2.0 * 0.6f64.powi(20)).abs() < 1e-9);
    // A closure with state: the velocity of momentum persists between steps.
    let mut v = 0.0;
    let trace = train_2d(
        move |[x, y]| {
            v = 0.5 * v + x;
            [x - 0.5 * v, y]
        },
        [1.0, 3.0],
        2,
    );
    assert_eq!(trace, vec![[1.0, 3.0], [0.5, 3.0], [0.0, 3.0]]);
}

#[test]
fn contour_lines_lie_on_their_level() {
    let f = |x: f64, y: f64| x * x + y * y;
    let lines = contour_lines(f, (-2.0, 2.0), (-2.0, 2.0), &[1.0, 2.25], 60);
    assert_eq!(lines.len(), 2);
    for ((xs, ys), radius) in lines.iter().zip([1.0, 1.5]) {
        assert_eq!(xs.len(), ys.len());
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys)
            .filter(|(x, _)| x.is_finite())
            .map(|(x, y)| (*x, *y))
            .collect();
        assert!(points.len() > 50, "{} points", points.len());
        for (x, y) in &points {
            assert!(
                ((x * x + y * y).sqrt() - radius).abs() < 0.01,
                "({x}, {y}) is off the circle of radius {radius}"
            );
        }
        // Segments of two points each, separated by NaN.
        assert_eq!(xs.len() % 3, 0);
        assert!(xs.iter().skip(2).step_by(3).all(|v| v.is_nan()));
    }
    // A level outside the range of f has no line.
    assert!(contour_lines(f, (-1.0, 1.0), (-1.0, 1.0), &[100.0], 10)[0]
        .0
        .is_empty());
}

#[test]
fn show_trace_2d_draws_ten_levels_and_the_trace() {
    let trace = train_2d(|[x1, x2]| [0.8 * x1, 0.6 * x2], [-5.0, -2.0], 10);
    let plot = show_trace_2d(|x1, x2| x1 * x1 + 2.0 * x2 * x2, &trace);
    assert_eq!(plot.series().len(), 11);
    let fig = plot.figure();
    assert!(fig.svg().contains("x1") && fig.svg().contains("x2"));
}

#[test]
fn airfoil_data_is_standardized_with_five_features() {
    let data = airfoil(1500);
    assert_eq!(data.features.size(), vec![1500, 5]);
    assert_eq!(data.labels.size(), vec![1500]);
    assert_eq!((data.len(), data.num_features()), (1500, 5));
    let all = airfoil(2000); // more than the file has: all 1,503 rows
    assert_eq!(all.len(), 1503);
    let mean = all.features.mean_dim(0, false, Kind::Float);
    let std = all.features.std_dim(0, true, false);
    for j in 0..5 {
        assert!(mean.double_value(&[j]).abs() < 1e-4);
        assert!((std.double_value(&[j]) - 1.0).abs() < 1e-4);
    }
    assert!(all.labels.mean(Kind::Float).double_value(&[]).abs() < 1e-4);
    let loader = data.loader(10);
    assert_eq!(loader.len(), 150);
    let (x, y) = loader.iter().next().unwrap();
    assert_eq!((x.size(), y.size()), (vec![10, 5], vec![10]));
}

#[test]
fn airfoil_parse_rejects_malformed_lines() {
    assert!(AirfoilData::parse("1 2 3 4 5 6\n1 2 3\n", 10).is_err());
    assert!(AirfoilData::parse("1 2 3 4 5 6\n1 2 x 4 5 6\n", 10).is_err());
    let data = AirfoilData::parse(&synthetic_table(30), 20).unwrap();
    assert_eq!(data.features.size(), vec![20, 5]);
}

#[test]
fn momentum_sgd_matches_hand_computation() {
    // w = 1, loss w², lr 0.1, beta 0.9: v1 = 2, w1 = 0.8; g2 = 1.6, v2 = 3.4, w2 = 0.46.
    let w = scalar_steps(|p| MomentumSGD::new(p, 0.1, 0.9), 2);
    assert_close(&w, &[0.8, 0.46], 1e-6);
}

#[test]
fn adagrad_matches_hand_computation() {
    let (lr, eps) = (0.1, 1e-6);
    let w1 = 1.0 - lr * 2.0 / (2.0 + eps);
    let g2: f64 = 2.0 * w1;
    let w2 = w1 - lr * g2 / ((4.0 + g2 * g2).sqrt() + eps);
    let w = scalar_steps(|p| Adagrad::new(p, lr), 2);
    assert_close(&w, &[w1, w2], 1e-6);
    assert!(
        (w[0] - 0.9).abs() < 1e-6,
        "the first step of Adagrad has length lr"
    );
}

#[test]
fn rmsprop_matches_hand_computation() {
    let (lr, gamma, eps) = (0.01, 0.9, 1e-6);
    let s1 = (1.0 - gamma) * 4.0;
    let w1: f64 = 1.0 - lr * 2.0 / (f64::sqrt(s1) + eps);
    let g2 = 2.0 * w1;
    let s2 = gamma * s1 + (1.0 - gamma) * g2 * g2;
    let w2 = w1 - lr * g2 / (s2.sqrt() + eps);
    assert_close(
        &scalar_steps(|p| RMSProp::new(p, lr, gamma), 2),
        &[w1, w2],
        1e-6,
    );
}

#[test]
fn adadelta_matches_hand_computation() {
    let (rho, eps) = (0.9, 1e-5);
    let (mut s, mut delta, mut w) = (0.0f64, 0.0f64, 1.0f64);
    let mut expected = Vec::new();
    for _ in 0..3 {
        let g = 2.0 * w;
        s = rho * s + (1.0 - rho) * g * g;
        let update = (delta + eps).sqrt() / (s + eps).sqrt() * g;
        w -= update;
        delta = rho * delta + (1.0 - rho) * update * update;
        expected.push(w);
    }
    // The first update is about sqrt(eps / 0.4) * 2 = 0.01.
    assert!((expected[0] - 0.99).abs() < 1e-4);
    assert_close(&scalar_steps(|p| Adadelta::new(p, rho), 3), &expected, 1e-6);
}

#[test]
fn adam_and_yogi_match_hand_computation() {
    // Adam's first step is lr times the sign of the gradient (up to eps).
    let adam = scalar_steps(|p| Adam::new(p, 0.1), 2);
    assert!((adam[0] - 0.9).abs() < 1e-6, "{adam:?}");
    let g2: f64 = 2.0 * adam[0];
    let v = 0.9 * 0.2 + 0.1 * g2;
    let s = 0.999 * 0.004 + 0.001 * g2 * g2;
    let w2 = adam[0] - 0.1 * (v / 0.19) / ((s / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
    assert!((adam[1] - w2).abs() < 1e-6, "{adam:?} vs {w2}");

    // Yogi: s1 = 0.001 · 4 as for Adam, but eps is 1e-3; then s moves additively.
    let yogi = scalar_steps(|p| Yogi::new(p, 0.1), 2);
    let w1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-3);
    let g2: f64 = 2.0 * w1;
    let v = 0.9 * 0.2 + 0.1 * g2;
    let s = 0.004 + 0.001 * g2 * g2 * (g2 * g2 - 0.004).signum();
    let w2 = w1 - 0.1 * (v / 0.19) / ((s / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-3);
    assert_close(&yogi, &[w1, w2], 1e-6);
}

#[test]
fn optimizers_skip_parameters_without_gradients() {
    let used = Tensor::from_slice(&[1.0f32]).set_requires_grad(true);
    let unused = Tensor::from_slice(&[5.0f32]).set_requires_grad(true);
    let mut adam = Adam::new(vec![used.shallow_clone(), unused.shallow_clone()], 0.1);
    adam.zero_grad();
    used.square().sum(Kind::Float).backward();
    adam.step();
    assert_eq!(unused.double_value(&[0]), 5.0);
    assert!((used.double_value(&[0]) - 0.9).abs() < 1e-6);
}

/// Runs the from-scratch optimizer and tch's on the same data from the same seed.
fn scratch_and_tch<O: Optimizer>(
    data: &AirfoilData,
    make: impl FnOnce(Vec<Tensor>) -> O,
    config: impl nn::OptimizerConfig,
    lr: f64,
) -> (LossCurve, LossCurve) {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(7);
    let scratch = train_airfoil_scratch(make, data, 10, 10);
    tch::manual_seed(7);
    let library = train_airfoil_concise(config, lr, data, 10, 10).unwrap();
    (scratch, library)
}

#[test]
fn scratch_optimizers_follow_tch_step_for_step() {
    let data = AirfoilData::parse(&synthetic_table(300), 300).unwrap();
    let cases: Vec<(&str, LossCurve, LossCurve, f64)> = vec![
        {
            let (a, b) = scratch_and_tch(&data, |p| SGD::new(p, 0.05), nn::Sgd::default(), 0.05);
            ("sgd", a, b, 1e-5)
        },
        {
            let config = nn::Sgd {
                momentum: 0.9,
                ..Default::default()
            };
            let (a, b) = scratch_and_tch(&data, |p| MomentumSGD::new(p, 0.005, 0.9), config, 0.005);
            ("momentum", a, b, 1e-5)
        },
        {
            let config = nn::RmsProp {
                alpha: 0.9,
                eps: 1e-6,
                ..Default::default()
            };
            let (a, b) = scratch_and_tch(&data, |p| RMSProp::new(p, 0.01, 0.9), config, 0.01);
            ("rmsprop", a, b, 1e-4)
        },
        {
            let (a, b) = scratch_and_tch(&data, |p| Adam::new(p, 0.01), nn::Adam::default(), 0.01);
            ("adam", a, b, 1e-4)
        },
    ];
    for (name, scratch, library, tol) in cases {
        // 30 batches of 10 per epoch: a point after batch 20 and one at the end of each epoch.
        assert_eq!(scratch.losses.len(), 10 * 2, "{name}");
        let diff = scratch.max_difference(&library);
        assert!(diff < tol, "{name}: the curves differ by {diff}");
        // The loss of zero weights on standardized targets is about 0.5; a linear target with
        // little noise can be fitted far better.
        assert!(
            scratch.final_loss() < 0.05,
            "{name} did not learn: {:?}",
            scratch.losses
        );
    }
}

/// The lowest squared loss a linear model can reach on the data (least squares in f64).
fn least_squares_loss(data: &AirfoilData) -> f64 {
    let n = data.len() as i64;
    let x = Tensor::cat(
        &[
            data.features.to_kind(Kind::Double),
            Tensor::ones([n, 1], (Kind::Double, Device::Cpu)),
        ],
        1,
    );
    let y = data.labels.to_kind(Kind::Double).reshape([n, 1]);
    let xt = x.transpose(0, 1);
    let theta = xt.matmul(&x).inverse().matmul(&xt.matmul(&y));
    let residual = x.matmul(&theta) - y;
    (&residual * &residual / 2.0)
        .mean(Kind::Double)
        .double_value(&[])
}

#[test]
fn optimizers_learn_the_airfoil_regression() {
    let data = airfoil(1500);
    let best = least_squares_loss(&data);
    assert!(best > 0.2 && best < 0.3, "least-squares loss {best}");
    let runs: Vec<(&str, LossCurve)> = {
        let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
        let mut runs = Vec::new();
        tch::manual_seed(0);
        runs.push((
            "momentum",
            train_airfoil_scratch(|p| MomentumSGD::new(p, 0.005, 0.9), &data, 10, 2),
        ));
        tch::manual_seed(0);
        runs.push((
            "adagrad",
            train_airfoil_scratch(|p| Adagrad::new(p, 0.1), &data, 10, 2),
        ));
        tch::manual_seed(0);
        runs.push((
            "rmsprop",
            train_airfoil_scratch(|p| RMSProp::new(p, 0.01, 0.9), &data, 10, 2),
        ));
        tch::manual_seed(0);
        runs.push((
            "adam",
            train_airfoil_scratch(|p| Adam::new(p, 0.01), &data, 10, 2),
        ));
        tch::manual_seed(0);
        runs.push((
            "yogi",
            train_airfoil_scratch(|p| Yogi::new(p, 0.01), &data, 10, 2),
        ));
        runs
    };
    for (name, curve) in runs {
        // Before training the loss is about 0.5 (standardized targets, weights near zero).
        assert!(curve.losses[0] < 0.5, "{name}: {:?}", &curve.losses[..3]);
        assert!(
            curve.final_loss() < best + 0.03,
            "{name}: final loss {} vs least squares {best}",
            curve.final_loss()
        );
        assert_eq!(curve.epochs.last().copied(), Some(2.0));
        assert!(curve.seconds.windows(2).all(|w| w[0] <= w[1]));
        assert!(curve.to_string().starts_with("loss: "));
    }
}

#[test]
fn linreg_params_shapes() {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let (w, b) = linreg_params(5);
    assert_eq!((w.size(), b.size()), (vec![5, 1], vec![1]));
    assert!(w.requires_grad() && b.requires_grad());
    assert_eq!(b.double_value(&[0]), 0.0);
    assert!(w.abs().max().double_value(&[]) < 0.1);
}

#[test]
fn factor_and_multi_factor_schedules() {
    let factor = FactorScheduler {
        base_lr: 2.0,
        factor: 0.5,
        stop_factor_lr: 0.3,
    };
    let lrs: Vec<f64> = (0..5).map(|t| factor.lr(t)).collect();
    assert_eq!(lrs, vec![2.0, 1.0, 0.5, 0.3, 0.3]);
    assert_eq!(factor.lr(usize::MAX), 0.3);
    let multi = MultiFactorScheduler {
        base_lr: 0.5,
        milestones: vec![15, 24],
        factor: 0.5,
    };
    assert_eq!(
        (
            multi.lr(0),
            multi.lr(14),
            multi.lr(15),
            multi.lr(23),
            multi.lr(24),
            multi.lr(100)
        ),
        (0.5, 0.5, 0.25, 0.25, 0.125, 0.125)
    );
}

#[test]
fn cosine_schedule_with_and_without_warmup() {
    let cosine = CosineScheduler::new(20, 0.3, 0.01);
    assert!((cosine.lr(0) - 0.3).abs() < 1e-12);
    assert!(
        (cosine.lr(10) - 0.155).abs() < 1e-12,
        "halfway is the mean of both ends"
    );
    assert!((cosine.lr(20) - 0.01).abs() < 1e-12);
    assert_eq!(cosine.lr(25), 0.01);
    assert!((1..=20).all(|t| cosine.lr(t) < cosine.lr(t - 1)));

    let warm = CosineScheduler::new(20, 0.3, 0.01).with_warmup(5, 0.0);
    assert_eq!(warm.lr(0), 0.0);
    assert!((warm.lr(2) - 0.12).abs() < 1e-12);
    assert!((warm.lr(5) - 0.3).abs() < 1e-12);
    assert!((warm.lr(20) - 0.01).abs() < 1e-12);
    assert!((1..=5).all(|t| warm.lr(t) > warm.lr(t - 1)));
    assert!((6..=20).all(|t| warm.lr(t) < warm.lr(t - 1)));
    // A degenerate schedule (no room for the cosine) stays finite.
    let degenerate = CosineScheduler::new(3, 0.3, 0.01).with_warmup(3, 0.0);
    assert!((0..10).all(|t| degenerate.lr(t).is_finite()));
    // The trait is object safe.
    let boxed: Vec<Box<dyn LrScheduler>> = vec![Box::new(cosine), Box::new(warm)];
    assert_eq!(boxed.len(), 2);
}
