//! [`TensorLoader`]: minibatches of in-memory tensors (d2l's `get_tensorloader`).

use std::sync::atomic::{AtomicU64, Ordering};

use tch::{Device, Kind, Tensor};

use super::DataError;

/// What a [`TensorLoader`] batches: one tensor, a tuple of tensors or a `Vec` of tensors, all
/// with the same first dimension (the examples).
pub trait TensorGroup: Sized {
    /// The tensors, in order.
    fn tensors(&self) -> Vec<&Tensor>;
    /// The same structure built from tensors in the same order.
    fn from_tensors(tensors: Vec<Tensor>) -> Self;
}

impl TensorGroup for Tensor {
    fn tensors(&self) -> Vec<&Tensor> {
        vec![self]
    }
    fn from_tensors(mut t: Vec<Tensor>) -> Self {
        t.remove(0)
    }
}

impl TensorGroup for Vec<Tensor> {
    fn tensors(&self) -> Vec<&Tensor> {
        self.iter().collect()
    }
    fn from_tensors(t: Vec<Tensor>) -> Self {
        t
    }
}

macro_rules! tuple_batch {
    ($($name:ident $idx:tt),+) => {
        impl TensorGroup for ($($name,)+) {
            fn tensors(&self) -> Vec<&Tensor> {
                vec![$(&self.$idx),+]
            }
            fn from_tensors(t: Vec<Tensor>) -> Self {
                let mut it = t.into_iter();
                ($({ let _ = stringify!($name); it.next().expect("one tensor per tuple field") },)+)
            }
        }
    };
}
tuple_batch!(Tensor 0, Tensor 1);
tuple_batch!(Tensor 0, Tensor 1, Tensor 2);
tuple_batch!(Tensor 0, Tensor 1, Tensor 2, Tensor 3);

/// Minibatches over tensors that are already in memory: batch size, optional (seeded) shuffling
/// each epoch, dropping the last incomplete batch, and device placement.
///
/// The data is moved to the loader's device once; each batch is then one `narrow` (no copy) or,
/// when shuffling, a gather with the epoch's permutation (see [`Gather`]) — never a copy per
/// example.
///
/// ```
/// use d2l::prelude::*;
/// use d2l::data::TensorLoader;
/// let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).reshape([10, 1]);
/// let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
/// let loader = TensorLoader::new((x, y), 4).unwrap().shuffle(true).seed(0);
/// assert_eq!(loader.len(), 3); // 4 + 4 + 2
/// let mut seen = Vec::new();
/// for (xb, yb) in &loader {
///     assert_eq!(xb.size()[0], yb.size()[0]);
///     seen.extend(Vec::<i64>::try_from(yb).unwrap());
/// }
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// ```
pub struct TensorLoader<B: TensorGroup = (Tensor, Tensor)> {
    tensors: Vec<Tensor>,
    examples: i64,
    batch_size: i64,
    shuffle: bool,
    drop_last: bool,
    seed: Option<u64>,
    gather: Option<Gather>,
    epoch: AtomicU64,
    _batch: std::marker::PhantomData<fn() -> B>,
}

impl<B: TensorGroup> TensorLoader<B> {
    /// A loader over `data` in batches of `batch_size`, in order, keeping the last partial batch.
    /// Fails when the tensors do not share their first dimension or `batch_size` is zero.
    pub fn new(data: B, batch_size: usize) -> Result<Self, DataError> {
        let tensors: Vec<Tensor> = data
            .tensors()
            .into_iter()
            .map(Tensor::shallow_clone)
            .collect();
        if tensors.is_empty() {
            return Err(DataError::Invalid(
                "TensorLoader needs at least one tensor".into(),
            ));
        }
        if batch_size == 0 {
            return Err(DataError::Invalid(
                "TensorLoader: batch_size must be at least 1".into(),
            ));
        }
        let mut examples = None;
        for (i, t) in tensors.iter().enumerate() {
            let n = t.size().first().copied().ok_or_else(|| {
                DataError::Invalid(format!(
                    "TensorLoader: tensor {i} is a scalar; it needs a first dimension of examples"
                ))
            })?;
            match examples {
                None => examples = Some(n),
                Some(m) if m != n => {
                    return Err(DataError::Invalid(format!(
                    "TensorLoader: tensor {i} has {n} examples but tensor 0 has {m} (sizes {:?})",
                    tensors.iter().map(|t| t.size()).collect::<Vec<_>>()
                )))
                }
                _ => {}
            }
        }
        Ok(TensorLoader {
            tensors,
            examples: examples.unwrap_or(0),
            batch_size: batch_size as i64,
            shuffle: false,
            drop_last: false,
            seed: None,
            gather: None,
            epoch: AtomicU64::new(0),
            _batch: std::marker::PhantomData,
        })
    }

    /// Whether to visit the examples in a new random order every epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seeds the shuffling: the sequence of epochs' orders is then the same on every run. Without
    /// a seed, each epoch's order is drawn from libtorch's global generator, so that
    /// `tch::manual_seed` makes it repeatable too.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether to leave out the last batch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// How shuffled batches are gathered. Unset, the loader picks by device: per epoch on a GPU,
    /// per batch on the CPU.
    pub fn gather(mut self, gather: Gather) -> Self {
        self.gather = Some(gather);
        self
    }

    /// The gathering in effect: the one set with [`gather`](Self::gather), or the device's.
    pub fn current_gather(&self) -> Gather {
        self.gather.unwrap_or(match self.current_device() {
            Device::Cpu => Gather::PerBatch,
            _ => Gather::PerEpoch,
        })
    }

    /// Moves the data to `device` (once, now) so that batches come out there.
    pub fn device(mut self, device: Device) -> Self {
        self.tensors = self.tensors.iter().map(|t| t.to_device(device)).collect();
        self
    }

    /// The device the batches are on.
    pub fn current_device(&self) -> Device {
        self.tensors[0].device()
    }

    /// The number of examples.
    pub fn num_examples(&self) -> usize {
        self.examples as usize
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size as usize
    }

    /// The number of batches per epoch.
    pub fn len(&self) -> usize {
        let full = self.examples / self.batch_size;
        let partial = i64::from(self.examples % self.batch_size != 0 && !self.drop_last);
        (full + partial) as usize
    }

    /// Whether an epoch has no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One epoch of batches. With shuffling, each call draws the next order.
    pub fn iter(&self) -> Batches<'_, B> {
        let source = self.epoch_source();
        Batches::new(LoaderRef::Borrowed(self), source)
    }

    /// Where the batches of the next epoch come from.
    fn epoch_source(&self) -> Source {
        if self.shuffle {
            let epoch = self.epoch.fetch_add(1, Ordering::Relaxed);
            let seed = match self.seed {
                Some(s) => s ^ epoch.wrapping_mul(0xA076_1D64_78BD_642F),
                None => seed_from_libtorch(),
            };
            let order = permutation(self.examples as usize, seed).to_device(self.current_device());
            match self.current_gather() {
                Gather::PerBatch => Source::PerBatch(order),
                Gather::PerEpoch => Source::Gathered(
                    self.tensors
                        .iter()
                        .map(|t| t.index_select(0, &order))
                        .collect(),
                ),
            }
        } else {
            Source::InOrder
        }
    }
}

/// One epoch of an owned loader, e.g. one built inside a `DataModule`'s `train_dataloader`.
impl<B: TensorGroup + 'static> IntoIterator for TensorLoader<B> {
    type Item = B;
    type IntoIter = Batches<'static, B>;
    fn into_iter(self) -> Batches<'static, B> {
        let source = self.epoch_source();
        Batches::new(LoaderRef::Owned(Box::new(self)), source)
    }
}

impl<'a, B: TensorGroup> IntoIterator for &'a TensorLoader<B> {
    type Item = B;
    type IntoIter = Batches<'a, B>;
    fn into_iter(self) -> Batches<'a, B> {
        self.iter()
    }
}

impl<B: TensorGroup> std::fmt::Debug for TensorLoader<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TensorLoader")
            .field("examples", &self.examples)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("drop_last", &self.drop_last)
            .field("seed", &self.seed)
            .field("gather", &self.current_gather())
            .field("device", &self.current_device())
            .finish()
    }
}

/// How a shuffling [`TensorLoader`] gathers the examples of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gather {
    /// One `index_select` per tensor and batch. No memory beyond the batch, and on a CPU the
    /// batch is still in cache when the model reads it.
    PerBatch,
    /// One `index_select` per tensor and epoch, into a shuffled copy of the data; each batch is
    /// then a view of it. It holds a second copy of the data for the epoch, and saves two kernel
    /// launches per batch, which is most of what a loader costs on a GPU.
    PerEpoch,
}

/// Where the batches of one epoch come from.
enum Source {
    /// Views of the data, in order.
    InOrder,
    /// Gathered from the data batch by batch, with this permutation.
    PerBatch(Tensor),
    /// Views of these shuffled copies of the data.
    Gathered(Vec<Tensor>),
}

/// The loader that [`Batches`] reads: borrowed by [`TensorLoader::iter`], owned by `into_iter`.
enum LoaderRef<'a, B: TensorGroup> {
    Borrowed(&'a TensorLoader<B>),
    Owned(Box<TensorLoader<B>>),
}

/// The batches of one epoch of a [`TensorLoader`].
pub struct Batches<'a, B: TensorGroup> {
    loader: LoaderRef<'a, B>,
    source: Source,
    next: i64,
    end: i64,
}

impl<'a, B: TensorGroup> Batches<'a, B> {
    fn new(loader: LoaderRef<'a, B>, source: Source) -> Self {
        let mut batches = Batches {
            loader,
            source,
            next: 0,
            end: 0,
        };
        let l = batches.loader();
        batches.end = l.len() as i64 * l.batch_size;
        batches
    }

    fn loader(&self) -> &TensorLoader<B> {
        match &self.loader {
            LoaderRef::Borrowed(l) => l,
            LoaderRef::Owned(l) => l,
        }
    }
}

impl<B: TensorGroup> Iterator for Batches<'_, B> {
    type Item = B;

    fn next(&mut self) -> Option<B> {
        let l = self.loader();
        if self.next >= self.end.min(l.examples) {
            return None;
        }
        let len = l.batch_size.min(l.examples - self.next);
        let (start, batch_size) = (self.next, l.batch_size);
        let tensors = match &self.source {
            Source::InOrder => l.tensors.iter().map(|t| t.narrow(0, start, len)).collect(),
            Source::PerBatch(order) => {
                let idx = order.narrow(0, start, len);
                l.tensors.iter().map(|t| t.index_select(0, &idx)).collect()
            }
            Source::Gathered(shuffled) => {
                shuffled.iter().map(|t| t.narrow(0, start, len)).collect()
            }
        };
        self.next += batch_size;
        Some(B::from_tensors(tensors))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let l = self.loader();
        let left = (self.end.min(l.examples) - self.next).max(0);
        let n = ((left + l.batch_size - 1) / l.batch_size) as usize;
        (n, Some(n))
    }
}

impl<B: TensorGroup> ExactSizeIterator for Batches<'_, B> {}

/// A permutation of `0..n` from a seed (Fisher–Yates with SplitMix64), as an `Int64` tensor.
fn permutation(n: usize, seed: u64) -> Tensor {
    let mut rng = crate::utils::SplitMix64::new(seed);
    let mut v: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        // Lemire's multiply-shift maps 64 random bits to 0..=i without a division.
        let j = ((rng.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
        v.swap(i, j);
    }
    Tensor::from_slice(&v).to_kind(Kind::Int64)
}

/// A seed drawn from libtorch's global generator (so that `tch::manual_seed` fixes it).
fn seed_from_libtorch() -> u64 {
    let draw = Tensor::randint(i64::MAX, [1], (Kind::Int64, Device::Cpu));
    draw.int64_value(&[0]) as u64
}
