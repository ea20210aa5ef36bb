//! Behaviour of the Gaussian-process items of chapter 18 (`chapter_gaussian-processes`): kernel
//! values computed by hand, the exact posterior against the closed form on one and two training
//! points, the log marginal likelihood's autograd gradient against finite differences, and
//! hyperparameter learning that recovers the length-scale of data drawn from a known GP.

use d2l::{
    fit_rbf_gp, gp_posterior, log_marginal_likelihood, matern_kernel, neural_network_kernel,
    periodic_kernel, rbf_kernel, sample_gaussian, squared_distances, RbfGp,
};
use tch::{Device, Kind, Tensor};

const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).reshape([-1])).unwrap()
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < tol, "{actual:?} vs {expected:?}");
    }
}

#[test]
fn kernels_match_values_computed_by_hand() {
    let x = Tensor::from_slice(&[0.0f64, 1.0, 2.0]);
    assert_close(
        &values(&squared_distances(&x, &x)),
        &[0., 1., 4., 1., 0., 1., 4., 1., 0.],
        1e-12,
    );
    // a^2 exp(-d^2 / (2 l^2)) with l = 2, a = 3.
    let k = rbf_kernel(&x, &x, 2.0, 3.0);
    assert_eq!(k.size(), [3, 3]);
    let (k0, k1, k2) = (9.0, 9.0 * (-1.0f64 / 8.0).exp(), 9.0 * (-0.5f64).exp());
    assert_close(&values(&k), &[k0, k1, k2, k1, k0, k1, k2, k1, k0], 1e-12);
    // Points as rows of a matrix: the distance is Euclidean.
    let p = Tensor::from_slice(&[0.0f64, 0.0, 3.0, 4.0]).view([2, 2]);
    assert_close(
        &values(&rbf_kernel(&p, &p, 5.0, 1.0)),
        &[1.0, (-0.5f64).exp(), (-0.5f64).exp(), 1.0],
        1e-12,
    );
    // Matérn 1/2 is exp(-r / l); Matérn 5/2 at r = l is (1 + sqrt5 + 5/3) exp(-sqrt5).
    let pair = Tensor::from_slice(&[0.0f64, 1.5]);
    assert_close(
        &values(&matern_kernel(&pair, &pair, 0.5, 1.5, 1.0))[1..2],
        &[(-1.0f64).exp()],
        1e-12,
    );
    let s5 = 5f64.sqrt();
    assert_close(
        &values(&matern_kernel(&pair, &pair, 2.5, 1.5, 2.0))[1..2],
        &[4.0 * (1.0 + s5 + 5.0 / 3.0) * (-s5).exp()],
        1e-12,
    );
    // The periodic kernel repeats after one period and equals a^2 there.
    let periodic = values(&periodic_kernel(
        &Tensor::from_slice(&[0.0f64]),
        &Tensor::from_slice(&[0.0f64, 0.25, 1.0]),
        1.0,
        1.0,
        2.0,
    ));
    assert_close(&periodic, &[4.0, 4.0 * (-2.0f64 * 0.5).exp(), 4.0], 1e-9);
    // The neural network kernel at x = x' = 0 with bias variance b: (2/pi) asin(2b / (1 + 2b)).
    let nn = values(&neural_network_kernel(
        &Tensor::from_slice(&[0.0f64]),
        &Tensor::from_slice(&[0.0f64]),
        1.0,
        1.0,
    ));
    assert_close(
        &nn,
        &[2.0 / std::f64::consts::PI * (2.0f64 / 3.0).asin()],
        1e-12,
    );
}

#[test]
fn prior_samples_have_the_kernels_covariance() {
    tch::manual_seed(0);
    let x = Tensor::from_slice(&[0.0f64, 0.5, 3.0]);
    let cov = rbf_kernel(&x, &x, 1.0, 1.0);
    let samples = sample_gaussian(&cov, 20_000);
    assert_eq!(samples.size(), [20_000, 3]);
    let empirical = samples.tr().matmul(&samples) / 20_000.0;
    assert_close(&values(&empirical), &values(&cov), 0.03);
}

#[test]
fn posterior_matches_the_closed_form_on_one_and_two_points() {
    let kernel = |a: &Tensor, b: &Tensor| rbf_kernel(a, b, 1.0, 1.0);
    let noise = 0.1;
    // One training point (0, 1), one test point 0.5: k* = exp(-1/8).
    let post = gp_posterior(
        &Tensor::from_slice(&[0.0f64]),
        &Tensor::from_slice(&[1.0f64]),
        &Tensor::from_slice(&[0.5f64]),
        kernel,
        noise,
    );
    let ks = (-0.125f64).exp();
    assert_close(&values(&post.mean), &[ks / 1.1], 1e-12);
    assert_close(&values(&post.cov), &[1.0 - ks * ks / 1.1], 1e-12);

    // Two training points (0, 1) and (1, -1); the 2x2 inverse by hand.
    let (x, y) = (
        Tensor::from_slice(&[0.0f64, 1.0]),
        Tensor::from_slice(&[1.0f64, -1.0]),
    );
    let x_test = Tensor::from_slice(&[0.5f64, 2.0]);
    let post = gp_posterior(&x, &y, &x_test, kernel, noise);
    let e = (-0.5f64).exp();
    let (a, b) = (1.0 + noise, e);
    let det = a * a - b * b;
    let inv = [[a / det, -b / det], [-b / det, a / det]];
    // alpha = K^{-1} y with the training targets y = (1, -1).
    let targets = [1.0, -1.0];
    let alpha = [
        inv[0][0] * targets[0] + inv[0][1] * targets[1],
        inv[1][0] * targets[0] + inv[1][1] * targets[1],
    ];
    let k = |u: f64, v: f64| (-(u - v) * (u - v) / 2.0).exp();
    let mut mean = Vec::new();
    let mut var = Vec::new();
    for &t in &[0.5, 2.0] {
        let ks = [k(t, 0.0), k(t, 1.0)];
        mean.push(ks[0] * alpha[0] + ks[1] * alpha[1]);
        let quad = ks[0] * (inv[0][0] * ks[0] + inv[0][1] * ks[1])
            + ks[1] * (inv[1][0] * ks[0] + inv[1][1] * ks[1]);
        var.push(1.0 - quad);
    }
    assert_close(&values(&post.mean), &mean, 1e-12);
    assert_close(&values(&post.cov.diagonal(0, 0, 1)), &var, 1e-12);
    // Midway between opposite observations the mean is zero; the band is symmetric around it.
    assert!(values(&post.mean)[0].abs() < 1e-12);
    let (lower, upper) = post.band(1.96);
    assert_close(
        &values(&((&upper - &lower) / 2.0)),
        &values(&(post.std() * 1.96)),
        1e-12,
    );
}

#[test]
fn log_marginal_likelihood_matches_the_closed_form_and_finite_differences() {
    // One point: log N(y; 0, a^2 + s^2).
    let lml = log_marginal_likelihood(
        &Tensor::from_slice(&[0.3f64]),
        &Tensor::from_slice(&[0.8f64]),
        |a, b| rbf_kernel(a, b, 1.0, 2.0),
        0.25,
    );
    let var: f64 = 4.25;
    let expected = -0.5 * 0.64 / var - 0.5 * var.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((lml.double_value(&[]) - expected).abs() < 1e-12);

    // The autograd gradient with respect to the log hyperparameters against central differences.
    tch::manual_seed(1);
    let x = Tensor::rand([12], F64) * 5.0;
    let y = x.sin() + Tensor::randn([12], F64) * 0.1;
    let objective = |logs: &[f64; 3]| {
        let leaves: Vec<Tensor> = logs
            .iter()
            .map(|&v| Tensor::from(v).set_requires_grad(true))
            .collect();
        let (ell, amp, noise) = (leaves[0].exp(), leaves[1].exp(), leaves[2].exp());
        let value = log_marginal_likelihood(
            &x,
            &y,
            |a, b| rbf_kernel(a, b, ell.shallow_clone(), amp.shallow_clone()),
            noise.square(),
        );
        (value, leaves)
    };
    let at = [0.3f64, 0.1, -1.5];
    let (value, leaves) = objective(&at);
    let grads: Vec<f64> = Tensor::run_backward(&[&value], leaves.as_slice(), false, false)
        .iter()
        .map(|g| g.double_value(&[]))
        .collect();
    let h = 1e-6;
    for i in 0..3 {
        let (mut up, mut down) = (at, at);
        up[i] += h;
        down[i] -= h;
        let numeric =
            (objective(&up).0.double_value(&[]) - objective(&down).0.double_value(&[])) / (2.0 * h);
        assert!(
            (grads[i] - numeric).abs() < 1e-5 * (1.0 + numeric.abs()),
            "parameter {i}: autograd {} vs numeric {numeric}",
            grads[i]
        );
    }
}

#[test]
fn hyperparameter_learning_recovers_the_length_scale() {
    tch::manual_seed(0);
    let n = 200;
    let x = Tensor::linspace(0.0, 20.0, n, F64);
    let truth = RbfGp {
        length_scale: 0.7,
        amplitude: 1.0,
        noise_std: 0.1,
    };
    let f = sample_gaussian(&truth.kernel(&x, &x), 1).reshape([-1]);
    let y = &f + Tensor::randn([n], F64) * truth.noise_std;
    let init = RbfGp {
        length_scale: 2.0,
        amplitude: 0.5,
        noise_std: 0.5,
    };
    let (fitted, history) = fit_rbf_gp(&x, &y, init, 0.05, 200);
    assert_eq!(history.len(), 200);
    assert!(history.last().unwrap() > history.first().unwrap());
    // The maximum-likelihood length-scale of 200 points is within 20 % of the truth.
    assert!(
        (fitted.length_scale / truth.length_scale - 1.0).abs() < 0.2,
        "{fitted:?}"
    );
    assert!(
        (fitted.noise_std / truth.noise_std - 1.0).abs() < 0.3,
        "{fitted:?}"
    );
    assert!(fitted.log_marginal_likelihood(&x, &y) > init.log_marginal_likelihood(&x, &y));
    // The fitted posterior's mean is close to the noise-free function at the training inputs.
    let post = fitted.posterior(&x, &y, &x);
    let rmse = (&post.mean - &f)
        .square()
        .mean(Kind::Double)
        .sqrt()
        .double_value(&[]);
    assert!(rmse < 0.1, "rmse {rmse}");
}
