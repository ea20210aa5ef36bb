//! Behaviour of the API that the convolutional-neural-network chapter saves into `d2l::book`
//! (notebooks/chapter_convolutional-neural-networks): `corr2d`, `init_cnn` and `LeNet`. Tests
//! share libtorch's global random generator and run in parallel, so each tolerance below holds
//! for any seed, not just the one a test sets.

use d2l::data::fashion_mnist::{write_synthetic, FashionMnistTensors, SyntheticOptions};
use d2l::prelude::*;
use d2l::{corr2d, init_cnn, lenet, Module};

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(
        t.detach()
            .to_device(Device::Cpu)
            .to_kind(Kind::Double)
            .flatten(0, -1),
    )
    .unwrap()
}

fn matrix(rows: &[&[f64]]) -> Tensor {
    let flat: Vec<f64> = rows.iter().flat_map(|row| row.iter().copied()).collect();
    Tensor::from_slice(&flat).reshape([rows.len() as i64, rows[0].len() as i64])
}

/// The worked example of the chapter, a non-square input with a row kernel and a column kernel,
/// all computed by hand.
#[test]
fn corr2d_matches_hand_computed_examples() {
    let x = Tensor::arange(9, (Kind::Float, Device::Cpu)).reshape([3, 3]);
    let k = Tensor::arange(4, (Kind::Float, Device::Cpu)).reshape([2, 2]);
    let y = corr2d(&x, &k);
    assert_eq!(y.size(), [2, 2]);
    assert_eq!(values(&y), [19.0, 25.0, 37.0, 43.0]);

    let x = matrix(&[&[1.0, 2.0, 4.0, 8.0], &[3.0, 5.0, 7.0, 9.0]]);
    // Difference of each entry and its right neighbour.
    let y = corr2d(&x, &matrix(&[&[1.0, -1.0]]));
    assert_eq!(y.size(), [2, 3]);
    assert_eq!(values(&y), [-1.0, -2.0, -4.0, -2.0, -2.0, -2.0]);
    // First row plus twice the second.
    let y = corr2d(&x, &matrix(&[&[1.0], &[2.0]]));
    assert_eq!(y.size(), [1, 4]);
    assert_eq!(values(&y), [7.0, 12.0, 18.0, 26.0]);
    // A kernel as large as the input gives the full inner product.
    let y = corr2d(&x, &x);
    assert_eq!(
        values(&y),
        [1.0 + 4.0 + 16.0 + 64.0 + 9.0 + 25.0 + 49.0 + 81.0]
    );
}

/// On random inputs of many shapes, `corr2d` is libtorch's (unpadded, stride-1) convolution.
#[test]
fn corr2d_agrees_with_libtorch_conv2d() {
    let opts = (Kind::Double, Device::Cpu);
    for (n_h, n_w, k_h, k_w) in [
        (5, 5, 3, 3),
        (7, 4, 2, 3),
        (6, 9, 1, 4),
        (3, 3, 3, 3),
        (8, 6, 5, 1),
    ] {
        let x = Tensor::randn([n_h, n_w], opts);
        let k = Tensor::randn([k_h, k_w], opts);
        let ours = corr2d(&x, &k);
        let theirs = x
            .reshape([1, 1, n_h, n_w])
            .conv2d(
                &k.reshape([1, 1, k_h, k_w]),
                None::<Tensor>,
                [1, 1],
                [0, 0],
                [1, 1],
                1,
            )
            .reshape([n_h - k_h + 1, n_w - k_w + 1]);
        assert_eq!(ours.size(), theirs.size());
        let error = (&ours - &theirs).abs().max().double_value(&[]);
        assert!(error < 1e-12, "{n_h}x{n_w} with {k_h}x{k_w}: error {error}");
    }
}

#[test]
#[should_panic(expected = "larger than the input")]
fn corr2d_refuses_a_kernel_larger_than_the_input() {
    let opts = (Kind::Float, Device::Cpu);
    let _ = corr2d(&Tensor::ones([2, 5], opts), &Tensor::ones([3, 1], opts));
}

/// Autograd's gradients of `corr2d`, with respect to both the input and the kernel, agree with
/// central finite differences in double precision.
#[test]
fn corr2d_gradients_match_finite_differences() {
    let opts = (Kind::Double, Device::Cpu);
    let x = Tensor::randn([4, 5], opts).set_requires_grad(true);
    let k = Tensor::randn([2, 3], opts).set_requires_grad(true);
    // A scalar function of the output with a different weight on every output entry.
    let weights = Tensor::randn([3, 3], opts);
    let objective = |x: &Tensor, k: &Tensor| (corr2d(x, k) * &weights).sum(Kind::Double);
    objective(&x, &k).backward();
    let eps = 1e-6;
    for (param, grad) in [(&x, x.grad()), (&k, k.grad())] {
        let base = param.detach();
        let autograd = values(&grad);
        for (i, &analytic) in autograd.iter().enumerate() {
            let shifted = |delta: f64| {
                let moved = base.copy();
                let _ = moved
                    .view([-1])
                    .get(i as i64)
                    .fill_(base.view([-1]).double_value(&[i as i64]) + delta);
                moved
            };
            let value = |p: &Tensor| {
                if std::ptr::eq(param, &x) {
                    objective(p, &k.detach()).double_value(&[])
                } else {
                    objective(&x.detach(), p).double_value(&[])
                }
            };
            let numeric = (value(&shifted(eps)) - value(&shifted(-eps))) / (2.0 * eps);
            assert!(
                (numeric - analytic).abs() < 1e-6 * (1.0 + analytic.abs()),
                "entry {i}: autograd {analytic}, finite differences {numeric}"
            );
        }
    }
}

/// LeNet maps `[n, 1, 28, 28]` to one score per class, on the device of its parameters, and its
/// layer summary reports the shapes of the chapter.
#[test]
fn lenet_gives_one_score_per_class() {
    let model = lenet(0.1, 10);
    let device = model.vs.device();
    for n in [1, 5] {
        let x = Tensor::rand([n, 1, 28, 28], (Kind::Float, device));
        let y = tch::no_grad(|| model.forward(&x));
        assert_eq!(y.size(), [n, 10]);
        assert_eq!(y.device(), device);
    }
    let three = lenet(0.1, 3);
    let x = Tensor::rand([2, 1, 28, 28], (Kind::Float, three.vs.device()));
    assert_eq!(tch::no_grad(|| three.forward(&x)).size(), [2, 3]);

    let summary = model
        .net
        .layer_summary(&Tensor::zeros([1, 1, 28, 28], (Kind::Float, device)));
    let shape_after = |name: &str| {
        summary
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.clone())
    };
    assert_eq!(shape_after("conv1"), Some(vec![1, 6, 28, 28]));
    assert_eq!(shape_after("conv2"), Some(vec![1, 16, 10, 10]));
    assert_eq!(shape_after("flatten"), Some(vec![1, 400]));
    assert_eq!(summary.last().map(|(_, s)| s.clone()), Some(vec![1, 10]));
    let parameters: i64 = model.parameters().iter().map(|p| p.numel() as i64).sum();
    assert_eq!(parameters, 61_706);
}

/// `init_cnn` sets every bias of any store to zero and draws every weight (convolutional or
/// fully connected) from the Xavier-uniform distribution of its own fan-in and fan-out; it
/// leaves batch normalization's scale and running statistics alone.
#[test]
fn init_cnn_zeroes_biases_and_draws_weights_within_the_xavier_bound() {
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let _conv = nn::conv2d(&root / "conv", 4, 8, 3, Default::default());
    let _linear = nn::linear(&root / "linear", 50, 20, Default::default());
    let _norm = nn::batch_norm2d(&root / "norm", 8, Default::default());
    // Start far from any sensible initialization, so that the test fails if nothing happens.
    tch::no_grad(|| {
        for (_, mut var) in vs.variables() {
            let _ = var.fill_(7.0);
        }
    });
    init_cnn(&vs);
    let mut variables = vs.variables();
    for untouched in ["norm.weight", "norm.running_mean", "norm.running_var"] {
        let var = variables
            .remove(untouched)
            .unwrap_or_else(|| panic!("{untouched} exists"));
        assert!(
            values(&var).iter().all(|&v| v == 7.0),
            "{untouched} must be left alone"
        );
    }
    assert!(values(&variables["norm.bias"]).iter().all(|&b| b == 0.0));
    variables.retain(|name, _| !name.starts_with("norm."));
    assert_eq!(variables.len(), 4);
    for (name, var) in &variables {
        let size = var.size();
        let entries = values(var);
        if size.len() == 1 {
            assert!(entries.iter().all(|&b| b == 0.0), "{name}: {entries:?}");
            continue;
        }
        let receptive: i64 = size[2..].iter().product();
        let (fan_in, fan_out) = (size[1] * receptive, size[0] * receptive);
        let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
        let largest = entries.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let mean = entries.iter().sum::<f64>() / entries.len() as f64;
        assert!(
            largest <= bound,
            "{name}: |w| up to {largest}, bound {bound}"
        );
        // Uniform on (-bound, bound): with hundreds of draws, the extremes come close to the
        // bound and the mean is near zero.
        assert!(
            largest > 0.8 * bound,
            "{name}: |w| only up to {largest}, bound {bound}"
        );
        assert!(
            mean.abs() < 0.2 * bound,
            "{name}: mean {mean}, bound {bound}"
        );
        assert!(var.requires_grad(), "{name} must stay trainable");
    }
    // LeNet's own store is initialized the same way.
    let model = lenet(0.1, 10);
    let lenet_vars = model.vs.variables();
    assert!(values(&lenet_vars["fc1.bias"]).iter().all(|&b| b == 0.0));
    let bound = (6.0f64 / (400.0 + 120.0)).sqrt();
    assert!(values(&lenet_vars["fc1.weight"])
        .iter()
        .all(|w| w.abs() <= bound));
}

/// LeNet's optimizer is SGD over all of its parameters with its learning rate: one step moves
/// every parameter by exactly `-lr` times its gradient.
#[test]
fn lenet_optimizer_is_sgd_with_its_learning_rate() {
    let model = lenet(0.5, 10);
    let device = model.vs.device();
    let x = Tensor::rand([4, 1, 28, 28], (Kind::Float, device));
    let y = Tensor::from_slice(&[0i64, 3, 5, 9]).to_device(device);
    let mut optimizer = model.configure_optimizers().expect("the optimizer builds");
    optimizer.zero_grad();
    model.training_step(&(x, y)).backward();
    let before: Vec<(Tensor, Tensor)> = model
        .parameters()
        .iter()
        .map(|p| (p.detach().copy(), p.grad().copy()))
        .collect();
    assert_eq!(before.len(), 10, "five layers with weight and bias");
    optimizer.step();
    for (p, (old, grad)) in model.parameters().iter().zip(&before) {
        let expected = old - grad * 0.5;
        let error = (p.detach() - expected).abs().max().double_value(&[]);
        assert!(
            error < 1e-6,
            "parameter {:?} moved wrongly: error {error}",
            p.size()
        );
    }
    assert!(
        before
            .iter()
            .any(|(_, g)| g.abs().max().double_value(&[]) > 0.0),
        "some gradient must be nonzero"
    );
}

/// Trained on the synthetic stand-in of Fashion-MNIST, LeNet lowers its validation loss and
/// classifies well above chance (10%). The chapter's SGD needs epochs to leave the sigmoid
/// plateau; to keep the test short, it trains the same model with Adam.
#[test]
fn lenet_learns_synthetic_fashion_mnist() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &SyntheticOptions {
            train: 512,
            test: 256,
            seed: 3,
        },
    )
    .unwrap();
    let data = FashionMnistTensors::load(dir.path()).unwrap();
    tch::manual_seed(1);
    let model = lenet(0.1, 10);
    let device = model.vs.device();
    let (x_val, y_val) = (
        data.test_images.to_device(device),
        data.test_labels.to_device(device),
    );
    let evaluate = || {
        tch::no_grad(|| {
            let y_hat = model.forward(&x_val);
            (
                model.loss(&y_hat, &y_val).double_value(&[]),
                d2l::accuracy(&y_hat, &y_val),
            )
        })
    };
    let (loss_before, _) = evaluate();
    // One intra-op thread: on a busy machine with few cores, libtorch's thread pool spends more
    // time waiting than computing for layers this small (measured: 13 times faster).
    tch::set_num_threads(1);
    let mut optimizer = nn::Adam::default().build(&model.vs, 3e-3).unwrap();
    let (x_train, y_train) = (
        data.train_images.to_device(device),
        data.train_labels.to_device(device),
    );
    let (num_train, batch_size) = (512, 64);
    for _epoch in 0..40 {
        let order = Tensor::randperm(num_train, (Kind::Int64, device));
        for start in (0..num_train).step_by(batch_size as usize) {
            let idx = order.narrow(0, start, batch_size);
            let batch = (x_train.index_select(0, &idx), y_train.index_select(0, &idx));
            let loss = model.training_step(&batch);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
    }
    let (loss_after, accuracy) = evaluate();
    assert!(
        loss_after < loss_before - 0.5,
        "loss {loss_before} -> {loss_after}"
    );
    assert!(
        accuracy > 0.4,
        "accuracy {accuracy} after training (chance is 0.1)"
    );
}
