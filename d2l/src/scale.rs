//! The one switch that scales heavy training down, for CI and quick previews.
//!
//! `D2L_SCALE` is a fraction in (0, 1]; unset, the book runs at full size (1.0). The book's
//! `Trainer` runs [`scaled_epochs`] of its `max_epochs`, and data modules that are expensive
//! to read may serve [`scaled_examples`] of their examples. Architectures never change, and no
//! notebook needs editing: `D2L_SCALE=0.2 d2l-book build eval` evaluates a smaller run of the
//! same book.

/// The environment variable that holds the scale.
pub const SCALE_ENV: &str = d2l_protocol::env::SCALE;

/// The scale in force: `D2L_SCALE` when it is a number in (0, 1], otherwise 1.0.
///
/// A value that is not such a number is ignored with a warning on stderr, so that a typo never
/// silently shrinks or stops a run. The first time a scale below 1 is used, a
/// [`Notice::ScaledRun`](crate::display::Notice) is published, so that a page built this way says so.
pub fn scale() -> f64 {
    let value = match std::env::var(SCALE_ENV) {
        Err(_) => 1.0,
        Ok(text) => parse_scale(&text).unwrap_or_else(|| {
            eprintln!("d2l: ignoring {SCALE_ENV}={text:?}: expected a number in (0, 1]");
            1.0
        }),
    };
    if value < 1.0 {
        static ANNOUNCED: std::sync::Once = std::sync::Once::new();
        ANNOUNCED.call_once(|| crate::display::notice(&crate::display::Notice::ScaledRun { scale: value }));
    }
    value
}

/// Parses a scale; `None` unless it is a finite number in (0, 1].
pub fn parse_scale(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value > 0.0 && value <= 1.0).then_some(value)
}

/// `epochs` scaled by [`scale`], rounded, and at least one.
///
/// ```
/// assert_eq!(d2l::scale::scale_count(10, 0.25), 3);
/// assert_eq!(d2l::scale::scale_count(3, 0.1), 1);
/// ```
pub fn scaled_epochs(epochs: usize) -> usize {
    scale_count(epochs, scale())
}

/// `examples` scaled by [`scale`], rounded, and at least one.
pub fn scaled_examples(examples: usize) -> usize {
    scale_count(examples, scale())
}

/// `count` times `factor`, rounded to the nearest integer and never below one (zero stays zero).
pub fn scale_count(count: usize, factor: f64) -> usize {
    if count == 0 {
        return 0;
    }
    ((count as f64 * factor).round() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fractions_in_the_unit_interval_are_scales() {
        assert_eq!(parse_scale("0.5"), Some(0.5));
        assert_eq!(parse_scale(" 1 "), Some(1.0));
        for bad in ["0", "-0.5", "1.5", "NaN", "inf", "half", ""] {
            assert_eq!(parse_scale(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn counts_round_and_keep_at_least_one() {
        assert_eq!(scale_count(10, 1.0), 10);
        assert_eq!(scale_count(10, 0.25), 3);
        assert_eq!(scale_count(60000, 0.1), 6000);
        assert_eq!(scale_count(2, 0.1), 1);
        assert_eq!(scale_count(0, 0.5), 0);
    }
}
