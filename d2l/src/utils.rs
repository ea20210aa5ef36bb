//! Small utilities of the book: [`Timer`] for benchmarks, [`Accumulator`] for running sums and
//! [`SplitMix64`] for repeatable random numbers.

mod rng;

pub use rng::SplitMix64;
use std::time::{Duration, Instant};

/// Records the durations of several runs (d2l's `Timer`).
///
/// ```
/// let mut timer = d2l::Timer::new(); // started
/// let _ = (0..1000).sum::<u64>();
/// timer.stop();
/// timer.start();
/// timer.stop();
/// assert_eq!(timer.times().len(), 2);
/// assert!(timer.sum() >= timer.avg());
/// assert_eq!(timer.cumsum().len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Timer {
    times: Vec<f64>,
    started: Option<Instant>,
}

impl Timer {
    /// A timer that has already started.
    pub fn new() -> Self {
        Timer {
            times: Vec::new(),
            started: Some(Instant::now()),
        }
    }

    /// Starts (or restarts) the current run.
    pub fn start(&mut self) {
        self.started = Some(Instant::now());
    }

    /// Ends the current run, records it and returns its duration in seconds (0 when not started).
    pub fn stop(&mut self) -> f64 {
        let elapsed = self
            .started
            .take()
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        self.times.push(elapsed);
        elapsed
    }

    /// The recorded durations, in seconds.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The average recorded duration in seconds (0 when nothing was recorded).
    pub fn avg(&self) -> f64 {
        if self.times.is_empty() {
            0.0
        } else {
            self.sum() / self.times.len() as f64
        }
    }

    /// The sum of the recorded durations in seconds.
    pub fn sum(&self) -> f64 {
        self.times.iter().sum()
    }

    /// The running totals of the recorded durations.
    pub fn cumsum(&self) -> Vec<f64> {
        self.times
            .iter()
            .scan(0.0, |acc, t| {
                *acc += t;
                Some(*acc)
            })
            .collect()
    }

    /// The time since the current run started, without stopping it.
    pub fn elapsed(&self) -> Duration {
        self.started.map(|t| t.elapsed()).unwrap_or_default()
    }
}

impl Default for Timer {
    fn default() -> Self {
        Self::new()
    }
}

/// Sums `n` values over many steps (d2l's `Accumulator`), e.g. the loss sum, the number of
/// correct predictions and the number of examples of an epoch.
///
/// ```
/// let mut metric = d2l::Accumulator::new(3);
/// metric.add(&[2.0, 1.0, 4.0]);
/// metric.add(&[1.0, 2.0, 4.0]);
/// assert_eq!(metric[0] / metric[2], 3.0 / 8.0);
/// metric.reset();
/// assert_eq!(metric.values(), &[0.0, 0.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Accumulator {
    data: Vec<f64>,
}

impl Accumulator {
    /// `n` sums, all zero.
    pub fn new(n: usize) -> Self {
        Accumulator { data: vec![0.0; n] }
    }

    /// Adds `values` element-wise.
    ///
    /// # Panics
    /// When `values` does not have one value per sum: that is a bug in the calling code.
    pub fn add(&mut self, values: &[f64]) {
        assert_eq!(
            values.len(),
            self.data.len(),
            "Accumulator::add: expected {} values",
            self.data.len()
        );
        for (a, b) in self.data.iter_mut().zip(values) {
            *a += b;
        }
    }

    /// Sets every sum back to zero.
    pub fn reset(&mut self) {
        self.data.iter_mut().for_each(|a| *a = 0.0);
    }

    /// The sums.
    pub fn values(&self) -> &[f64] {
        &self.data
    }

    /// The number of sums.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no sums.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl std::ops::Index<usize> for Accumulator {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.data[i]
    }
}
