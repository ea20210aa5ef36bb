//! The one switch that scales heavy training down, for CI and quick previews.
//!
//! A scale is a fraction in (0, 1]. The book's `Trainer` has it as a field, `scale`, and runs
//! that fraction of its `max_epochs`; data modules that are expensive to read may serve
//! [`scaled_examples`] of their examples. Architectures never change.
//!
//! Where the default comes from is explicit: [`scale`] is 1.0, so a program that depends on `d2l`
//! trains exactly as it asked, unless the program calls [`use_env`]. Then [`scale`] reads
//! `D2L_SCALE`. The book's Jupyter kernel and its evaluator call `use_env` when they start, so
//! `D2L_SCALE=0.2 d2l-book build eval` evaluates a smaller run of the same book without editing a
//! notebook.
//!
//! ```
//! assert_eq!(d2l::scale::scale(), 1.0); // a program that did not opt in
//! assert_eq!(d2l::Trainer::new(10).scale, 1.0);
//! ```

/// The environment variable that holds the scale.
pub const SCALE_ENV: &str = d2l_protocol::env::SCALE;

/// The environment variable that [`use_env`] sets. The switch lives in the environment rather
/// than in a static: the kernel links `d2l` into every cell's library, each with its own
/// statics, but all cells of a session share one process environment.
pub const FOLLOW_ENV: &str = d2l_protocol::env::FOLLOW_SCALE;

/// Makes [`scale`] (and so the default `Trainer::scale` and the data modules' sizes) follow
/// `D2L_SCALE` from now on in this process, by setting `D2L_FOLLOW_SCALE=1`. The book's kernel
/// calls it at start-up. Call it before the program starts other threads.
pub fn use_env() {
    std::env::set_var(FOLLOW_ENV, "1");
}

/// Whether this process follows `D2L_SCALE` ([`use_env`] was called, or `D2L_FOLLOW_SCALE=1`
/// was set by whoever started it).
pub fn follows_env() -> bool {
    std::env::var_os(FOLLOW_ENV).is_some_and(|v| v == "1")
}

/// The scale in force: 1.0, or after [`use_env`], `D2L_SCALE` when it is a number in (0, 1].
///
/// A value that is not such a number is ignored with a warning on stderr, so that a typo never
/// silently shrinks or stops a run. The first time a scale below 1 is used, a
/// [`Notice::ScaledRun`](crate::display::Notice) is published, so that a page built this way says so.
pub fn scale() -> f64 {
    if !follows_env() {
        return 1.0;
    }
    let value = match std::env::var(SCALE_ENV) {
        Err(_) => 1.0,
        Ok(text) => parse_scale(&text).unwrap_or_else(|| {
            eprintln!("d2l: ignoring {SCALE_ENV}={text:?}: expected a number in (0, 1]");
            1.0
        }),
    };
    if value < 1.0 {
        static ANNOUNCED: std::sync::Once = std::sync::Once::new();
        ANNOUNCED.call_once(|| {
            crate::display::notice(&crate::display::Notice::ScaledRun { scale: value })
        });
    }
    value
}

/// Parses a scale; `None` unless it is a finite number in (0, 1].
pub fn parse_scale(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value > 0.0 && value <= 1.0).then_some(value)
}

/// `epochs` scaled by [`scale`], rounded, and at least one: for training loops of one's own
/// (the `Trainer` applies its `scale` field instead).
pub fn scaled_epochs(epochs: usize) -> usize {
    scale_count(epochs, scale())
}

/// `examples` scaled by [`scale`], rounded, and at least one.
pub fn scaled_examples(examples: usize) -> usize {
    scale_count(examples, scale())
}

/// `count` times `factor`, rounded to the nearest integer and never below one (zero stays zero).
///
/// ```
/// assert_eq!(d2l::scale::scale_count(10, 0.25), 3);
/// assert_eq!(d2l::scale::scale_count(3, 0.1), 1);
/// ```
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
    fn the_environment_counts_only_after_use_env() {
        // The only test in this binary that touches D2L_SCALE or the switch.
        std::env::set_var(SCALE_ENV, "0.25");
        assert_eq!(
            scale(),
            1.0,
            "a program that did not opt in trains at full size"
        );
        use_env();
        assert_eq!(scale(), 0.25);
        std::env::remove_var(SCALE_ENV);
        assert_eq!(scale(), 1.0);
        std::env::remove_var(FOLLOW_ENV);
        std::env::set_var(SCALE_ENV, "0.25");
        assert_eq!(
            scale(),
            1.0,
            "the switch is the variable: removing it opts out again"
        );
        std::env::remove_var(SCALE_ENV);
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
