//! Behaviour of the API that the modern-CNN chapter saves into `d2l::book`
//! (notebooks/chapter_convolutional-modern): the `Layers` list and `ImageClassifier`, the
//! networks (AlexNet, VGG, NiN, GoogLeNet, batch-normalized LeNet, ResNet, DenseNet, RegNetX) and
//! their blocks, and batch normalization from scratch against libtorch's. Shapes are checked on
//! small batches at the input sizes the chapter trains with.

use d2l::prelude::*;
use d2l::{
    alexnet, any_net, batch_norm, bn_lenet, bn_lenet_scratch, densenet, googlenet,
    image_classifier, layer_summary, nin, regnetx32, resnet18, vgg, vgg_block, Batch, BatchNorm,
    DenseBlock, Inception, Layers, Module, ResNeXtBlock, Residual, StageSpec,
};
use tch::nn::ModuleT;

fn cpu_randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

fn max_gap(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Scores of shape [batch, 10] for a batch of `image_size` x `image_size` one-channel images, in
/// both modes, and finite.
fn assert_classifies(build: impl FnOnce(&nn::Path) -> Layers, image_size: i64) {
    let model = image_classifier(0.01, build);
    let x = Tensor::rand(
        [2, 1, image_size, image_size],
        (Kind::Float, model.vs.device()),
    );
    for train in [false, true] {
        let scores = tch::no_grad(|| model.net.forward_t(&x, train));
        assert_eq!(
            scores.size(),
            [2, 10],
            "image size {image_size}, train {train}"
        );
        assert!(
            scores.isfinite().all().int64_value(&[]) == 1,
            "non-finite scores at image size {image_size}"
        );
    }
}

#[test]
fn alexnet_classifies_68_pixel_images() {
    assert_classifies(|p| alexnet(p, 68, 10), 68);
}

#[test]
fn alexnet_at_224_has_the_paper_shapes() {
    let model = image_classifier(0.01, |p| alexnet(p, 224, 10));
    let summary = layer_summary(&model, &[1, 1, 224, 224]);
    let shape_of = |name: &str| -> Vec<Vec<i64>> {
        summary
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .collect()
    };
    assert_eq!(shape_of("conv1"), [vec![1, 96, 54, 54]]);
    assert_eq!(
        shape_of("max_pool"),
        [
            vec![1, 96, 26, 26],
            vec![1, 256, 12, 12],
            vec![1, 256, 5, 5]
        ]
    );
    assert_eq!(shape_of("flatten"), [vec![1, 6400]]);
    assert_eq!(summary.last().unwrap().1, [1, 10]);
}

#[test]
fn vgg_blocks_halve_the_resolution_and_set_the_channels() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = vgg_block(&vs.root(), 2, 3, 16);
    let y = block.forward_t(&cpu_randn(&[2, 3, 32, 32]), false);
    assert_eq!(y.size(), [2, 16, 16, 16]);
    // Two convolutions (each with its ReLU) and the pooling layer.
    assert_eq!(block.layers.len(), 5);
}

#[test]
fn narrow_vgg_classifies_64_pixel_images() {
    let arch = [(1, 16), (1, 32), (2, 64), (2, 128), (2, 128)];
    assert_classifies(|p| vgg(p, &arch, 64, 10), 64);
}

#[test]
fn nin_classifies_68_pixel_images() {
    assert_classifies(|p| nin(p, 10), 68);
}

#[test]
fn inception_concatenates_its_branches() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = Inception::new(&vs.root(), 192, 64, (96, 128), (16, 32), 32);
    assert_eq!(block.out_channels(), 256);
    let y = block.forward(&cpu_randn(&[2, 192, 7, 7]));
    assert_eq!(y.size(), [2, 256, 7, 7]);
}

#[test]
fn googlenet_classifies_32_pixel_images() {
    assert_classifies(|p| googlenet(p, 10), 32);
}

#[test]
fn batch_norm_lenets_classify_28_pixel_images() {
    assert_classifies(|p| bn_lenet_scratch(p, 10), 28);
    assert_classifies(|p| bn_lenet(p, 10), 28);
}

#[test]
fn resnet18_classifies_32_pixel_images() {
    assert_classifies(|p| resnet18(p, 10), 32);
}

#[test]
fn densenet_classifies_32_pixel_images() {
    assert_classifies(|p| densenet(p, 64, 32, &[4, 4, 4, 4], 10), 32);
}

#[test]
fn regnetx32_classifies_64_pixel_images() {
    assert_classifies(|p| regnetx32(p, 10), 64);
}

#[test]
fn any_net_stages_halve_the_resolution() {
    let stage = |depth, num_channels| StageSpec {
        depth,
        num_channels,
        group_width: 8,
        bot_mul: 1.0,
    };
    let model = image_classifier(0.1, |p| any_net(p, 16, &[stage(1, 16), stage(2, 32)], 10));
    let summary = layer_summary(&model, &[2, 1, 32, 32]);
    let shapes: Vec<(&str, &[i64])> = summary.iter().map(|(n, s)| (n.as_str(), &s[..])).collect();
    assert_eq!(
        &shapes[..3],
        [
            ("stem", &[2i64, 16, 16, 16][..]),
            ("stage1", &[2, 16, 8, 8][..]),
            ("stage2", &[2, 32, 4, 4][..])
        ]
    );
}

#[test]
fn residual_keeps_the_shape_without_1x1_conv() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = Residual::new(&vs.root(), 3, 3, false, 1);
    assert!(block.conv3.is_none());
    let x = cpu_randn(&[4, 3, 6, 6]);
    assert_eq!(block.forward_t(&x, true).size(), [4, 3, 6, 6]);
}

#[test]
fn residual_with_1x1_conv_and_stride_2_changes_the_shape() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = Residual::new(&vs.root(), 3, 6, true, 2);
    assert!(block.conv3.is_some());
    let x = cpu_randn(&[4, 3, 6, 6]);
    assert_eq!(block.forward_t(&x, true).size(), [4, 6, 3, 3]);
}

#[test]
#[should_panic(expected = "must match the size of tensor b (3) at non-singleton dimension 1")]
fn residual_cannot_change_channels_without_1x1_conv() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = Residual::new(&vs.root(), 3, 6, false, 1);
    let _ = block.forward_t(&cpu_randn(&[4, 3, 6, 6]), false);
}

/// The identity is reachable: with the last batch normalization's scale and shift at zero, a block
/// without 1x1 convolution returns relu(x).
#[test]
fn residual_adds_its_input() {
    let vs = nn::VarStore::new(Device::Cpu);
    let mut block = Residual::new(&vs.root(), 3, 3, false, 1);
    tch::no_grad(|| {
        let _ = block.bn2.ws.as_mut().unwrap().zero_();
        let _ = block.bn2.bs.as_mut().unwrap().zero_();
    });
    let x = cpu_randn(&[2, 3, 5, 5]);
    assert!(max_gap(&block.forward_t(&x, false), &x.relu()) < 1e-6);
}

#[test]
fn resnext_block_shapes_and_groups() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = ResNeXtBlock::new(&vs.root(), 64, 32, 16, 1.0, true, 2);
    assert_eq!(
        block.forward_t(&cpu_randn(&[2, 64, 8, 8]), true).size(),
        [2, 32, 4, 4]
    );
    // 32 bottleneck channels in groups of 16: each output channel sees 16 input channels.
    assert_eq!(block.layers[1].0.ws.size(), [32, 16, 3, 3]);
    let same = ResNeXtBlock::new(&(vs.root() / "same"), 32, 32, 8, 0.5, false, 1);
    assert!(same.shortcut.is_none());
    assert_eq!(same.layers[0].0.ws.size(), [16, 32, 1, 1]);
    assert_eq!(
        same.forward_t(&cpu_randn(&[2, 32, 5, 5]), false).size(),
        [2, 32, 5, 5]
    );
}

#[test]
#[should_panic(expected = "groups")]
fn resnext_block_refuses_uneven_groups() {
    let vs = nn::VarStore::new(Device::Cpu);
    ResNeXtBlock::new(&vs.root(), 8, 24, 16, 1.0, true, 1);
}

#[test]
fn dense_block_grows_the_channels_and_keeps_its_input() {
    let vs = nn::VarStore::new(Device::Cpu);
    let block = DenseBlock::new(&vs.root(), 2, 3, 10);
    assert_eq!(block.out_channels(), 23);
    let x = cpu_randn(&[4, 3, 8, 8]);
    let y = block.forward_t(&x, false);
    assert_eq!(y.size(), [4, 23, 8, 8]);
    // Concatenation: the first channels are the input itself.
    assert!(max_gap(&y.narrow(1, 0, 3), &x) == 0.0);
    let five = DenseBlock::new(&(vs.root() / "five"), 5, 7, 4);
    assert_eq!(
        five.forward_t(&cpu_randn(&[1, 7, 3, 3]), false).size(),
        [1, 27, 3, 3]
    );
}

fn bn_inputs(shape: &[i64]) -> (Tensor, Tensor, Tensor, Tensor, Tensor) {
    let c = shape[1];
    let x = cpu_randn(shape) * 3.0 + 2.0;
    let gamma = Tensor::rand([c], (Kind::Float, Device::Cpu)) + 0.5;
    let beta = cpu_randn(&[c]);
    let moving_mean = cpu_randn(&[c]);
    let moving_var = Tensor::rand([c], (Kind::Float, Device::Cpu)) + 0.5;
    (x, gamma, beta, moving_mean, moving_var)
}

#[test]
fn batch_norm_from_scratch_equals_libtorch_in_training_mode() {
    for shape in [&[16, 3, 5, 4][..], &[32, 6][..]] {
        let (x, gamma, beta, moving_mean, moving_var) = bn_inputs(shape);
        let (y, new_mean, new_var) = batch_norm(
            &x,
            &gamma,
            &beta,
            &moving_mean,
            &moving_var,
            1e-5,
            0.1,
            true,
        );
        let (torch_mean, torch_var) = (moving_mean.copy(), moving_var.copy());
        let y_torch = x.batch_norm(
            Some(&gamma),
            Some(&beta),
            Some(&torch_mean),
            Some(&torch_var),
            true,
            0.1,
            1e-5,
            false,
        );
        assert!(max_gap(&y, &y_torch) < 1e-4, "{shape:?}");
        assert!(max_gap(&new_mean, &torch_mean) < 1e-5, "{shape:?}");
        assert!(max_gap(&new_var, &torch_var) < 1e-4, "{shape:?}");
        // The moving averages did move, and the output is standardized per channel (gamma 1,
        // beta 0 would give mean 0 and variance 1).
        assert!(max_gap(&new_mean, &moving_mean) > 1e-3);
    }
}

#[test]
fn batch_norm_uses_the_moving_statistics_in_eval_mode() {
    let (x, gamma, beta, moving_mean, moving_var) = bn_inputs(&[8, 3, 4, 4]);
    let (y, new_mean, new_var) = batch_norm(
        &x,
        &gamma,
        &beta,
        &moving_mean,
        &moving_var,
        1e-5,
        0.1,
        false,
    );
    let shape = [1, 3, 1, 1];
    let expected = (&x - moving_mean.reshape(shape)) / (moving_var.reshape(shape) + 1e-5).sqrt()
        * gamma.reshape(shape)
        + beta.reshape(shape);
    assert!(max_gap(&y, &expected) < 1e-5);
    assert!(max_gap(&new_mean, &moving_mean) == 0.0);
    assert!(max_gap(&new_var, &moving_var) == 0.0);
    let y_torch = x.batch_norm(
        Some(&gamma),
        Some(&beta),
        Some(&moving_mean),
        Some(&moving_var),
        false,
        0.1,
        1e-5,
        false,
    );
    assert!(max_gap(&y, &y_torch) < 1e-4);
    // Training mode normalizes by the batch instead, which differs here.
    let (y_train, _, _) = batch_norm(
        &x,
        &gamma,
        &beta,
        &moving_mean,
        &moving_var,
        1e-5,
        0.1,
        true,
    );
    assert!(max_gap(&y, &y_train) > 1e-2);
}

#[test]
fn batch_norm_layer_updates_its_moving_statistics_only_in_training() {
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = BatchNorm::new(&vs.root(), 3);
    // gamma and beta are trained; the moving statistics are not.
    assert_eq!(vs.trainable_variables().len(), 2);
    assert_eq!(vs.variables().len(), 4);
    let x = cpu_randn(&[16, 3, 4, 4]) + 5.0;
    let _ = layer.forward_t(&x, false);
    assert!(
        max_gap(
            &layer.moving_mean,
            &Tensor::zeros([3], (Kind::Float, Device::Cpu))
        ) == 0.0
    );
    let y = layer.forward_t(&x, true);
    // One update with momentum 0.1 from zero: a tenth of the batch means (about 0.5).
    let batch_mean = x.mean_dim(&[0i64, 2, 3][..], false, Kind::Float);
    assert!(max_gap(&layer.moving_mean, &(batch_mean * 0.1)) < 1e-5);
    // Training output is standardized per channel (gamma 1, beta 0).
    let mean = y.mean_dim(&[0i64, 2, 3][..], false, Kind::Float);
    assert!(mean.abs().max().double_value(&[]) < 1e-4);
}

/// The classifier trains in training mode and validates in evaluation mode: a training step moves
/// the running statistics of `tch`'s batch normalization, a validation step does not.
#[test]
fn image_classifier_switches_modes() {
    tch::manual_seed(0);
    let mut model = image_classifier(0.1, |p| bn_lenet(p, 10));
    model.to_device(Device::Cpu);
    let running_mean = || model.vs.variables()["bn1.running_mean"].copy();
    let batch: Batch = (
        Tensor::rand([8, 1, 28, 28], (Kind::Float, Device::Cpu)) + 1.0,
        Tensor::randint(10, [8], (Kind::Int64, Device::Cpu)),
    );
    let before = running_mean();
    let metrics = model.validation_step(&batch);
    assert_eq!(
        metrics.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["loss", "acc"]
    );
    assert!(max_gap(&running_mean(), &before) == 0.0);
    let loss = model.training_step(&batch);
    assert!(loss.requires_grad());
    assert!(max_gap(&running_mean(), &before) > 1e-4);
}

#[test]
fn layers_summary_names_every_layer() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Layers::new()
        .add(
            "conv",
            nn::conv2d(vs.root() / "conv", 1, 4, 3, Default::default()),
        )
        .add_fn("relu", Tensor::relu)
        .add_fn_t("dropout", |x, train| x.dropout(0.5, train))
        .add_fn("flatten", |x| x.flatten(1, -1));
    let summary = net.summary(&cpu_randn(&[2, 1, 5, 5]));
    assert_eq!(
        summary,
        [
            ("conv".to_string(), vec![2, 4, 3, 3]),
            ("relu".to_string(), vec![2, 4, 3, 3]),
            ("dropout".to_string(), vec![2, 4, 3, 3]),
            ("flatten".to_string(), vec![2, 36]),
        ]
    );
    // Dropout is active only in training mode.
    let x = Tensor::ones([1, 1000], (Kind::Float, Device::Cpu));
    let drop = Layers::new().add_fn_t("dropout", |x, train| x.dropout(0.5, train));
    assert!(max_gap(&drop.forward_t(&x, false), &x) == 0.0);
    assert!(max_gap(&drop.forward_t(&x, true), &x) > 0.5);
}
