//! Archives (and their safety), the IDX format, the synthetic Fashion-MNIST, the tensor loader
//! and CSV tables.

use std::io::Write;
use std::path::{Path, PathBuf};

use d2l::data::fashion_mnist::{self, write_synthetic, FashionMnistTensors, SyntheticOptions};
use d2l::data::idx::{read_idx, read_idx_from, write_idx, IdxArray, IdxData};
use d2l::data::{extract, CsvOptions, DataError, Gather, Table, TensorLoader};
use d2l::prelude::*;

fn shared_data() -> PathBuf {
    match std::env::var_os("D2L_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

// ----- archives -------------------------------------------------------------------------------

fn zip_with(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

/// A tar.gz whose entry names are written raw (tar's builder refuses unsafe names itself).
fn tar_gz_with(path: &Path, entries: &[(&str, &[u8], tar::EntryType, Option<&str>)]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(gz);
    for (name, data, kind, link) in entries {
        let mut header = tar::Header::new_gnu();
        {
            let raw = header.as_gnu_mut().unwrap();
            raw.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn zip_and_tar_gz_extract_into_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("a.zip");
    zip_with(&zip, &[("a/x.txt", b"x"), ("a/sub/y.txt", b"y")]);
    let out = dir.path().join("out");
    let written = extract(&zip, &out).unwrap();
    assert_eq!(written.len(), 2);
    assert_eq!(std::fs::read(out.join("a/sub/y.txt")).unwrap(), b"y");

    let tgz = dir.path().join("b.tar.gz");
    tar_gz_with(&tgz, &[("b/z.txt", b"zz", tar::EntryType::Regular, None)]);
    extract(&tgz, &out).unwrap();
    assert_eq!(std::fs::read(out.join("b/z.txt")).unwrap(), b"zz");
    assert!(matches!(
        extract(dir.path().join("c.rar"), &out),
        Err(DataError::UnsupportedArchive(_))
    ));
}

#[test]
fn entries_escaping_the_target_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    type Maker = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Maker)> = vec![
        (
            "zip-dotdot.zip",
            Box::new(|p: &Path| zip_with(p, &[("ok.txt", b"fine"), ("../evil.txt", b"evil")])),
        ),
        (
            "zip-abs.zip",
            Box::new(|p: &Path| zip_with(p, &[("/tmp/d2l-evil.txt", b"evil")])),
        ),
        (
            "tar-dotdot.tar.gz",
            Box::new(|p: &Path| {
                tar_gz_with(
                    p,
                    &[("a/../../evil.txt", b"evil", tar::EntryType::Regular, None)],
                )
            }),
        ),
        (
            "tar-abs.tar.gz",
            Box::new(|p: &Path| {
                tar_gz_with(
                    p,
                    &[("/tmp/d2l-evil.txt", b"evil", tar::EntryType::Regular, None)],
                )
            }),
        ),
        (
            "tar-link.tar.gz",
            Box::new(|p: &Path| {
                tar_gz_with(p, &[("link", b"", tar::EntryType::Symlink, Some("/etc"))])
            }),
        ),
        (
            "tar-hard.tar.gz",
            Box::new(|p: &Path| {
                tar_gz_with(p, &[("hard", b"", tar::EntryType::Link, Some("../x"))])
            }),
        ),
    ];
    for (name, make) in cases {
        let archive = dir.path().join(name);
        make(&archive);
        let err = extract(&archive, &out).unwrap_err();
        assert!(
            matches!(err, DataError::UnsafeEntry { .. }),
            "{name}: {err:?}"
        );
        assert!(!dir.path().join("evil.txt").exists(), "{name}");
        assert!(!Path::new("/tmp/d2l-evil.txt").exists(), "{name}");
        assert!(
            !out.join("link").exists() && !out.join("hard").exists(),
            "{name}"
        );
    }
    // A zip is checked as a whole before anything is written.
    assert!(!out.join("ok.txt").exists());
}

// ----- IDX ------------------------------------------------------------------------------------

#[test]
fn idx_round_trips_every_type_gzipped_and_raw() {
    let dir = tempfile::tempdir().unwrap();
    let arrays = [
        IdxArray::new(vec![2, 3, 2], IdxData::U8((0..12).collect())).unwrap(),
        IdxArray::new(vec![4], IdxData::I8(vec![-128, -1, 0, 127])).unwrap(),
        IdxArray::new(vec![2, 2], IdxData::I16(vec![-30000, 1, 2, 30000])).unwrap(),
        IdxArray::new(vec![3], IdxData::I32(vec![i32::MIN, 0, i32::MAX])).unwrap(),
        IdxArray::new(vec![1, 2], IdxData::F32(vec![1.5, -2.25])).unwrap(),
        IdxArray::new(vec![2], IdxData::F64(vec![std::f64::consts::PI, -0.0])).unwrap(),
    ];
    for (i, a) in arrays.iter().enumerate() {
        for name in [format!("a{i}-idx"), format!("a{i}-idx.gz")] {
            let p = dir.path().join(&name);
            write_idx(&p, a).unwrap();
            assert_eq!(&read_idx(&p).unwrap(), a, "{name}");
        }
        assert_eq!(IdxArray::from_tensor(&a.to_tensor()).unwrap(), *a);
    }
    let gz = std::fs::read(dir.path().join("a0-idx.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "written gzipped");
    let raw = std::fs::read(dir.path().join("a0-idx")).unwrap();
    assert_eq!(&raw[..8], &[0, 0, 0x08, 3, 0, 0, 0, 2], "magic, type, dims");
    assert_eq!(raw.len(), 4 + 3 * 4 + 12);
    // Malformed files are reported, not panicked on.
    assert!(read_idx_from(&raw[..raw.len() - 1])
        .unwrap_err()
        .contains("truncated"));
    assert!(read_idx_from(&b"PK\x03\x04"[..])
        .unwrap_err()
        .contains("not an IDX file"));
    assert!(read_idx_from(&[0u8, 0, 0x42, 1, 0, 0, 0, 1, 0][..])
        .unwrap_err()
        .contains("element type"));
    let t = arrays[0].to_tensor();
    assert_eq!((t.size(), t.kind()), (vec![2, 3, 2], Kind::Uint8));
}

// ----- Fashion-MNIST --------------------------------------------------------------------------

#[test]
fn synthetic_fashion_mnist_has_the_real_files_shapes_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("fashion-mnist");
    write_synthetic(&set, &SyntheticOptions::default()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    files.sort();
    let mut expected: Vec<String> = fashion_mnist::FILES.iter().map(|s| s.to_string()).collect();
    expected.push(fashion_mnist::SYNTHETIC_MARKER.into());
    expected.sort();
    assert_eq!(files, expected);
    assert!(fashion_mnist::is_synthetic(&set));
    assert!(std::fs::read_to_string(set.join("SYNTHETIC.md"))
        .unwrap()
        .contains("NOT the Fashion-MNIST data set"));

    let raw = read_idx(set.join("train-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(raw.dims(), [60000, 28, 28]);
    assert_eq!(
        read_idx(set.join("t10k-labels-idx1-ubyte.gz"))
            .unwrap()
            .dims(),
        [10000]
    );

    let data = FashionMnistTensors::load(&set).unwrap();
    assert!(data.synthetic);
    assert!(data.to_string().contains("SYNTHETIC"));
    assert_eq!(data.train_images.size(), [60000, 1, 28, 28]);
    assert_eq!(data.test_images.size(), [10000, 1, 28, 28]);
    assert_eq!(data.train_images.kind(), Kind::Float);
    assert_eq!(data.train_labels.kind(), Kind::Int64);
    let counts = data.train_labels.bincount::<Tensor>(None, 10);
    assert_eq!(
        Vec::<i64>::try_from(counts).unwrap(),
        vec![6000; 10],
        "balanced classes"
    );
    let max = data.train_images.max().double_value(&[]);
    let min = data.train_images.min().double_value(&[]);
    assert!(min >= 0.0 && max <= 1.0 && max > 0.9);
    assert_eq!(
        data.text_labels(&Tensor::from_slice(&[0i64, 9])),
        ["t-shirt", "ankle boot"]
    );

    // The same seed writes the same bytes.
    let again = dir.path().join("again");
    write_synthetic(
        &again,
        &SyntheticOptions {
            train: 50,
            test: 10,
            seed: 0,
        },
    )
    .unwrap();
    let again2 = dir.path().join("again2");
    write_synthetic(
        &again2,
        &SyntheticOptions {
            train: 50,
            test: 10,
            seed: 0,
        },
    )
    .unwrap();
    assert_eq!(
        read_idx(again.join(fashion_mnist::FILES[0])).unwrap(),
        read_idx(again2.join(fashion_mnist::FILES[0])).unwrap()
    );
}

#[test]
fn softmax_regression_learns_the_synthetic_set_but_not_perfectly() {
    tch::manual_seed(0);
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &SyntheticOptions {
            train: 6000,
            test: 2000,
            seed: 3,
        },
    )
    .unwrap();
    let data = FashionMnistTensors::load(dir.path()).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let net = nn::linear(vs.root(), 784, 10, Default::default());
    let mut opt = nn::Sgd::default().build(&vs, 0.1).unwrap();
    let loader = TensorLoader::new(
        (
            data.train_images.flatten(1, -1),
            data.train_labels.shallow_clone(),
        ),
        256,
    )
    .unwrap()
    .shuffle(true)
    .seed(1);
    for _ in 0..10 {
        for (x, y) in &loader {
            let loss = net.forward(&x).cross_entropy_for_logits(&y);
            opt.backward_step(&loss);
        }
    }
    let acc = net
        .forward(&data.test_images.flatten(1, -1))
        .accuracy_for_logits(&data.test_labels)
        .double_value(&[]);
    println!("softmax regression on the synthetic set: test accuracy {acc:.3}");
    assert!(acc > 0.6, "a linear model learns the classes: {acc}");
    assert!(acc < 0.99, "but the set is not trivial: {acc}");
}

// ----- the tensor loader ----------------------------------------------------------------------

fn labels_of(batches: impl Iterator<Item = (Tensor, Tensor)>) -> Vec<Vec<i64>> {
    batches
        .map(|(_, y)| Vec::<i64>::try_from(y).unwrap())
        .collect()
}

/// Without a seed, the order follows libtorch's generator: `tch::manual_seed` repeats it, and a
/// loader can be consumed by value (one epoch) as a `DataModule` that builds it on the fly does.
#[test]
fn unseeded_loaders_follow_tch_manual_seed_and_iterate_by_value() {
    let x = Tensor::arange(50, (Kind::Float, Device::Cpu)).reshape([50, 1]);
    let y = Tensor::arange(50, (Kind::Int64, Device::Cpu));
    let epoch = |seed: i64| {
        tch::manual_seed(seed);
        let loader = TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 8)
            .unwrap()
            .shuffle(true);
        let batches = loader.into_iter();
        assert_eq!(batches.len(), 7);
        labels_of(batches)
    };
    let first = epoch(5);
    // Tests run in parallel on one global generator; another test may draw between the seeding
    // and the loader's draw, so equality is given three chances.
    let repeats = (0..3).any(|_| epoch(5) == epoch(5));
    assert!(repeats, "the same seed gives the same order");
    assert_ne!(first, epoch(6), "another seed gives another order");
    let mut all = first.concat();
    all.sort();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
}

#[test]
fn loader_batches_in_order_or_shuffled_with_a_seed() {
    let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).reshape([10, 1]) * 10.0;
    let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
    let plain = TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 4).unwrap();
    assert_eq!((plain.len(), plain.iter().len()), (3, 3));
    assert_eq!(
        labels_of(plain.iter()),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
    );
    let dropped = TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 4)
        .unwrap()
        .drop_last(true);
    assert_eq!(dropped.len(), 2);
    assert_eq!(
        labels_of(dropped.iter()),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]
    );

    let shuffled = || {
        TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 3)
            .unwrap()
            .shuffle(true)
            .seed(42)
    };
    let a = shuffled();
    let (e1, e2) = (labels_of(a.iter()), labels_of(a.iter()));
    assert_ne!(e1, e2, "a new order each epoch");
    let mut all: Vec<i64> = e1.concat();
    all.sort();
    assert_eq!(
        all,
        (0..10).collect::<Vec<_>>(),
        "every example once per epoch"
    );
    let b = shuffled();
    assert_eq!(
        (labels_of(b.iter()), labels_of(b.iter())),
        (e1, e2),
        "the same seed, the same epochs"
    );
    // Features stay paired with their labels.
    for (xb, yb) in &a {
        assert!(xb.squeeze_dim(1).equal(&(yb.to_kind(Kind::Float) * 10.0)));
    }
}

#[test]
fn loader_gathers_per_batch_or_per_epoch_alike() {
    let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).reshape([10, 1]) * 10.0;
    let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
    let with = |gather| {
        TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 4)
            .unwrap()
            .shuffle(true)
            .seed(7)
            .gather(gather)
    };
    let (per_batch, per_epoch) = (with(Gather::PerBatch), with(Gather::PerEpoch));
    assert_eq!(
        TensorLoader::new(y.shallow_clone(), 4)
            .unwrap()
            .current_gather(),
        Gather::PerBatch,
        "the CPU's default"
    );
    for _ in 0..2 {
        let (a, b): (Vec<_>, Vec<_>) = (per_batch.iter().collect(), per_epoch.iter().collect());
        assert_eq!(a.len(), 3);
        for ((xa, ya), (xb, yb)) in a.iter().zip(&b) {
            assert!(
                xa.equal(xb) && ya.equal(yb),
                "the same seed gives the same batches either way"
            );
            assert!(xb.squeeze_dim(1).equal(&(yb.to_kind(Kind::Float) * 10.0)));
        }
        // Per epoch, the batches are consecutive views of one shuffled copy of the data.
        let step = 4 * std::mem::size_of::<f32>();
        assert_eq!(
            b[1].0.data_ptr() as usize - b[0].0.data_ptr() as usize,
            step
        );
        assert_ne!(b[0].0.data_ptr(), x.data_ptr());
    }
}

#[test]
fn loader_takes_one_or_many_tensors_and_checks_them() {
    let t = Tensor::arange(6, (Kind::Int64, Device::Cpu));
    let single = TensorLoader::new(t.shallow_clone(), 4).unwrap();
    assert_eq!(
        single.iter().map(|b| b.size()[0]).collect::<Vec<_>>(),
        [4, 2]
    );
    let triple =
        TensorLoader::new((t.shallow_clone(), t.shallow_clone(), t.shallow_clone()), 5).unwrap();
    assert_eq!(triple.iter().count(), 2);
    let many = TensorLoader::new((0..4).map(|_| t.shallow_clone()).collect::<Vec<_>>(), 6).unwrap();
    assert_eq!(many.iter().next().unwrap().len(), 4);
    let err = TensorLoader::new(
        (
            t.shallow_clone(),
            Tensor::arange(5, (Kind::Int64, Device::Cpu)),
        ),
        2,
    )
    .unwrap_err();
    assert!(err.to_string().contains("5 examples"), "{err}");
    assert!(TensorLoader::new(t.shallow_clone(), 0).is_err());
    // An unshuffled batch is a view of the data, not a copy.
    let first = single.iter().next().unwrap();
    assert_eq!(first.data_ptr(), t.data_ptr());
    // Device placement happens once, up front.
    let on = TensorLoader::new(t, 2).unwrap().device(d2l::try_gpu());
    assert!(on.iter().all(|b| b.device() == d2l::try_gpu()));
}

// ----- CSV tables -----------------------------------------------------------------------------

#[test]
fn house_prices_become_standardised_one_hot_tensors() {
    let train = Table::read_csv(shared_data().join("kaggle_house_pred_train.csv")).unwrap();
    let test = Table::read_csv(shared_data().join("kaggle_house_pred_test.csv")).unwrap();
    assert_eq!(train.shape(), (1460, 81));
    assert_eq!(test.shape(), (1459, 80));
    assert!(train.column("SalePrice").unwrap().is_numeric());
    assert!(!train.column("MSZoning").unwrap().is_numeric());

    // The chapter's preprocessing: drop the id and the label, standardise, fill, one-hot.
    let features = train.drop(&["Id", "SalePrice"]).concat(&test.drop(&["Id"]));
    assert_eq!(features.shape(), (2919, 79));
    let features = features.standardize().fill_missing(0.0).one_hot(true);
    // pandas (get_dummies(dummy_na=True) on the same frame) gives 330 columns.
    assert_eq!(features.shape(), (2919, 330));
    // Same order as pandas: the 36 numeric columns, then each text column's sorted values and nan.
    let names = features.column_names();
    assert_eq!(names[..3], ["MSSubClass", "LotFrontage", "LotArea"]);
    assert_eq!(
        names[36..42],
        [
            "MSZoning_C (all)",
            "MSZoning_FV",
            "MSZoning_RH",
            "MSZoning_RL",
            "MSZoning_RM",
            "MSZoning_nan"
        ]
    );
    assert_eq!(
        names[327..],
        [
            "SaleCondition_Normal",
            "SaleCondition_Partial",
            "SaleCondition_nan"
        ]
    );
    let x = features.to_tensor().unwrap();
    // pandas' values for the first row's first five features.
    let row0 = Vec::<f32>::try_from(x.get(0).narrow(0, 0, 5)).unwrap();
    for (a, b) in row0.iter().zip([
        0.06731988f32,
        -0.18444262,
        -0.21784137,
        0.6460727,
        -0.5071973,
    ]) {
        assert!((a - b).abs() < 1e-5, "{row0:?}");
    }
    assert_eq!(x.size(), [2919, 330]);
    assert_eq!(x.isnan().any().int64_value(&[]), 0);
    let lot = features.column_tensor("LotArea").unwrap();
    assert!(lot.mean(Kind::Double).double_value(&[]).abs() < 1e-6);
    assert!((lot.std(true).double_value(&[]) - 1.0).abs() < 1e-4);
    // One row per example of each one-hot group: exactly one indicator is set.
    let zoning: Vec<&str> = features
        .column_names()
        .into_iter()
        .filter(|n| n.starts_with("MSZoning_"))
        .collect();
    let z = features.select(&zoning).unwrap().to_tensor().unwrap();
    assert!(
        z.sum_dim_intlist(1, false, Kind::Float)
            .eq(1.0)
            .all()
            .int64_value(&[])
            == 1
    );

    let y = train.column_tensor("SalePrice").unwrap();
    assert_eq!(y.size(), [1460]);
    assert!(
        Table::read_csv(shared_data().join("kaggle_house_pred_train.csv"))
            .unwrap()
            .to_tensor()
            .is_err(),
        "text columns must be encoded first"
    );
}

#[test]
fn tab_separated_files_without_headers_read_too() {
    let opts = CsvOptions {
        delimiter: b'\t',
        has_headers: false,
    };
    let airfoil =
        Table::read_csv_with(shared_data().join("airfoil_self_noise.dat"), &opts).unwrap();
    assert_eq!(airfoil.shape(), (1503, 6));
    assert_eq!(airfoil.column_names(), ["0", "1", "2", "3", "4", "5"]);
    let x = airfoil.to_tensor().unwrap();
    assert_eq!(x.size(), [1503, 6]);
    assert_eq!(x.double_value(&[0, 0]), 800.0);
    // Errors name the file.
    let err = Table::read_csv(shared_data().join("no-such.csv")).unwrap_err();
    assert!(err.to_string().contains("no-such.csv"));
}
