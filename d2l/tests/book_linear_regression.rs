//! Behaviour of the API that the linear-regression chapter saves into `d2l::book`
//! (notebooks/chapter_linear-regression): the trainer loop, the optimizers, the data module and
//! the models. Tests share libtorch's global random generator and run in parallel, so each
//! tolerance below is chosen to hold for any seed, not just the one a test sets.

use std::cell::Cell;
use std::rc::Rc;

use d2l::prelude::*;
use d2l::{
    clip_gradients, get_tensorloader, get_w_b, linear_regression, weight_decay, Batch, DataModule,
    LinearRegressionScratch, Module, Optimizer, SyntheticRegressionConfig, SyntheticRegressionData,
    Trainer, WeightDecayScratch, SGD,
};

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

fn true_data() -> SyntheticRegressionData {
    SyntheticRegressionData::new(&Tensor::from_slice(&[2.0f32, -3.4]), 4.2)
}

/// Three epochs of SGD with learning rate 0.1 on 1000 examples (noise 0.01) get each weight and
/// the bias within 0.01 of the values that generated the data (the notebook's setting).
#[test]
fn scratch_linear_regression_recovers_w_and_b() {
    tch::manual_seed(42);
    let data = true_data();
    let mut model = LinearRegressionScratch::new(2, 0.1, 0.01);
    let history = Trainer::new(3)
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    let w = values(&model.w);
    let b = model.b.double_value(&[0]);
    assert!((w[0] - 2.0).abs() < 0.01, "w[0] = {}", w[0]);
    assert!((w[1] + 3.4).abs() < 0.01, "w[1] = {}", w[1]);
    assert!((b - 4.2).abs() < 0.01, "b = {b}");
    // The validation loss ends near the noise floor sigma^2 / 2 = 5e-5.
    let val_loss = history.last().unwrap().val_metric("loss").unwrap();
    assert!(val_loss < 1e-3, "val_loss = {val_loss}");
}

/// The concise model with learning rate 0.03 (its MSE has twice the gradient of the scratch
/// loss) gets within 0.05 in three epochs.
#[test]
fn concise_linear_regression_recovers_w_and_b() {
    tch::manual_seed(7);
    let data = true_data();
    let mut model = linear_regression(2, 0.03);
    Trainer::new(3)
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    let (w, b) = get_w_b(&model);
    let (w, b) = (values(&w), b.double_value(&[0]));
    assert!(
        (w[0] - 2.0).abs() < 0.05 && (w[1] + 3.4).abs() < 0.05,
        "w = {w:?}"
    );
    assert!((b - 4.2).abs() < 0.05, "b = {b}");
}

/// Wraps an optimizer and counts the trainer's calls.
struct Counting<O> {
    inner: O,
    steps: Rc<Cell<usize>>,
    zero_grads: Rc<Cell<usize>>,
}

impl<O: Optimizer> Optimizer for Counting<O> {
    fn zero_grad(&mut self) {
        self.zero_grads.set(self.zero_grads.get() + 1);
        self.inner.zero_grad();
    }
    fn step(&mut self) {
        self.steps.set(self.steps.get() + 1);
        self.inner.step();
    }
}

struct CountedModel {
    base: LinearRegressionScratch,
    steps: Rc<Cell<usize>>,
    zero_grads: Rc<Cell<usize>>,
}

impl Module for CountedModel {
    type Optimizer = Counting<SGD>;
    fn forward(&self, x: &Tensor) -> Tensor {
        self.base.forward(x)
    }
    fn loss(&self, y_hat: &Tensor, y: &Tensor) -> Tensor {
        self.base.loss(y_hat, y)
    }
    fn parameters(&self) -> Vec<Tensor> {
        self.base.parameters()
    }
    fn configure_optimizers(&self) -> Result<Counting<SGD>, tch::TchError> {
        Ok(Counting {
            inner: self.base.configure_optimizers()?,
            steps: self.steps.clone(),
            zero_grads: self.zero_grads.clone(),
        })
    }
}

/// 100 training examples in batches of 32 make 4 batches (the last holds 4), so 3 epochs make
/// 12 optimizer steps, each after one zero_grad.
#[test]
fn trainer_steps_the_optimizer_once_per_training_batch() {
    tch::manual_seed(0);
    let config = SyntheticRegressionConfig {
        num_train: 100,
        num_val: 50,
        batch_size: 32,
        ..Default::default()
    };
    let data =
        SyntheticRegressionData::with_config(&Tensor::from_slice(&[1.0f32, 1.0]), 0.0, config);
    assert_eq!(data.train_dataloader().len(), 4);
    let steps = Rc::new(Cell::new(0));
    let zero_grads = Rc::new(Cell::new(0));
    let mut model = CountedModel {
        base: LinearRegressionScratch::new(2, 0.01, 0.01),
        steps: steps.clone(),
        zero_grads: zero_grads.clone(),
    };
    let history = Trainer::new(3)
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    assert_eq!(steps.get(), 12);
    assert_eq!(zero_grads.get(), 12);
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().map(|s| s.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(history.iter().all(|s| s.val_metric("loss").is_some()));
}

#[test]
fn scratch_sgd_takes_a_plain_gradient_step() {
    let w = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
    let mut sgd = SGD::new(vec![w.shallow_clone()], 0.1);
    // d/dw sum(3 w) = 3 for every element.
    (&w * 3.0).sum(Kind::Float).backward();
    sgd.step();
    let after = values(&w);
    assert!(
        (after[0] - 0.7).abs() < 1e-6 && (after[1] + 2.3).abs() < 1e-6,
        "{after:?}"
    );
    sgd.zero_grad();
    assert_eq!(values(&w.grad()), vec![0.0, 0.0]);
}

#[test]
fn tch_optimizers_satisfy_the_optimizer_trait() {
    fn step_twice<O: Optimizer>(optimizer: &mut O) {
        optimizer.step();
        optimizer.step();
    }
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().ones("w", &[1]);
    let mut opt = nn::Sgd::default().build(&vs, 0.5).unwrap();
    Optimizer::zero_grad(&mut opt);
    (&w * 2.0).sum(Kind::Float).backward();
    step_twice(&mut opt);
    assert!((w.double_value(&[0]) - (1.0 - 2.0 * 0.5 * 2.0)).abs() < 1e-6);
    let mut boxed: Box<dyn Optimizer> = Box::new(SGD::new(vec![], 0.1));
    step_twice(&mut boxed);
}

/// The training loader visits every training row exactly once, in a new order each call; the
/// validation loader yields the validation rows in order.
#[test]
fn tensor_loaders_partition_the_rows() {
    tch::manual_seed(3);
    let x = Tensor::arange(25, (Kind::Float, Device::Cpu)).reshape([25, 1]);
    let y = &x * 10.0;
    let batches: Vec<Batch> = get_tensorloader(&x, &y, 0..20, 6, true)
        .into_iter()
        .collect();
    assert_eq!(
        batches.iter().map(|(x, _)| x.size()[0]).collect::<Vec<_>>(),
        vec![6, 6, 6, 2]
    );
    let mut rows: Vec<f64> = batches.iter().flat_map(|(x, _)| values(x)).collect();
    for (x, y) in &batches {
        assert_eq!(
            values(&(x * 10.0)),
            values(y),
            "features and labels stay paired"
        );
    }
    let shuffled = rows.clone();
    rows.sort_by(f64::total_cmp);
    assert_eq!(rows, (0..20).map(f64::from).collect::<Vec<_>>());
    assert_ne!(shuffled, rows, "the training order is shuffled");
    let val: Vec<f64> = get_tensorloader(&x, &y, 20..25, 2, false)
        .into_iter()
        .flat_map(|(x, _)| values(&x))
        .collect();
    assert_eq!(val, vec![20.0, 21.0, 22.0, 23.0, 24.0]);
}

#[test]
fn synthetic_data_follows_the_linear_model() {
    tch::manual_seed(5);
    let config = SyntheticRegressionConfig {
        noise: 0.0,
        num_train: 30,
        num_val: 10,
        batch_size: 8,
    };
    let w = Tensor::from_slice(&[2.0f32, -3.4]);
    let data = SyntheticRegressionData::with_config(&w, 4.2, config);
    assert_eq!(data.x.size(), vec![40, 2]);
    assert_eq!(data.y.size(), vec![40, 1]);
    let expected = data.x.matmul(&w.reshape([2, 1])) + 4.2;
    assert!(data.y.allclose(&expected, 1e-5, 1e-5, false));
    assert_eq!(data.train_dataloader().len(), 4);
    assert_eq!(data.val_dataloader().len(), 2);
}

#[test]
fn gradient_clipping_bounds_the_joint_norm() {
    let a = Tensor::from_slice(&[3.0f32]).set_requires_grad(true);
    let b = Tensor::from_slice(&[4.0f32]).set_requires_grad(true);
    // Gradients 3 and 4: joint norm 5.
    (&a * 3.0 + &b * 4.0).sum(Kind::Float).backward();
    clip_gradients(&[a.shallow_clone(), b.shallow_clone()], 1.0);
    assert!((a.grad().double_value(&[0]) - 0.6).abs() < 1e-6);
    assert!((b.grad().double_value(&[0]) - 0.8).abs() < 1e-6);
    // Below the bound nothing changes.
    clip_gradients(&[a.shallow_clone(), b.shallow_clone()], 10.0);
    assert!((a.grad().double_value(&[0]) - 0.6).abs() < 1e-6);
}

#[test]
fn trainer_with_clipping_still_converges() {
    tch::manual_seed(11);
    let data = true_data();
    let mut model = LinearRegressionScratch::new(2, 0.03, 0.01);
    let mut trainer = Trainer {
        max_epochs: 3,
        gradient_clip_val: Some(1.0),
        ..Default::default()
    };
    let history = trainer
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    assert!(history[2].train_loss < history[0].train_loss);
}

fn high_dim_data() -> SyntheticRegressionData {
    let config = SyntheticRegressionConfig {
        noise: 0.01,
        num_train: 20,
        num_val: 100,
        batch_size: 5,
    };
    SyntheticRegressionData::with_config(
        &(Tensor::ones([200], (Kind::Float, Device::Cpu)) * 0.01),
        0.05,
        config,
    )
}

/// On 20 examples of 200 features, lambda = 3 leaves much smaller weights than lambda = 0.
#[test]
fn weight_decay_shrinks_the_weights() {
    tch::manual_seed(0);
    let data = high_dim_data();
    let norm_with = |lambd: f64| {
        tch::manual_seed(1);
        let mut model = WeightDecayScratch::new(200, lambd, 0.01, 0.01);
        Trainer::new(10)
            .fit(&mut model, &data)
            .expect("the optimizer builds");
        model.base.w.norm().double_value(&[])
    };
    let (plain, decayed) = (norm_with(0.0), norm_with(3.0));
    assert!(
        decayed < 0.5 * plain,
        "norm without decay {plain}, with {decayed}"
    );
}

/// The concise model decays its weights by (1 - lr * wd) per step and leaves the bias alone.
#[test]
fn concise_weight_decay_applies_to_the_weights_only() {
    let model = weight_decay(3, 2.0, 0.1);
    tch::no_grad(|| {
        let _ = model.net.ws.shallow_clone().fill_(1.0);
        let _ = model.net.bs.as_ref().unwrap().shallow_clone().fill_(1.0);
    });
    let mut opt = model.configure_optimizers().expect("the optimizer builds");
    Optimizer::zero_grad(&mut opt);
    // A loss with zero gradient: only the decay moves the parameters.
    let zero = model
        .parameters()
        .iter()
        .map(|p| p.sum(Kind::Float) * 0.0)
        .fold(Tensor::from(0.0f32), |a, b| a + b);
    zero.backward();
    Optimizer::step(&mut opt);
    for w in values(&model.net.ws) {
        assert!((w - (1.0 - 0.1 * 2.0)).abs() < 1e-6, "weight {w}");
    }
    assert_eq!(values(model.net.bs.as_ref().unwrap()), vec![1.0]);
}

#[test]
fn default_to_device_keeps_trainable_leaves() {
    let mut model = LinearRegressionScratch::new(2, 0.1, 0.01);
    let device = d2l::try_gpu();
    model.to_device(device);
    assert_eq!(model.w.device(), device);
    assert!(model.w.requires_grad() && model.w.is_leaf());
    model.to_device(Device::Cpu);
    assert_eq!(model.b.device(), Device::Cpu);
}

/// A `Model` is its network, task and optimizer: `forward` runs the network with `train = false`
/// (deterministic here), the training step with `train = true` (dropout active), validation
/// reports the task's loss, and `with_optimizer` changes how a step moves the parameters (SGD by
/// `-lr * grad`, Adam's first step by `-lr * sign(grad)`).
#[test]
fn a_model_is_its_network_task_and_optimizer() {
    use d2l::Task;
    tch::manual_seed(3);
    let model = d2l::Model::new(d2l::Regression, 0.1, |p| {
        nn::seq_t()
            .add_fn_t(|x, train| x.dropout(0.5, train))
            .add(nn::linear(p / "out", 3, 1, Default::default()))
    });
    assert_eq!(model.num_parameters(), 4);
    let x = Tensor::ones([256, 3], (Kind::Float, Device::Cpu));
    let y = Tensor::zeros([256, 1], (Kind::Float, Device::Cpu));
    let batch: Batch = (x.shallow_clone(), y.shallow_clone());
    assert_eq!(values(&model.forward(&x)), values(&model.forward(&x)));
    let first = model.training_step(&batch).double_value(&[]);
    let second = model.training_step(&batch).double_value(&[]);
    assert_ne!(first, second, "the training step must drop inputs");
    let expected = d2l::Regression
        .loss(&model.forward(&x), &y)
        .double_value(&[]);
    assert_eq!(model.validation_step(&batch), vec![("loss", expected)]);

    let (deltas, grads) = moves_of_one_step(&model, &batch);
    for (delta, grad) in deltas.iter().zip(&grads) {
        assert!(
            (delta + 0.1 * grad).abs() < 1e-6,
            "SGD moved {delta} for grad {grad}"
        );
    }
    let adam = model.with_optimizer(nn::Adam::default());
    let (deltas, grads) = moves_of_one_step(&adam, &batch);
    for (delta, grad) in deltas.iter().zip(&grads) {
        assert!(
            (delta + 0.1 * grad.signum()).abs() < 1e-4,
            "Adam moved {delta} for grad {grad}"
        );
    }
}

/// The change of every parameter and its gradient over one optimizer step of `model`'s own
/// optimizer on `batch` (dropout makes the gradient random, the relation to it is not).
fn moves_of_one_step<M: Module>(model: &M, batch: &Batch) -> (Vec<f64>, Vec<f64>) {
    let mut optimizer = model.configure_optimizers().expect("the optimizer builds");
    optimizer.zero_grad();
    model.training_step(batch).backward();
    let before: Vec<f64> = model.parameters().iter().flat_map(values).collect();
    let grads: Vec<f64> = model
        .parameters()
        .iter()
        .flat_map(|p| values(&p.grad()))
        .collect();
    optimizer.step();
    let after: Vec<f64> = model.parameters().iter().flat_map(values).collect();
    let deltas = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    (deltas, grads)
}
