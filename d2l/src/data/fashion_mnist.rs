//! Fashion-MNIST (Xiao et al., 2017): 70 000 grayscale 28×28 images of ten kinds of clothing.
//!
//! [`FashionMnistTensors::fetch`] downloads the four real archives through the data hub. Where they
//! cannot be had (offline tests, CI), [`write_synthetic`] writes a **synthetic stand-in** in the
//! same IDX files, names, shapes and counts: each class is a drawn silhouette (trousers have two
//! legs, bags a handle, ...) with random shifts, sizes, brightness and texture, so a softmax
//! regression learns it but does not get everything right. A synthetic set is always labelled:
//! a `SYNTHETIC.md` file sits beside its archives, [`is_synthetic`] reports it, loading it prints
//! a notice, and [`FashionMnistTensors`]'s `synthetic` flag and its display say so. Set
//! `D2L_FASHION_MNIST=synthetic` to make [`FashionMnistTensors::fetch`] use (and if needed write) the
//! stand-in instead of downloading.
//!
//! ```
//! use d2l::data::fashion_mnist::{write_synthetic, FashionMnistTensors, SyntheticOptions};
//! let dir = tempfile::tempdir().unwrap();
//! write_synthetic(dir.path(), &SyntheticOptions { train: 100, test: 20, seed: 1 }).unwrap();
//! let data = FashionMnistTensors::load(dir.path()).unwrap();
//! assert!(data.synthetic);
//! assert_eq!(data.train_images.size(), [100, 1, 28, 28]);
//! assert_eq!(data.text_labels(&data.test_labels.narrow(0, 0, 3)).len(), 3);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::idx::{read_idx, write_idx, IdxArray, IdxData};
use super::{DataError, DataHub};
use crate::display::{Bundle, Show};
use crate::utils::SplitMix64;

/// The ten classes, in label order.
pub const LABELS: [&str; 10] = [
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

/// The four archives: training images and labels, test images and labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// The data-hub names of the four archives, in the order of [`FILES`].
pub const HUB_NAMES: [&str; 4] = [
    "fashion-mnist-train-images",
    "fashion-mnist-train-labels",
    "fashion-mnist-test-images",
    "fashion-mnist-test-labels",
];

/// The file that marks a directory as holding a synthetic stand-in.
pub const SYNTHETIC_MARKER: &str = super::STAND_IN_MARKER;

/// `D2L_FASHION_MNIST=synthetic` makes [`FashionMnistTensors::fetch`] use the synthetic stand-in.
pub const FASHION_MNIST_ENV: &str = d2l_protocol::env::FASHION_MNIST;

/// Image side in pixels.
pub const SIDE: usize = 28;

/// Fashion-MNIST in memory.
pub struct FashionMnistTensors {
    /// Training images, `[n, 1, 28, 28]`, `Float` in `[0, 1]`.
    pub train_images: Tensor,
    /// Training labels, `[n]`, `Int64` in `0..10`.
    pub train_labels: Tensor,
    /// Test images, `[m, 1, 28, 28]`.
    pub test_images: Tensor,
    /// Test labels, `[m]`.
    pub test_labels: Tensor,
    /// Whether this is the synthetic stand-in rather than the real data set.
    pub synthetic: bool,
    /// The directory the archives were read from.
    pub dir: PathBuf,
}

impl FashionMnistTensors {
    /// Reads the four archives from `dir` (see [`FILES`]).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        let read = |i: usize| read_idx(dir.join(FILES[i]));
        let (train_x, train_y, test_x, test_y) = (read(0)?, read(1)?, read(2)?, read(3)?);
        let images = |a: &IdxArray, f: &str| -> Result<Tensor, DataError> {
            match a.dims() {
                [_, h, w] if *h == SIDE && *w == SIDE => {
                    Ok(a.to_tensor().unsqueeze(1).to_kind(Kind::Float) / 255.0)
                }
                d => Err(DataError::Idx {
                    path: dir.join(f),
                    message: format!("expected [n, 28, 28] images, found {d:?}"),
                }),
            }
        };
        let labels = |a: &IdxArray, f: &str, n: i64| -> Result<Tensor, DataError> {
            match a.dims() {
                [m] if *m as i64 == n => Ok(a.to_tensor().to_kind(Kind::Int64)),
                d => Err(DataError::Idx {
                    path: dir.join(f),
                    message: format!("expected [{n}] labels, found {d:?}"),
                }),
            }
        };
        let train_images = images(&train_x, FILES[0])?;
        let test_images = images(&test_x, FILES[2])?;
        let train_labels = labels(&train_y, FILES[1], train_images.size()[0])?;
        let test_labels = labels(&test_y, FILES[3], test_images.size()[0])?;
        let synthetic = is_synthetic(dir);
        if synthetic {
            crate::display::notice(&crate::display::Notice::SyntheticData {
                dataset: "Fashion-MNIST".into(),
                switch: format!("{FASHION_MNIST_ENV}=synthetic"),
            });
        }
        Ok(FashionMnistTensors {
            train_images,
            train_labels,
            test_images,
            test_labels,
            synthetic,
            dir: dir.to_path_buf(),
        })
    }

    /// Fashion-MNIST from the book's data hub (see [`FashionMnistTensors::fetch_from`]).
    pub fn fetch() -> Result<Self, DataError> {
        Self::fetch_from(&DataHub::new())
    }

    /// Downloads (or finds in the cache) the four archives and reads them. With
    /// `D2L_FASHION_MNIST=synthetic` it uses the synthetic stand-in in
    /// `<cache>/fashion-mnist-synthetic` instead, writing it first if needed.
    pub fn fetch_from(hub: &DataHub) -> Result<Self, DataError> {
        if std::env::var(FASHION_MNIST_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("synthetic")) {
            let dir = hub.cache_dir().join("fashion-mnist-synthetic");
            let _lock = super::hub::lock_cache(hub.cache_dir())?;
            if !(is_synthetic(&dir) && FILES.iter().all(|f| dir.join(f).is_file())) {
                write_synthetic(&dir, &SyntheticOptions::default())?;
            }
            return Self::load(&dir);
        }
        let mut dir = None;
        for name in HUB_NAMES {
            let path = hub
                .download(name)
                .map_err(|e| e.suggesting_stand_in(FASHION_MNIST_ENV))?;
            dir = path.parent().map(Path::to_path_buf);
        }
        Self::load(dir.unwrap_or_else(|| hub.cache_dir().join("fashion-mnist")))
    }

    /// The class names of a tensor of labels.
    pub fn text_labels(&self, labels: &Tensor) -> Vec<&'static str> {
        text_labels(labels)
    }
}

/// The class names of a tensor of labels (out-of-range labels give `"?"`).
pub fn text_labels(labels: &Tensor) -> Vec<&'static str> {
    let v = Vec::<i64>::try_from(
        labels
            .to_device(tch::Device::Cpu)
            .to_kind(Kind::Int64)
            .flatten(0, -1),
    )
    .unwrap_or_default();
    v.into_iter()
        .map(|i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| LABELS.get(i).copied())
                .unwrap_or("?")
        })
        .collect()
}

impl fmt::Display for FashionMnistTensors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Fashion-MNIST{}: {} training and {} test images of 28x28 from {}",
            if self.synthetic {
                " (SYNTHETIC stand-in, not the real data set)"
            } else {
                ""
            },
            self.train_images.size()[0],
            self.test_images.size()[0],
            self.dir.display()
        )
    }
}

impl fmt::Debug for FashionMnistTensors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Show for FashionMnistTensors {
    fn bundle(&self) -> Bundle {
        Bundle::new().with("text/plain", self.to_string())
    }
}

/// Whether `dir` holds a synthetic stand-in (its marker file is there).
pub fn is_synthetic(dir: impl AsRef<Path>) -> bool {
    dir.as_ref().join(SYNTHETIC_MARKER).is_file()
}

/// How much synthetic data to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticOptions {
    /// Training images (the real set has 60 000).
    pub train: usize,
    /// Test images (the real set has 10 000).
    pub test: usize,
    /// Seed of the generator; the same seed writes the same files.
    pub seed: u64,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        SyntheticOptions {
            train: 60_000,
            test: 10_000,
            seed: 0,
        }
    }
}

/// Writes a synthetic stand-in for Fashion-MNIST into `dir`: the four archives of [`FILES`] and
/// the [`SYNTHETIC_MARKER`]. The files are written in a temporary directory that replaces `dir`
/// at the end, so an interrupted run leaves no half-written set.
pub fn write_synthetic(dir: impl AsRef<Path>, options: &SyntheticOptions) -> Result<(), DataError> {
    let dir = dir.as_ref();
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".fashion-mnist-synthetic.")
        .tempdir_in(parent)
        .map_err(|e| DataError::io(parent, e))?;
    let templates = Templates::new();
    let mut rng = Draws(SplitMix64::new(options.seed ^ 0x5eed_fa57_10a7));
    for (count, images_file, labels_file) in [
        (options.train, FILES[0], FILES[1]),
        (options.test, FILES[2], FILES[3]),
    ] {
        let (images, labels) = templates.generate(count, &mut rng);
        write_idx(
            tmp.path().join(images_file),
            &IdxArray::new(vec![count, SIDE, SIDE], IdxData::U8(images))?,
        )?;
        write_idx(
            tmp.path().join(labels_file),
            &IdxArray::new(vec![count], IdxData::U8(labels))?,
        )?;
    }
    let marker = tmp.path().join(SYNTHETIC_MARKER);
    let note = format!(
        "# SYNTHETIC stand-in for Fashion-MNIST\n\n\
         These files are NOT the Fashion-MNIST data set. They were generated by `d2l` \
         (`d2l::data::fashion_mnist::write_synthetic`, seed {}) for tests and offline builds: \
         same file names, IDX format, shapes and counts ({} training, {} test images of 28x28), \
         with one drawn silhouette per class plus random shifts, sizes, brightness and texture.\n\
         Accuracies measured on them say nothing about Fashion-MNIST.\n",
        options.seed, options.train, options.test
    );
    std::fs::write(&marker, note).map_err(|e| DataError::io(&marker, e))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let tmp_path = tmp.keep();
    std::fs::rename(&tmp_path, dir).map_err(|e| DataError::io(dir, e))?;
    Ok(())
}

/// The draws of the stand-in's generator, on the book's [`SplitMix64`]: the mappings to `f32`
/// and to small ranges that the first version of the stand-in used, so its files stay the same.
struct Draws(SplitMix64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Shapes in a 28×28 frame, as filled rectangles and quads (x0, y0, x1, y1 / corner lists).
enum Shape {
    Rect(f32, f32, f32, f32),
    /// A quadrilateral given by its top edge (x0, x1 at y0) and bottom edge (x2, x3 at y1).
    Trapezoid {
        y0: f32,
        y1: f32,
        top: (f32, f32),
        bottom: (f32, f32),
    },
}

impl Shape {
    fn contains(&self, x: f32, y: f32) -> bool {
        match *self {
            Shape::Rect(x0, y0, x1, y1) => x >= x0 && x <= x1 && y >= y0 && y <= y1,
            Shape::Trapezoid {
                y0,
                y1,
                top,
                bottom,
            } => {
                if y < y0 || y > y1 {
                    return false;
                }
                let t = (y - y0) / (y1 - y0);
                let l = top.0 + (bottom.0 - top.0) * t;
                let r = top.1 + (bottom.1 - top.1) * t;
                x >= l && x <= r
            }
        }
    }
}

/// Each class: shapes that add ink, and shapes that cut it away (openings, gaps).
fn class_shapes(class: usize) -> (Vec<Shape>, Vec<Shape>) {
    use Shape::*;
    match class {
        // t-shirt: torso and short sleeves
        0 => (
            vec![
                Rect(9.0, 6.0, 19.0, 25.0),
                Trapezoid {
                    y0: 6.0,
                    y1: 12.0,
                    top: (4.0, 24.0),
                    bottom: (5.0, 23.0),
                },
            ],
            vec![Rect(12.5, 5.0, 15.5, 7.5)],
        ),
        // trouser: waist and two legs
        1 => (
            vec![
                Rect(9.0, 3.0, 19.0, 7.0),
                Trapezoid {
                    y0: 7.0,
                    y1: 26.0,
                    top: (9.0, 13.5),
                    bottom: (8.0, 12.5),
                },
                Trapezoid {
                    y0: 7.0,
                    y1: 26.0,
                    top: (14.5, 19.0),
                    bottom: (15.5, 20.0),
                },
            ],
            vec![],
        ),
        // pullover: torso and long sleeves, round neck
        2 => (
            vec![
                Rect(8.5, 5.0, 19.5, 24.0),
                Trapezoid {
                    y0: 5.0,
                    y1: 23.0,
                    top: (5.0, 8.5),
                    bottom: (3.0, 6.5),
                },
                Trapezoid {
                    y0: 5.0,
                    y1: 23.0,
                    top: (19.5, 23.0),
                    bottom: (21.5, 25.0),
                },
            ],
            vec![Rect(12.0, 4.0, 16.0, 6.5)],
        ),
        // dress: narrow top widening to the hem
        3 => (
            vec![
                Trapezoid {
                    y0: 3.0,
                    y1: 26.0,
                    top: (10.5, 17.5),
                    bottom: (5.5, 22.5),
                },
                Rect(9.5, 3.0, 18.5, 9.0),
            ],
            vec![],
        ),
        // coat: wide torso, long sleeves, open front
        4 => (
            vec![
                Rect(7.5, 4.0, 20.5, 26.0),
                Trapezoid {
                    y0: 4.0,
                    y1: 25.0,
                    top: (4.0, 7.5),
                    bottom: (2.0, 5.5),
                },
                Trapezoid {
                    y0: 4.0,
                    y1: 25.0,
                    top: (20.5, 24.0),
                    bottom: (22.5, 26.0),
                },
            ],
            vec![Rect(13.5, 4.0, 14.5, 26.0)],
        ),
        // sandal: straps over a sole
        5 => (
            vec![
                Rect(2.0, 20.0, 26.0, 22.5),
                Rect(4.0, 15.0, 24.0, 16.0),
                Rect(8.0, 17.5, 22.0, 18.5),
                Rect(5.0, 15.0, 6.5, 20.0),
                Rect(20.0, 12.0, 22.0, 20.0),
            ],
            vec![],
        ),
        // shirt: torso, mid sleeves, collar and buttons
        6 => (
            vec![
                Rect(8.5, 5.0, 19.5, 25.0),
                Trapezoid {
                    y0: 5.0,
                    y1: 18.0,
                    top: (4.5, 8.5),
                    bottom: (3.5, 7.0),
                },
                Trapezoid {
                    y0: 5.0,
                    y1: 18.0,
                    top: (19.5, 23.5),
                    bottom: (21.0, 24.5),
                },
            ],
            vec![Trapezoid {
                y0: 4.0,
                y1: 10.0,
                top: (11.5, 16.5),
                bottom: (13.5, 14.5),
            }],
        ),
        // sneaker: low shoe
        7 => (
            vec![
                Rect(2.0, 19.0, 26.0, 23.0),
                Trapezoid {
                    y0: 13.0,
                    y1: 19.0,
                    top: (12.0, 24.0),
                    bottom: (4.0, 26.0),
                },
            ],
            vec![Rect(18.0, 12.0, 24.5, 15.0)],
        ),
        // bag: body and handle
        8 => (
            vec![
                Rect(4.0, 11.0, 24.0, 25.0),
                Rect(8.0, 5.0, 20.0, 7.0),
                Rect(8.0, 5.0, 10.0, 11.0),
                Rect(18.0, 5.0, 20.0, 11.0),
            ],
            vec![],
        ),
        // ankle boot: shaft and foot
        _ => (
            vec![
                Rect(11.0, 4.0, 20.0, 22.0),
                Trapezoid {
                    y0: 16.0,
                    y1: 24.0,
                    top: (11.0, 20.0),
                    bottom: (3.0, 21.0),
                },
            ],
            vec![],
        ),
    }
}

/// Pre-rendered silhouettes: per class, per size.
struct Templates {
    /// `[class][scale]` → 28×28 coverage in `[0, 1]`.
    masks: Vec<Vec<Vec<f32>>>,
}

const SCALES: [f32; 4] = [0.8, 0.9, 1.0, 1.1];

/// Classes that look alike: tops, shoes, and the rest on their own.
const FAMILIES: [&[usize]; 5] = [&[0, 2, 4, 6], &[5, 7, 9], &[1], &[3], &[8]];

impl Templates {
    fn new() -> Self {
        let masks = (0..10)
            .map(|class| {
                let (ink, cut) = class_shapes(class);
                SCALES
                    .iter()
                    .map(|&s| {
                        let mut m = vec![0f32; SIDE * SIDE];
                        // 2×2 supersampling for soft edges; scaling about the centre.
                        for (i, px) in m.iter_mut().enumerate() {
                            let (r, c) = ((i / SIDE) as f32, (i % SIDE) as f32);
                            let mut cover = 0.0;
                            for (dy, dx) in [(0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)]
                            {
                                let x = 14.0 + (c + dx - 14.0) / s;
                                let y = 14.0 + (r + dy - 14.0) / s;
                                if ink.iter().any(|sh| sh.contains(x, y))
                                    && !cut.iter().any(|sh| sh.contains(x, y))
                                {
                                    cover += 0.25;
                                }
                            }
                            *px = cover;
                        }
                        m
                    })
                    .collect()
            })
            .collect();
        Templates { masks }
    }

    /// `count` images (row-major bytes) and balanced, shuffled labels.
    fn generate(&self, count: usize, rng: &mut Draws) -> (Vec<u8>, Vec<u8>) {
        let mut labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        for i in (1..labels.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            labels.swap(i, j);
        }
        let mut images = vec![0u8; count * SIDE * SIDE];
        for (k, &label) in labels.iter().enumerate() {
            let class = label as usize;
            let mask = &self.masks[class][rng.below(SCALES.len() as u64) as usize];
            // Tops look alike, and so do shoes: a share of images carry some of a sibling's
            // outline, which keeps a linear model well short of perfect, as on the real set.
            let sibling = FAMILIES
                .iter()
                .find(|f| f.len() > 1 && f.contains(&class))
                .and_then(|f| {
                    (rng.unit() < 0.35).then(|| {
                        let others: Vec<usize> =
                            f.iter().copied().filter(|&c| c != class).collect();
                        &self.masks[others[rng.below(others.len() as u64) as usize]]
                            [rng.below(SCALES.len() as u64) as usize]
                    })
                });
            let mix = 0.25 + 0.2 * rng.unit();
            let dx = rng.below(7) as isize - 3;
            let dy = rng.below(7) as isize - 3;
            let brightness = 0.35 + 0.65 * rng.unit();
            // A per-image stripe texture (fabric), in direction and strength.
            let stripe_strength = 0.4 * rng.unit();
            let period = 2 + rng.below(4) as usize;
            let vertical = rng.below(2) == 0;
            let img = &mut images[k * SIDE * SIDE..(k + 1) * SIDE * SIDE];
            // 16 random bits per pixel, four pixels per draw of the generator.
            let mut bits = 0u64;
            for (p, px) in img.iter_mut().enumerate() {
                let (r, c) = (p / SIDE, p % SIDE);
                if p % 4 == 0 {
                    bits = rng.next();
                }
                let noise = ((bits >> ((p % 4) * 16)) & 0xffff) as f32 / 65536.0;
                let (sr, sc) = (r as isize - dy, c as isize - dx);
                let coverage = if sr >= 0 && sc >= 0 && (sr as usize) < SIDE && (sc as usize) < SIDE
                {
                    let at = sr as usize * SIDE + sc as usize;
                    match sibling {
                        Some(other) => (1.0 - mix) * mask[at] + mix * other[at],
                        None => mask[at],
                    }
                } else {
                    0.0
                };
                let stripe = if (if vertical { c } else { r }) % period == 0 {
                    1.0 - stripe_strength
                } else {
                    1.0
                };
                let v = coverage * brightness * stripe * (0.7 + 0.6 * noise) + 0.2 * noise * noise;
                *px = (v.clamp(0.0, 1.0) * 255.0) as u8;
            }
        }
        (images, labels)
    }
}
