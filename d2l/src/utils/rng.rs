//! [`SplitMix64`], the one small seedable generator of the book's data pipelines and stand-ins.

use tch::{Device, Kind, Tensor};

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator of 64-bit numbers whose whole
/// future is fixed by its seed, on every machine.
///
/// The book uses it where a result must not depend on the platform or on libtorch's generator:
/// generated stand-in data sets, data pipelines (BERT's masking, minibatch orders) and simulated
/// environments. [`SplitMix64::from_torch`] seeds it from libtorch's global generator, so that
/// `tch::manual_seed` makes a pipeline repeatable.
///
/// ```
/// let mut rng = d2l::SplitMix64::new(42);
/// let mut again = d2l::SplitMix64::new(42);
/// assert_eq!(rng.next_u64(), again.next_u64());
/// let x = rng.uniform();
/// assert!((0.0..1.0).contains(&x));
/// assert!(rng.below(6) < 6);
/// let mut cards = [1, 2, 3, 4, 5];
/// rng.shuffle(&mut cards);
/// cards.sort();
/// assert_eq!(cards, [1, 2, 3, 4, 5]);
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose numbers depend only on `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator seeded with a number drawn from `tch`'s global generator.
    pub fn from_torch() -> Self {
        let seed = Tensor::randint(i64::MAX, [1], (Kind::Int64, Device::Cpu)).int64_value(&[0]);
        SplitMix64::new(seed as u64)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number drawn uniformly from `[0, 1)` (53 random bits).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether an event of probability `p` happens.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// An index drawn uniformly from `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }

    /// An element of `items`, drawn uniformly. Panics if `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Puts `items` in a uniformly random order (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_splitmix64s_reference_stream() {
        // The first outputs for seed 1234567 of the reference C implementation (Vigna's
        // splitmix64.c), as listed in many ports' test suites.
        let mut rng = SplitMix64::new(1234567);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn below_and_pick_stay_in_range_and_cover_it() {
        let mut rng = SplitMix64::new(7);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[*rng.pick(&[0, 1, 2, 3, 4])] += 1;
        }
        assert!(seen.iter().all(|&n| n > 150), "{seen:?}");
        assert_eq!(rng.below(0), 0);
        let heads = (0..10_000).filter(|_| rng.chance(0.3)).count();
        assert!((2_800..3_200).contains(&heads), "{heads}");
    }
}
