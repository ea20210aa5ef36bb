//! Behaviour of the HPO library that the hyperparameter-optimization chapter saves into
//! `d2l::book` (notebooks/chapter_hyperparameter-optimization): search spaces and random search,
//! the sequential and asynchronous tuners and their bookkeeping, and the successive-halving
//! schedulers (synchronous and ASHA). The objectives here are cheap closed-form functions or
//! sleeps, so that the tests check the algorithms rather than training.

use std::collections::BTreeMap;
use std::time::Duration;

use d2l::{
    sh_rung_resources, sh_rung_sizes, AshaScheduler, AsyncTuner, BasicScheduler, HpConfig,
    HpDomain, HpValue, HpoHistory, HpoRng, RandomSearcher, SearchSpace, Searcher,
    SuccessiveHalvingScheduler, Tuner,
};

fn space() -> SearchSpace {
    SearchSpace::new()
        .add(
            "lr",
            HpDomain::LogUniform {
                low: 1e-4,
                high: 1.0,
            },
        )
        .add(
            "dropout",
            HpDomain::Uniform {
                low: 0.1,
                high: 0.5,
            },
        )
        .add("width", HpDomain::Integer { low: 8, high: 12 })
        .add(
            "act",
            HpDomain::Categorical(vec!["relu".into(), "tanh".into(), "gelu".into()]),
        )
}

fn lr(config: &HpConfig) -> f64 {
    config["lr"].as_f64().unwrap()
}

/// Every sampled value lies in its domain, every integer and option occurs, and a log-uniform
/// draw falls below the geometric midpoint sqrt(low * high) half of the time (a uniform draw on
/// [1e-4, 1] would do so only 1% of the time).
#[test]
fn random_searcher_samples_within_bounds_and_log_uniformly() {
    let mut searcher = RandomSearcher::new(space(), 7);
    let n = 4000;
    let configs: Vec<HpConfig> = (0..n)
        .map(|_| searcher.sample_configuration().unwrap())
        .collect();
    let mut widths = BTreeMap::new();
    let mut acts = BTreeMap::new();
    for c in &configs {
        assert_eq!(c.len(), 4);
        let lr = lr(c);
        assert!((1e-4..=1.0).contains(&lr), "lr {lr}");
        let p = c["dropout"].as_f64().unwrap();
        assert!((0.1..=0.5).contains(&p), "dropout {p}");
        assert!(matches!(c["width"], HpValue::Int(_)));
        *widths.entry(c["width"].as_i64().unwrap()).or_insert(0) += 1;
        *acts
            .entry(c["act"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(
        widths.keys().copied().collect::<Vec<_>>(),
        vec![8, 9, 10, 11, 12]
    );
    for count in widths.values() {
        // each of 5 values: expected 800, standard deviation about 25
        assert!((650..=950).contains(count), "{widths:?}");
    }
    assert_eq!(acts.len(), 3);
    let below = configs.iter().filter(|c| lr(c) < 1e-2).count() as f64 / n as f64;
    assert!(
        (0.45..=0.55).contains(&below),
        "fraction below the geometric midpoint: {below}"
    );
    // One decade in four: [1e-4, 1e-3) holds a quarter of the draws.
    let first_decade = configs.iter().filter(|c| lr(c) < 1e-3).count() as f64 / n as f64;
    assert!((0.2..=0.3).contains(&first_decade), "{first_decade}");
}

/// The same seed gives the same configurations; a different seed, different ones.
#[test]
fn searchers_are_reproducible() {
    let draw = |seed| {
        let mut s = RandomSearcher::new(space(), seed);
        (0..5)
            .map(|_| s.sample_configuration().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
    let mut rng = HpoRng::new(1);
    assert!((0..1000)
        .map(|_| rng.uniform())
        .all(|u| (0.0..1.0).contains(&u)));
}

/// A grid has every combination once: 3 x 3 x 3 (integers 8..=12 at 3 points: 8, 10, 12) x 3
/// options.
#[test]
fn grid_is_the_cartesian_product() {
    let grid = space().grid(3);
    assert_eq!(grid.len(), 81);
    let lrs: Vec<f64> = HpDomain::LogUniform {
        low: 1e-4,
        high: 1.0,
    }
    .grid(3)
    .iter()
    .map(|v| v.as_f64().unwrap())
    .collect();
    assert!(
        (lrs[0] - 1e-4).abs() < 1e-12
            && (lrs[1] - 1e-2).abs() < 1e-9
            && (lrs[2] - 1.0).abs() < 1e-9
    );
    let widths: Vec<i64> = HpDomain::Integer { low: 8, high: 12 }
        .grid(3)
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(widths, vec![8, 10, 12]);
}

/// Rungs r_k = r_min * eta^k up to r_max (plus r_max when it is not a power), and rung sizes
/// floor(n0 / eta^k), computed by hand.
#[test]
fn successive_halving_rungs_follow_the_formula() {
    assert_eq!(sh_rung_resources(1, 27, 3), vec![1, 3, 9, 27]);
    assert_eq!(sh_rung_sizes(27, 3, 4), vec![27, 9, 3, 1]);
    assert_eq!(sh_rung_resources(1, 16, 2), vec![1, 2, 4, 8, 16]);
    assert_eq!(sh_rung_sizes(16, 2, 5), vec![16, 8, 4, 2, 1]);
    // 2 * 3^2 = 18 <= 50 < 54: K = 2, and r_max = 50 is added as a last rung.
    assert_eq!(sh_rung_resources(2, 50, 3), vec![2, 6, 18, 50]);
    // 20, floor(20/3) = 6, floor(20/9) = 2, floor(20/27) = 0 -> at least 1.
    assert_eq!(sh_rung_sizes(20, 3, 4), vec![20, 6, 2, 1]);
    assert_eq!(sh_rung_resources(5, 5, 3), vec![5]);
}

/// Synchronous SH through the sequential tuner runs n_k jobs of r_k epochs in rung k, and
/// promotes exactly the best trials: with error = lr / epochs the ranking is by lr, so the top
/// rung holds the trial with the smallest learning rate.
#[test]
fn successive_halving_promotes_the_best_of_each_rung() {
    let scheduler = SuccessiveHalvingScheduler::new(RandomSearcher::new(space(), 11), 1, 9, 3, 9);
    assert_eq!(scheduler.rung_resources, vec![1, 3, 9]);
    assert_eq!(scheduler.rung_sizes, vec![9, 3, 1]);
    let history = Tuner::new(scheduler).run(|c, epochs| lr(c) / epochs as f64);
    let per_rung = |r: usize| -> Vec<(usize, f64)> {
        history
            .records
            .iter()
            .filter(|rec| rec.resource == r)
            .map(|rec| (rec.trial_id, lr(&rec.config)))
            .collect()
    };
    let (r0, r1, r2) = (per_rung(1), per_rung(3), per_rung(9));
    assert_eq!((r0.len(), r1.len(), r2.len()), (9, 3, 1));
    assert_eq!(history.records.len(), 13);
    let mut ranked = r0.clone();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut promoted: Vec<usize> = r1.iter().map(|p| p.0).collect();
    promoted.sort();
    let mut best3: Vec<usize> = ranked[..3].iter().map(|p| p.0).collect();
    best3.sort();
    assert_eq!(promoted, best3);
    assert_eq!(r2[0].0, ranked[0].0);
}

fn sleepy(config: &HpConfig, epochs: usize) -> f64 {
    std::thread::sleep(Duration::from_millis(40 * epochs as u64));
    lr(config)
}

fn trial_ids(history: &HpoHistory) -> Vec<usize> {
    let mut ids: Vec<usize> = history.records.iter().map(|r| r.trial_id).collect();
    ids.sort();
    ids
}

/// Ten trials that sleep 120 ms each: sequentially they take at least 1.2 s, on two workers
/// about half of that. Each trial is recorded exactly once, and each worker ran some.
#[test]
fn async_tuner_with_two_workers_is_faster_and_records_every_trial_once() {
    let make = || BasicScheduler::new(RandomSearcher::new(space(), 5), 3, 10);
    let sequential = Tuner::new(make()).run(sleepy);
    let parallel = AsyncTuner::new(make(), 2).run(|_worker| sleepy);
    assert_eq!(trial_ids(&sequential), (0..10).collect::<Vec<_>>());
    assert_eq!(trial_ids(&parallel), (0..10).collect::<Vec<_>>());
    assert!(
        sequential.wall_clock() >= 1.2,
        "{}",
        sequential.wall_clock()
    );
    assert!(
        parallel.wall_clock() < 0.8 * sequential.wall_clock(),
        "2 workers {:.3} s, sequential {:.3} s",
        parallel.wall_clock(),
        sequential.wall_clock()
    );
    assert!(parallel.cumulative_runtime() >= 1.2);
    for worker in 0..2 {
        assert!(parallel.records.iter().any(|r| r.worker == worker));
    }
    // The same configurations, so the same incumbent.
    assert_eq!(
        sequential.best().unwrap().config,
        parallel.best().unwrap().config
    );
    // Jobs on one worker never overlap.
    for worker in 0..2 {
        let mut jobs: Vec<(f64, f64)> = parallel
            .records
            .iter()
            .filter(|r| r.worker == worker)
            .map(|r| (r.start, r.end))
            .collect();
        jobs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(jobs.windows(2).all(|w| w[0].1 <= w[1].0 + 1e-9));
    }
}

/// The incumbent trajectory is ordered by time, never increases, and ends at the best error.
#[test]
fn incumbent_trajectory_is_non_increasing() {
    let history = AsyncTuner::new(
        BasicScheduler::new(RandomSearcher::new(space(), 9), 1, 12),
        3,
    )
    .run(|_| sleepy);
    let trajectory = history.incumbent_trajectory();
    assert_eq!(trajectory.len(), 12);
    assert!(trajectory
        .windows(2)
        .all(|w| w[1].0 >= w[0].0 && w[1].1 <= w[0].1));
    assert_eq!(trajectory.last().unwrap().1, history.best().unwrap().error);
    let first = history
        .records
        .iter()
        .min_by(|a, b| a.end.total_cmp(&b.end))
        .unwrap();
    assert_eq!(trajectory[0].1, first.error);
}

/// ASHA on two real worker threads starts every trial once at the bottom rung, runs each
/// (trial, rung) at most once, and promotes only trials that finished the rung below.
/// Synchronous SH on two workers makes the same number of bottom-rung evaluations. (How many
/// trials reach a rung depends on the order in which results arrive, so that is checked by the
/// deterministic test below, not here.)
#[test]
fn asha_promotes_within_the_rules() {
    let mut tuner = AsyncTuner::new(
        AshaScheduler::new(RandomSearcher::new(space(), 2), 1, 9, 3, 18),
        2,
    );
    let history = tuner.run(|_| sleepy);
    let at = |r: usize| {
        history
            .records
            .iter()
            .filter(|rec| rec.resource == r)
            .count()
    };
    assert_eq!(at(1), 18);
    assert!(at(3) >= 1, "{}", at(3));
    let mut pairs: Vec<(usize, usize)> = history
        .records
        .iter()
        .map(|r| (r.trial_id, r.resource))
        .collect();
    let n = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n, "a job ran twice");
    for rec in history.records.iter().filter(|r| r.resource > 1) {
        let below = rec.resource / 3;
        assert!(history.records.iter().any(|r| r.trial_id == rec.trial_id
            && r.resource == below
            && r.end <= rec.start + 1e-9));
    }
    assert_eq!(tuner.scheduler.rung_results[0].len(), 18);
    let sh = AsyncTuner::new(
        SuccessiveHalvingScheduler::new(RandomSearcher::new(space(), 2), 1, 9, 3, 18),
        2,
    )
    .run(|_| sleepy);
    assert_eq!(sh.records.iter().filter(|r| r.resource == 1).count(), 18);
    assert_eq!(sh.num_trials(), 18);
}

/// ASHA's rule, checked at every decision of a scheduler driven by hand as two workers would
/// drive it (results arrive in a fixed, interleaved order): a trial is promoted from a rung only
/// while it is among the best floor(n / eta) of the n results that rung has, and only once. The
/// number promoted may end above floor(n_final / eta), because a trial promoted early can later
/// drop out of the top.
#[test]
fn asha_promotes_only_from_the_top_of_a_rung() {
    let rungs = sh_rung_resources(1, 9, 3);
    let mut asha = AshaScheduler::new(RandomSearcher::new(space(), 5), 1, 9, 3, 18);
    // Rung results as the scheduler has seen them: (trial, error).
    let mut seen: Vec<Vec<(usize, f64)>> = vec![Vec::new(); rungs.len()];
    let mut running: std::collections::VecDeque<d2l::Job> = Default::default();
    let mut promotions = 0;
    let error = |job: &d2l::Job| {
        // A fixed error per trial that shrinks with training, plus order-dependent jitter.
        let base = ((job.trial_id * 7919) % 97) as f64 / 97.0;
        base / job.resource as f64 + 0.001 * (job.trial_id % 5) as f64
    };
    loop {
        match d2l::Scheduler::suggest(&mut asha) {
            d2l::Decision::Run(job) => {
                let k = rungs.iter().position(|&r| r == job.resource).unwrap();
                if k > 0 {
                    promotions += 1;
                    let below = &seen[k - 1];
                    let own = below
                        .iter()
                        .find(|(id, _)| *id == job.trial_id)
                        .expect("promoted without a result on the rung below")
                        .1;
                    let better = below.iter().filter(|(_, e)| *e < own).count();
                    assert!(
                        better < below.len() / 3,
                        "trial {} promoted to {} with {better} better of {}",
                        job.trial_id,
                        job.resource,
                        below.len()
                    );
                }
                running.push_back(job);
                if running.len() < 2 {
                    continue;
                }
            }
            d2l::Decision::Wait => assert!(!running.is_empty(), "waits with nothing running"),
            d2l::Decision::Stop => break,
        }
        // The older of the two running jobs finishes.
        let job = running.pop_front().unwrap();
        let k = rungs.iter().position(|&r| r == job.resource).unwrap();
        let e = error(&job);
        seen[k].push((job.trial_id, e));
        d2l::Scheduler::update(&mut asha, &job, e);
    }
    assert!(running.is_empty());
    assert_eq!(seen[0].len(), 18);
    assert!(promotions >= 18 / 3, "{promotions} promotions");
    let mut ids: Vec<(usize, usize)> = seen
        .iter()
        .enumerate()
        .flat_map(|(k, r)| r.iter().map(move |(id, _)| (*id, k)))
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a trial ran twice on one rung");
}
