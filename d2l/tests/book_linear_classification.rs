//! Behaviour of the API that the linear-classification chapter saves into `d2l::book`
//! (notebooks/chapter_linear-classification): accuracy, the `Classifier` trait, the Fashion-MNIST
//! data module, and softmax regression from scratch and with `tch`'s layers.
//!
//! The data tests run on the synthetic Fashion-MNIST stand-in of `d2l::data::fashion_mnist`
//! (`D2L_FASHION_MNIST=synthetic`), written once per test process into a directory under the
//! system's temp dir, so they need no network. Accuracies asserted here are about the stand-in,
//! not about Fashion-MNIST. Tests share libtorch's global random generator and run in parallel,
//! so each margin holds for any seed, not just the one a test sets.
//!
//! READY BUT OFF: the API lives in `d2l/src/book/`, which `d2l-book build lib` generates from the
//! notebooks' `//@save` cells. Until that directory exists this file must not compile, so the
//! attribute below switches it off. Delete that one line once `build lib` has run.

use std::sync::Once;

use d2l::prelude::*;
use d2l::{
    accuracy, cross_entropy, softmax, softmax_regression, Classifier, DataModule, FashionMNIST,
    Module, ScratchClassifier, SoftmaxRegressionScratch, Trainer,
};

/// Points the data hub at a private cache with the synthetic stand-in, writing it once.
fn synthetic_fashion_mnist() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let dir = std::env::temp_dir().join("d2l-tests-linear-classification");
        std::env::set_var("D2L_DATA_DIR", &dir);
        std::env::set_var("D2L_FASHION_MNIST", "synthetic");
        // The first load writes the files; later loads in other threads only read them.
        d2l::data::FashionMnistTensors::fetch().expect("the synthetic stand-in can be written");
    });
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

#[test]
fn accuracy_counts_rows_whose_argmax_is_the_label() {
    let y_hat = Tensor::from_slice2(&[[0.1f32, 0.3, 0.6], [0.3, 0.5, 0.2], [0.9, 0.05, 0.05]]);
    assert_eq!(
        accuracy(&y_hat, &Tensor::from_slice(&[0i64, 1, 0])),
        2.0 / 3.0
    );
    assert_eq!(accuracy(&y_hat, &Tensor::from_slice(&[2i64, 1, 0])), 1.0);
    // Labels of another integer kind or shape [n, 1] are accepted too.
    assert_eq!(
        accuracy(&y_hat, &Tensor::from_slice(&[1i32, 0, 2]).reshape([3, 1])),
        0.0
    );
}

#[test]
fn scratch_softmax_and_cross_entropy_agree_with_libtorch() {
    tch::manual_seed(3);
    let logits = Tensor::randn([5, 7], (Kind::Float, Device::Cpu));
    let probs = softmax(&logits);
    for s in values(&probs.sum_dim_intlist(1, false, Kind::Float)) {
        assert!((s - 1.0).abs() < 1e-5, "row sum {s}");
    }
    let diff = (&probs - logits.softmax(1, Kind::Float))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-6, "softmax differs by {diff}");
    let y = Tensor::from_slice(&[0i64, 6, 3, 3, 1]);
    let ours = cross_entropy(&probs, &y).double_value(&[]);
    let theirs = logits.cross_entropy_for_logits(&y).double_value(&[]);
    assert!((ours - theirs).abs() < 1e-5, "{ours} vs {theirs}");
    // -log of the picked probability, by hand for one row.
    let single = cross_entropy(
        &Tensor::from_slice2(&[[0.25f32, 0.75]]),
        &Tensor::from_slice(&[1i64]),
    );
    assert!((single.double_value(&[]) + 0.75f64.ln()).abs() < 1e-6);
}

#[test]
fn concise_loss_is_finite_where_the_naive_one_overflows() {
    let model = softmax_regression(3, 3, 0.1);
    let logits = Tensor::from_slice2(&[[1000.0f32, 0.0, -1000.0]]);
    let y = Tensor::from_slice(&[1i64]);
    assert!(
        cross_entropy(&softmax(&logits), &y)
            .double_value(&[])
            .is_infinite()
            || cross_entropy(&softmax(&logits), &y)
                .double_value(&[])
                .is_nan()
    );
    let stable = model.loss(&logits, &y).double_value(&[]);
    assert!((stable - 1000.0).abs() < 1e-3, "stable loss {stable}");
}

#[test]
fn fashion_mnist_serves_labelled_batches_of_the_right_shape() {
    synthetic_fashion_mnist();
    let data = FashionMNIST::new(256);
    assert!(
        data.is_synthetic(),
        "the tests must run on the labelled stand-in"
    );
    assert_eq!(data.data.train_images.size(), [60000, 1, 28, 28]);
    assert_eq!(data.data.test_images.size(), [10000, 1, 28, 28]);
    // 60000 / 256 and 10000 / 256, rounded up: the last batch is smaller.
    assert_eq!(data.train_dataloader().len(), 235);
    assert_eq!(data.val_dataloader().len(), 40);
    let sizes: Vec<i64> = data.val_dataloader().map(|(x, _)| x.size()[0]).collect();
    assert_eq!(sizes.iter().sum::<i64>(), 10000);
    assert_eq!(*sizes.last().unwrap(), 10000 - 39 * 256);
    let (x, y) = data.train_dataloader().next().unwrap();
    assert_eq!(x.size(), [256, 1, 28, 28]);
    assert_eq!(x.kind(), Kind::Float);
    assert_eq!(y.size(), [256]);
    assert_eq!(y.kind(), Kind::Int64);
    let (lo, hi) = (x.min().double_value(&[]), x.max().double_value(&[]));
    assert!(
        (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi),
        "pixels in [{lo}, {hi}]"
    );
    // Validation batches come in a fixed order; training batches are reshuffled every epoch.
    let first_val = |d: &FashionMNIST| d.val_dataloader().next().unwrap().1;
    assert!(first_val(&data).equal(&first_val(&data)));
    let first_train = |d: &FashionMNIST| d.train_dataloader().next().unwrap().1;
    assert!(!first_train(&data).equal(&first_train(&data)));
}

#[test]
fn fashion_mnist_text_labels_and_resize() {
    synthetic_fashion_mnist();
    let data = FashionMNIST::try_new(32, Some([64, 48])).unwrap();
    let labels = data.text_labels(&Tensor::from_slice(&[0i64, 9, 3, 12]));
    assert_eq!(labels, ["t-shirt", "ankle boot", "dress", "?"]);
    assert_eq!(FashionMNIST::LABELS.len(), 10);
    let (x, _) = data.val_dataloader().next().unwrap();
    assert_eq!(x.size(), [32, 1, 64, 48]);
    let (x, _) = data.train_dataloader().next().unwrap();
    assert_eq!(x.size(), [32, 1, 64, 48]);
}

/// The chapter's claim: one epoch of softmax regression (batch 256, learning rate 0.1) beats
/// the 10% of guessing by a wide margin on the stand-in. The notebooks see about 80% after one
/// epoch; we require 50%, five times chance.
#[test]
fn scratch_softmax_regression_beats_chance_after_one_epoch() {
    synthetic_fashion_mnist();
    tch::manual_seed(0);
    let data = FashionMNIST::new(256);
    let mut model = ScratchClassifier {
        net: SoftmaxRegressionScratch::new(784, 10, 0.01),
        lr: 0.1,
    };
    let history = Trainer::new(1)
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    let stats = &history[0];
    let acc = stats
        .val_metric("acc")
        .expect("a classifier reports val acc");
    assert!(acc > 0.5, "val acc after one epoch: {acc}");
    // The loss fell well below that of a uniform guess, log 10 = 2.30.
    assert!(stats.val_metric("loss").unwrap() < 1.5, "{stats:?}");
    assert!(stats.train_loss < 2.0, "{stats:?}");
}

#[test]
fn concise_softmax_regression_beats_chance_after_one_epoch() {
    synthetic_fashion_mnist();
    tch::manual_seed(1);
    let data = FashionMNIST::new(256);
    let mut model = softmax_regression(784, 10, 0.1);
    let history = Trainer::new(1)
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    let acc = history[0].val_metric("acc").unwrap();
    assert!(acc > 0.5, "val acc after one epoch: {acc}");
    // The exact accuracy over all 10000 validation images agrees with the mean of the batch
    // accuracies up to the weight of the smaller last batch.
    let (x, y) = (&data.data.test_images, &data.data.test_labels);
    let exact = tch::no_grad(|| accuracy(&model.forward(x), y));
    assert!(
        (exact - acc).abs() < 0.02,
        "exact {exact} vs batch mean {acc}"
    );
}

#[test]
fn classification_metrics_report_loss_and_accuracy() {
    tch::manual_seed(2);
    let model = ScratchClassifier {
        net: SoftmaxRegressionScratch::new(4, 3, 0.01),
        lr: 0.1,
    };
    let x = Tensor::randn([6, 4], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2]);
    let metrics = model.classification_metrics(&(x.shallow_clone(), y.shallow_clone()));
    let names: Vec<&str> = metrics.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["loss", "acc"]);
    // Weights near zero predict nearly uniform probabilities: loss close to log 3.
    assert!((metrics[0].1 - 3f64.ln()).abs() < 0.1, "{metrics:?}");
    assert_eq!(metrics[1].1, accuracy(&model.forward(&x), &y));
    assert_eq!(model.validation_step(&(x, y)), metrics);
}
