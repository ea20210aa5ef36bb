//! Behaviour of the API that the computational-performance chapter saves into `d2l::book`
//! (notebooks/chapter_computational-performance): the `Benchmark` timer, splitting minibatches
//! over devices, all-reduce, data-parallel training over raw parameter lists and over
//! replicated `nn::VarStore`s, and the threaded ring / parameter-server simulations. Everything
//! runs on the CPU: several "devices" are several replicas on the CPU, which exercises the same
//! splitting and reduction as several GPUs.

use d2l::prelude::*;

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).unwrap()
}

fn max_gap(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn benchmark_run_returns_the_value_and_the_time_it_took() {
    let (value, seconds) = d2l::Benchmark::run("sleep", || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        42
    });
    assert_eq!(value, 42);
    assert!(seconds >= 0.019, "measured {seconds} s for a 20 ms sleep");
    assert!(seconds < 5.0, "measured {seconds} s for a 20 ms sleep");
    let guard = d2l::Benchmark::new("guard");
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(guard.elapsed() >= 0.004);
    d2l::synchronize(Device::Cpu); // a no-op on the CPU
}

#[test]
fn split_batch_cuts_evenly_and_keeps_the_order() {
    let x = Tensor::arange(30, (Kind::Float, Device::Cpu)).view([10, 3]);
    let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
    let parts = d2l::split_batch(&x, &y, &[Device::Cpu; 4]);
    assert_eq!(parts.len(), 4);
    let sizes: Vec<Vec<i64>> = parts.iter().map(|(xs, _)| xs.size()).collect();
    assert_eq!(sizes, [vec![3, 3], vec![3, 3], vec![2, 3], vec![2, 3]]);
    let labels: Vec<Vec<i64>> = parts
        .iter()
        .map(|(_, ys)| Vec::<i64>::try_from(ys).unwrap())
        .collect();
    assert_eq!(
        labels,
        [vec![0, 1, 2], vec![3, 4, 5], vec![6, 7], vec![8, 9]]
    );
    // Each row travels with its label: row k of x is 3k, 3k+1, 3k+2.
    for (xs, ys) in &parts {
        let expected = ys.to_kind(Kind::Float).unsqueeze(1) * 3.0
            + Tensor::from_slice(&[0.0f32, 1.0, 2.0]).unsqueeze(0);
        assert_eq!(max_gap(xs, &expected), 0.0);
    }
    let whole = Tensor::cat(
        &parts
            .iter()
            .map(|(xs, _)| xs.shallow_clone())
            .collect::<Vec<_>>(),
        0,
    );
    assert_eq!(max_gap(&whole, &x), 0.0);
}

#[test]
fn split_batch_over_one_device_is_the_whole_batch() {
    let x = Tensor::randn([5, 2], (Kind::Float, Device::Cpu));
    let y = Tensor::zeros([5], (Kind::Int64, Device::Cpu));
    let parts = d2l::split_batch(&x, &y, &[Device::Cpu]);
    assert_eq!(parts.len(), 1);
    assert_eq!(max_gap(&parts[0].0, &x), 0.0);
}

#[test]
#[should_panic(expected = "cannot be split")]
fn split_batch_refuses_fewer_examples_than_devices() {
    let x = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
    let y = Tensor::zeros([2], (Kind::Int64, Device::Cpu));
    let _ = d2l::split_batch(&x, &y, &[Device::Cpu; 3]);
}

#[test]
fn allreduce_writes_the_sum_into_every_tensor() {
    let mut data = vec![
        Tensor::from_slice(&[1.0f32, 2.0]),
        Tensor::from_slice(&[10.0f32, 20.0]),
        Tensor::from_slice(&[100.0f32, 200.0]),
    ];
    d2l::allreduce(&mut data);
    for t in &data {
        assert_eq!(values(t), [111.0, 222.0]);
    }
    let mut single = vec![Tensor::from_slice(&[3.0f32])];
    d2l::allreduce(&mut single);
    assert_eq!(values(&single[0]), [3.0]);
    d2l::allreduce(&mut []);
}

#[test]
fn allreduce_changes_gradients_in_place() {
    let a = Tensor::from_slice(&[1.0f32, 2.0]).set_requires_grad(true);
    let b = Tensor::from_slice(&[1.0f32, 2.0]).set_requires_grad(true);
    (&a * 2.0).sum(Kind::Float).backward(); // grad 2, 2
    (&b * &b).sum(Kind::Float).backward(); // grad 2, 4
    let mut grads = vec![a.grad(), b.grad()];
    d2l::allreduce(&mut grads);
    assert_eq!(values(&a.grad()), [4.0, 6.0]);
    assert_eq!(values(&b.grad()), [4.0, 6.0]);
}

#[test]
fn replicated_parameters_are_independent_leaves() {
    let params = vec![
        Tensor::from_slice(&[1.0f32, 2.0]),
        Tensor::from_slice(&[3.0f32]),
    ];
    let mut copies = d2l::replicate_params(&params, Device::Cpu);
    assert!(copies.iter().all(|p| p.requires_grad() && p.is_leaf()));
    tch::no_grad(|| {
        let _ = copies[0].g_add_scalar_(10.0);
    });
    assert_eq!(values(&params[0]), [1.0, 2.0]);
    assert_eq!(values(&copies[0]), [11.0, 12.0]);
    assert_eq!(values(&copies[1]), [3.0]);
}

/// A two-layer MLP on raw parameters: 6 features, 8 hidden units, 3 classes.
fn mlp(x: &Tensor, params: &[Tensor]) -> Tensor {
    x.linear(&params[0], Some(&params[1]))
        .relu()
        .linear(&params[2], Some(&params[3]))
}

fn toy_batches(steps: usize, batch: i64) -> Vec<(Tensor, Tensor)> {
    (0..steps)
        .map(|_| {
            let x = Tensor::randn([batch, 6], (Kind::Float, Device::Cpu));
            let y = Tensor::randint(3, [batch], (Kind::Int64, Device::Cpu));
            (x, y)
        })
        .collect()
}

#[test]
fn two_cpu_replicas_train_exactly_like_one_device() {
    tch::manual_seed(7);
    let init = vec![
        Tensor::randn([8, 6], (Kind::Float, Device::Cpu)) * 0.5,
        Tensor::randn([8], (Kind::Float, Device::Cpu)) * 0.1,
        Tensor::randn([3, 8], (Kind::Float, Device::Cpu)) * 0.5,
        Tensor::randn([3], (Kind::Float, Device::Cpu)) * 0.1,
    ];
    let batches = toy_batches(5, 16);
    let one = [Device::Cpu];
    let two = [Device::Cpu, Device::Cpu];
    let mut single = vec![d2l::replicate_params(&init, Device::Cpu)];
    let mut pair: Vec<Vec<Tensor>> = two
        .iter()
        .map(|&d| d2l::replicate_params(&init, d))
        .collect();
    for (x, y) in &batches {
        let loss_one = d2l::train_batch(x, y, &mut single, &one, 0.5, mlp);
        let loss_two = d2l::train_batch(x, y, &mut pair, &two, 0.5, mlp);
        assert!(
            (loss_one - loss_two).abs() < 1e-5,
            "losses {loss_one} vs {loss_two}"
        );
    }
    for i in 0..init.len() {
        assert!(
            max_gap(&pair[0][i], &single[0][i]) < 1e-5,
            "parameter {i} differs"
        );
        assert_eq!(
            max_gap(&pair[0][i], &pair[1][i]),
            0.0,
            "replicas of parameter {i} differ"
        );
        assert!(
            max_gap(&pair[0][i], &init[i]) > 1e-3,
            "parameter {i} did not move"
        );
    }
}

#[test]
fn data_parallel_training_lowers_the_loss() {
    tch::manual_seed(3);
    let init = vec![
        Tensor::randn([8, 6], (Kind::Float, Device::Cpu)) * 0.5,
        Tensor::zeros([8], (Kind::Float, Device::Cpu)),
        Tensor::randn([3, 8], (Kind::Float, Device::Cpu)) * 0.5,
        Tensor::zeros([3], (Kind::Float, Device::Cpu)),
    ];
    // A learnable rule: the class is the index of the largest of the first three features.
    let x = Tensor::randn([64, 6], (Kind::Float, Device::Cpu));
    let y = x.narrow(1, 0, 3).argmax(1, false);
    let devices = [Device::Cpu, Device::Cpu];
    let mut replicas: Vec<Vec<Tensor>> = devices
        .iter()
        .map(|&d| d2l::replicate_params(&init, d))
        .collect();
    let first = d2l::train_batch(&x, &y, &mut replicas, &devices, 0.5, mlp);
    let mut last = first;
    for _ in 0..100 {
        last = d2l::train_batch(&x, &y, &mut replicas, &devices, 0.5, mlp);
    }
    assert!(last < 0.5 * first, "loss went from {first} to {last}");
}

fn build_net(vs: &nn::VarStore) -> nn::Sequential {
    let root = vs.root();
    nn::seq()
        .add(nn::linear(&root / "hidden", 6, 8, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(&root / "output", 8, 3, Default::default()))
}

#[test]
fn replicated_var_stores_train_exactly_like_one_store() {
    tch::manual_seed(11);
    let single_vs = nn::VarStore::new(Device::Cpu);
    let single_net = build_net(&single_vs);
    let mut replica_vs = vec![
        nn::VarStore::new(Device::Cpu),
        nn::VarStore::new(Device::Cpu),
    ];
    let replica_nets: Vec<_> = replica_vs.iter().map(build_net).collect();
    d2l::broadcast_variables(&single_vs, &mut replica_vs);
    for (name, t) in single_vs.variables() {
        for vs in &replica_vs {
            assert_eq!(
                max_gap(&vs.variables()[&name], &t),
                0.0,
                "{name} not broadcast"
            );
        }
    }
    let mut single_opt = nn::Sgd::default().build(&single_vs, 0.3).unwrap();
    let mut replica_opts: Vec<_> = replica_vs
        .iter()
        .map(|vs| nn::Sgd::default().build(vs, 0.3).unwrap())
        .collect();
    let devices = [Device::Cpu, Device::Cpu];
    for (x, y) in toy_batches(5, 16) {
        single_opt.zero_grad();
        single_net
            .forward(&x)
            .cross_entropy_for_logits(&y)
            .backward();
        single_opt.step();

        replica_opts.iter_mut().for_each(|opt| opt.zero_grad());
        for ((xs, ys), net) in d2l::split_batch(&x, &y, &devices).iter().zip(&replica_nets) {
            net.forward(xs).cross_entropy_for_logits(ys).backward();
        }
        d2l::average_gradients(&replica_vs);
        replica_opts.iter_mut().for_each(|opt| opt.step());
    }
    let mut moved = false;
    for (name, _) in single_vs.variables() {
        let expected = &single_vs.variables()[&name];
        let first = &replica_vs[0].variables()[&name];
        let second = &replica_vs[1].variables()[&name];
        assert!(
            max_gap(first, expected) < 1e-5,
            "{name} differs from one store"
        );
        assert_eq!(max_gap(first, second), 0.0, "replicas of {name} differ");
        moved |= max_gap(first, &Tensor::zeros_like(first)) > 0.0;
    }
    assert!(moved);
}

#[test]
fn average_gradients_averages_known_values() {
    let stores = vec![
        nn::VarStore::new(Device::Cpu),
        nn::VarStore::new(Device::Cpu),
    ];
    let weights: Vec<Tensor> = stores.iter().map(|vs| vs.root().ones("w", &[2])).collect();
    (&weights[0] * Tensor::from_slice(&[1.0f32, 2.0]))
        .sum(Kind::Float)
        .backward(); // grad 1, 2
    (&weights[1] * Tensor::from_slice(&[3.0f32, 6.0]))
        .sum(Kind::Float)
        .backward(); // grad 3, 6
    d2l::average_gradients(&stores);
    assert_eq!(values(&weights[0].grad()), [2.0, 4.0]);
    assert_eq!(values(&weights[1].grad()), [2.0, 4.0]);
}

fn worker_vectors(workers: usize, len: usize) -> Vec<Vec<f32>> {
    (0..workers)
        .map(|w| (0..len).map(|k| (10 * w + k) as f32).collect())
        .collect()
}

fn expected_sum(workers: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|k| (0..workers).map(|w| (10 * w + k) as f32).sum())
        .collect()
}

#[test]
fn ring_allreduce_gives_every_worker_the_sum() {
    for (workers, len) in [(1, 4), (2, 6), (3, 7), (4, 2), (5, 23)] {
        let result = d2l::ring_allreduce(worker_vectors(workers, len), 1e12);
        assert_eq!(result.len(), workers);
        for r in &result {
            assert_eq!(
                r,
                &expected_sum(workers, len),
                "{workers} workers, length {len}"
            );
        }
    }
}

#[test]
fn parameter_server_gives_every_worker_the_sum() {
    for (workers, len) in [(1, 4), (2, 6), (3, 7), (5, 23)] {
        let result = d2l::parameter_server_allreduce(worker_vectors(workers, len), 1e12);
        assert_eq!(result.len(), workers);
        for r in &result {
            assert_eq!(
                r,
                &expected_sum(workers, len),
                "{workers} workers, length {len}"
            );
        }
    }
}

#[test]
fn simulated_links_take_the_time_of_their_traffic() {
    // 8 workers, 250,000 numbers (1 MB) each, links of 1 GB/s: the server's one link carries
    // 8 MB in and 8 MB out (16 ms); each ring link carries 2 * 7 chunks of 1/8 MB (1.75 ms).
    let bandwidth = 1e9;
    let start = std::time::Instant::now();
    let _ = d2l::parameter_server_allreduce(worker_vectors(8, 250_000), bandwidth);
    let server = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let _ = d2l::ring_allreduce(worker_vectors(8, 250_000), bandwidth);
    let ring = start.elapsed().as_secs_f64();
    assert!(server >= 0.016, "the server took {server} s");
    assert!(ring >= 0.00175, "the ring took {ring} s");
}
