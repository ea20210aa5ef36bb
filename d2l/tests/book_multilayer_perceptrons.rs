//! Behaviour of the API that the multilayer-perceptron chapter saves into `d2l::book`
//! (notebooks/chapter_multilayer-perceptrons): the MLPs, dropout, Xavier initialization, and the
//! house-price pipeline (preprocessing, log-RMSE, K-fold splits, submission file). Tests share
//! libtorch's global random generator and run in parallel, so each tolerance below holds for any
//! seed, not just the one a test sets.
//!
//! READY BUT OFF: the API lives in `d2l/src/book/`, which `d2l-book build lib` generates from the
//! notebooks' `//@save` cells. Until that directory exists this file must not compile, so the
//! attribute below switches it off. Delete that one line once `build lib` has run.

use d2l::data::Table;
use d2l::prelude::*;
use d2l::{
    dropout_layer, dropout_mlp, fold_range, house_price_regression, k_fold, k_fold_data, log_rmse,
    mlp, relu_scratch, write_submission, xavier_uniform, Batch, DataModule, DropoutMLPScratch,
    KaggleHouse, MLPScratch, Module, ScratchClassifier, ScratchNet,
};

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

fn row_ids(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.detach().to_kind(Kind::Int64).flatten(0, -1)).unwrap()
}

/// The validation folds of every (n, k) cover 0..n exactly once, in order, with sizes that
/// differ by at most one.
#[test]
fn fold_ranges_partition_the_rows() {
    for n in 1..40 {
        for k in 1..=n.min(12) {
            let ranges: Vec<_> = (0..k).map(|i| fold_range(n, k, i)).collect();
            assert_eq!(ranges[0].start, 0, "n={n} k={k}");
            assert_eq!(ranges[k as usize - 1].end, n, "n={n} k={k}");
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "n={n} k={k}: {ranges:?}");
            }
            let sizes: Vec<i64> = ranges.iter().map(|r| r.end - r.start).collect();
            let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
            assert!(min >= 1 && max - min <= 1, "n={n} k={k}: sizes {sizes:?}");
        }
    }
}

#[test]
#[should_panic(expected = "need 0 <= i < k <= n")]
fn more_folds_than_rows_is_refused() {
    fold_range(3, 4, 0);
}

/// With the row number as the only feature: in every split, training and validation rows are
/// disjoint and together are all rows; over the splits, validation rows are all rows once; the
/// labels travel with their rows.
#[test]
fn k_fold_splits_partition_the_data_exactly() {
    let n = 23;
    let x = Tensor::arange(n, (Kind::Int64, Device::Cpu)).reshape([-1, 1]);
    let y = &x * 10;
    let splits = k_fold_data(&x, &y, 5, 4);
    assert_eq!(splits.len(), 5);
    let mut all_val = Vec::new();
    for split in &splits {
        let train = row_ids(&split.x_train);
        let val = row_ids(&split.x_val);
        let mut both: Vec<i64> = train.iter().chain(&val).copied().collect();
        both.sort_unstable();
        assert_eq!(both, (0..n).collect::<Vec<_>>());
        assert_eq!(
            row_ids(&split.y_train),
            train.iter().map(|r| r * 10).collect::<Vec<_>>()
        );
        assert_eq!(
            row_ids(&split.y_val),
            val.iter().map(|r| r * 10).collect::<Vec<_>>()
        );
        all_val.extend(val);
    }
    assert_eq!(all_val, (0..n).collect::<Vec<_>>());
}

/// A split serves its training rows in shuffled batches and its validation fold as one batch.
#[test]
fn k_fold_split_loaders() {
    let x = Tensor::arange(20, (Kind::Float, Device::Cpu)).reshape([-1, 1]);
    let split = k_fold_data(&x, &x, 4, 6).remove(1);
    let train: Vec<Batch> = split.train_dataloader().collect();
    assert_eq!(
        train.iter().map(|(x, _)| x.size()[0]).collect::<Vec<_>>(),
        [6, 6, 3]
    );
    let mut seen: Vec<i64> = train.iter().flat_map(|(x, _)| row_ids(x)).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..5).chain(10..20).collect::<Vec<_>>());
    let val: Vec<Batch> = split.val_dataloader().collect();
    assert_eq!(val.len(), 1);
    assert_eq!(row_ids(&val[0].0), (5..10).collect::<Vec<_>>());
}

fn tiny_tables() -> (Table, Table) {
    let train = "Id,Area,Street,Rooms,SalePrice\n1,100,Pave,3,100000\n2,200,Grvl,NA,200000\n3,300,NA,5,400000\n";
    let test = "Id,Area,Street,Rooms\n4,400,Pave,4\n5,NA,Grvl,6\n";
    (
        Table::from_reader(train.as_bytes()).unwrap(),
        Table::from_reader(test.as_bytes()).unwrap(),
    )
}

/// Id and SalePrice are not features; numeric features are standardized over training and test
/// rows together, missing numbers become 0, categories become indicators (with one for missing
/// values), and the labels are log prices.
#[test]
fn house_data_is_standardized_and_one_hot_encoded() {
    let (train, test) = tiny_tables();
    let data = KaggleHouse::from_tables(train, test, 2).unwrap();
    // 2 numeric columns + Street_Grvl, Street_Pave, Street_nan.
    assert_eq!(data.train_features.size(), [3, 5]);
    assert_eq!(data.test_features.size(), [2, 5]);
    let all = Tensor::cat(&[&data.train_features, &data.test_features], 0);
    // Area: 100..400 present in 4 rows, mean 250, sample std 129.1; the missing one is 0.
    let area = values(&all.select(1, 0));
    let std = (50_000.0f64 / 3.0).sqrt();
    for (got, want) in area
        .iter()
        .zip([-150.0 / std, -50.0 / std, 50.0 / std, 150.0 / std, 0.0])
    {
        assert!((got - want).abs() < 1e-5, "area {area:?}");
    }
    // Rooms: 3, 5, 4, 6 present (mean 4.5); the missing one is 0 = the mean.
    let rooms = values(&all.select(1, 1));
    assert!(
        rooms[1].abs() < 1e-6 && rooms[0] < 0.0 && rooms[4] > 0.0,
        "rooms {rooms:?}"
    );
    let present: Vec<f64> = [0, 2, 3, 4].iter().map(|&i| rooms[i]).collect();
    let mean = present.iter().sum::<f64>() / 4.0;
    let var = present.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 3.0;
    assert!(
        mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5,
        "rooms {rooms:?}"
    );
    // One-hot: Grvl, Pave, nan.
    let street: Vec<Vec<f64>> = (0..5)
        .map(|r| values(&all.get(r).narrow(0, 2, 3)))
        .collect();
    assert_eq!(
        street,
        [
            vec![0.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![0.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0]
        ]
    );
    let labels = values(&data.train_labels);
    assert_eq!(data.train_labels.size(), [3, 1]);
    for (got, price) in labels.iter().zip([100000.0f64, 200000.0, 400000.0]) {
        assert!((got - price.ln()).abs() < 1e-4);
    }
}

/// The data module serves every training house once per epoch and has no validation batches.
#[test]
fn house_data_module_loaders() {
    let (train, test) = tiny_tables();
    let data = KaggleHouse::from_tables(train, test, 2).unwrap();
    let sizes: Vec<i64> = data.train_dataloader().map(|(x, _)| x.size()[0]).collect();
    assert_eq!(sizes, [2, 1]);
    assert_eq!(data.val_dataloader().len(), 0);
}

#[test]
fn log_rmse_is_the_rms_of_log_ratios_with_clipping() {
    let prices = Tensor::from_slice(&[100.0f32, 1000.0]);
    assert!(log_rmse(&prices, &prices).abs() < 1e-6);
    let doubled = &prices * 2.0;
    assert!((log_rmse(&doubled, &prices) - 2f64.ln()).abs() < 1e-5);
    // Predictions below 1 count as 1: log(1) - log(100) and log(1) - log(1000).
    let negative = Tensor::from_slice(&[-5.0f32, 0.5]);
    let want = ((100f64.ln().powi(2) + 1000f64.ln().powi(2)) / 2.0).sqrt();
    assert!((log_rmse(&negative, &prices) - want).abs() < 1e-4);
    // Labels given as a column are fine too.
    assert!((log_rmse(&doubled, &prices.reshape([-1, 1])) - 2f64.ln()).abs() < 1e-5);
}

#[test]
fn submission_file_has_header_and_one_line_per_house() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("submission.csv");
    let ids = Tensor::from_slice(&[1461.0f32, 1462.0]);
    let prices = Tensor::from_slice(&[120000.5f32, 99999.0]).reshape([-1, 1]);
    write_submission(&path, &ids, &prices).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "Id,SalePrice\n1461,120000.50\n1462,99999.00\n");
}

/// Cross-validating the linear house-price model on a noiseless linear relation of log prices
/// reaches a small validation log-RMSE on every fold.
#[test]
fn k_fold_trains_one_model_per_split() {
    tch::manual_seed(3);
    let x = Tensor::randn([200, 3], (Kind::Float, Device::Cpu));
    let w = Tensor::from_slice(&[0.3f32, -0.2, 0.1]).reshape([-1, 1]);
    let y = x.matmul(&w) + 12.0;
    let results = k_fold(&x, &y, 4, 16, 30, || house_price_regression(3, 0.1, 0.0))
        .expect("the optimizer builds");
    assert_eq!(results.len(), 4);
    for (_, stats) in &results {
        let err = stats.val_metric("log_rmse").unwrap();
        assert!(err < 0.1, "validation log-RMSE {err}");
    }
}

#[test]
fn dropout_layer_zeroes_and_rescales() {
    let x = Tensor::ones([200_000], (Kind::Float, Device::Cpu)) * 3.0;
    assert_eq!(values(&dropout_layer(&x, 0.0)), values(&x));
    assert!(values(&dropout_layer(&x, 1.0)).iter().all(|&v| v == 0.0));
    let dropped = values(&dropout_layer(&x, 0.25));
    assert!(dropped.iter().all(|&v| v == 0.0 || (v - 4.0).abs() < 1e-6));
    let zero_share = dropped.iter().filter(|&&v| v == 0.0).count() as f64 / dropped.len() as f64;
    assert!(
        (zero_share - 0.25).abs() < 0.01,
        "zeroed share {zero_share}"
    );
    let mean = dropped.iter().sum::<f64>() / dropped.len() as f64;
    assert!((mean - 3.0).abs() < 0.05, "mean {mean}");
}

#[test]
#[should_panic(expected = "dropout probability 1.5 is not in [0, 1]")]
fn dropout_probability_above_one_is_refused() {
    let _ = dropout_layer(&Tensor::ones([2], (Kind::Float, Device::Cpu)), 1.5);
}

#[test]
fn relu_scratch_matches_relu() {
    let x = Tensor::randn([1000], (Kind::Float, Device::Cpu));
    assert_eq!(values(&relu_scratch(&x)), values(&x.relu()));
}

#[test]
fn xavier_uniform_has_the_right_bound_and_variance() {
    let w = nn::init(xavier_uniform(300, 100), &[100, 300], Device::Cpu);
    let bound = (6.0f64 / 400.0).sqrt();
    assert!(w.abs().max().double_value(&[]) <= bound);
    let var = w.var(true).double_value(&[]);
    assert!((var - 2.0 / 400.0).abs() < 0.0003, "variance {var}");
}

#[test]
fn mlp_scratch_shapes_and_parameters() {
    let model = ScratchClassifier {
        net: MLPScratch::new(784, 10, 256, 0.01),
        lr: 0.1,
    };
    let x = Tensor::rand([5, 1, 28, 28], (Kind::Float, Device::Cpu));
    assert_eq!(model.forward(&x).size(), [5, 10]);
    let count: i64 = model.parameters().iter().map(|p| p.numel() as i64).sum();
    assert_eq!(count, 784 * 256 + 256 + 256 * 10 + 10);
    assert!(model.parameters().iter().all(|p| p.requires_grad()));
}

/// Dropout models: evaluation (`forward`, the validation step) is deterministic, the training
/// step is not; with dropout 0 both agree.
#[test]
fn dropout_models_drop_only_when_training() {
    let x = Tensor::rand([8, 1, 28, 28], (Kind::Float, Device::Cpu));
    let y = Tensor::zeros([8], (Kind::Int64, Device::Cpu));
    let batch: Batch = (x.shallow_clone(), y);
    let scratch = ScratchClassifier {
        net: DropoutMLPScratch::new(784, 10, 64, 64, 0.5, 0.5),
        lr: 0.1,
    };
    let concise = dropout_mlp(784, 10, 64, 64, 0.5, 0.5, 0.1);
    let losses = |m: &dyn Fn() -> Tensor| (m().double_value(&[]), m().double_value(&[]));
    let (a, b) = losses(&|| scratch.training_step(&batch));
    assert_ne!(a, b, "scratch training steps should differ");
    let (a, b) = losses(&|| concise.training_step(&batch));
    assert_ne!(a, b, "concise training steps should differ");
    assert_eq!(values(&scratch.forward(&x)), values(&scratch.forward(&x)));
    assert_eq!(values(&concise.forward(&x)), values(&concise.forward(&x)));
    let plain = ScratchClassifier {
        net: DropoutMLPScratch::new(784, 10, 64, 64, 0.0, 0.0),
        lr: 0.1,
    };
    assert_eq!(
        values(&plain.net.forward_t(&x, true)),
        values(&plain.forward(&x))
    );
}

/// Points in the four quadrants labelled like XOR (no linear model gets more than about 3/4
/// right). Both MLPs learn it; the validation step reports the accuracy.
#[test]
fn mlps_learn_xor_which_no_linear_model_can() {
    tch::manual_seed(11);
    let x = Tensor::rand([800, 2], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let x = &x + x.sign() * 0.2; // keep a margin around the axes
    let y = x
        .select(1, 0)
        .gt(0.0)
        .logical_xor(&x.select(1, 1).gt(0.0))
        .to_kind(Kind::Int64);
    let split = k_fold_data(&x, &y, 4, 32).remove(0);
    let mut scratch = ScratchClassifier {
        net: MLPScratch::new(2, 2, 32, 0.5),
        lr: 0.5,
    };
    let history = d2l::Trainer::new(20)
        .fit(&mut scratch, &split)
        .expect("the optimizer builds");
    let acc = history.last().unwrap().val_metric("acc").unwrap();
    assert!(acc > 0.95, "scratch MLP accuracy {acc}");
    let mut concise = mlp(2, 2, 32, 0.5);
    let history = d2l::Trainer::new(20)
        .fit(&mut concise, &split)
        .expect("the optimizer builds");
    let acc = history.last().unwrap().val_metric("acc").unwrap();
    assert!(acc > 0.95, "concise MLP accuracy {acc}");
    assert!((d2l::accuracy(&concise.forward(&split.x_val), &split.y_val) - acc).abs() < 1e-6);
}

/// The real Kaggle files (from ../shared/data, where the project keeps byte-identical copies):
/// 1460 training and 1459 test houses with the same few hundred columns, no missing values left,
/// and log prices between log(30,000) and log(800,000).
#[test]
fn real_house_data_preprocesses_cleanly() {
    // Where the Makefile finds them too: $D2L_SHARED_DATA, else ../shared/data beside the clone.
    let dir = std::env::var_os("D2L_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
        });
    let (train, test) = (
        dir.join("kaggle_house_pred_train.csv"),
        dir.join("kaggle_house_pred_test.csv"),
    );
    // The offline copies are part of every development and CI machine (../shared/data): a
    // missing file is a broken set-up, not a reason to pass.
    assert!(
        train.is_file() && test.is_file(),
        "{} has no Kaggle house files (kaggle_house_pred_{{train,test}}.csv)",
        dir.display()
    );
    let data = KaggleHouse::from_tables(
        Table::read_csv(&train).unwrap(),
        Table::read_csv(&test).unwrap(),
        64,
    )
    .unwrap();
    let (n_train, d) = (data.train_features.size()[0], data.train_features.size()[1]);
    assert_eq!(n_train, 1460);
    assert_eq!(data.test_features.size(), [1459, d]);
    assert!(d > 300, "{d} columns");
    for t in [
        &data.train_features,
        &data.test_features,
        &data.train_labels,
    ] {
        assert_eq!(t.isnan().sum(Kind::Int64).int64_value(&[]), 0);
    }
    let labels = values(&data.train_labels);
    assert!(labels
        .iter()
        .all(|&l| l > 30_000f64.ln() && l < 800_000f64.ln()));
}
