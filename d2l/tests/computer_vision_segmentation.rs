//! Behaviour of the segmentation half of the computer-vision chapter: the transposed convolution
//! against hand-computed values, FCN's shapes and its bilinear upsampling, the VOC colormap round
//! trip, region of interest pooling against a hand-computed example, the VOC stand-in's format,
//! and an FCN learning a stated amount on a few stand-in scenes.

use d2l::prelude::*;

fn cpu_float() -> (Kind, Device) {
    (Kind::Float, Device::Cpu)
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).reshape([-1])).unwrap()
}

#[test]
fn transposed_convolution_matches_hand_computed_values() {
    let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).reshape([2, 2]);
    let k = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).reshape([2, 2]);
    // Four scaled kernels 0·K, 1·K, 2·K, 3·K added at (0,0), (0,1), (1,0), (1,1).
    let y = d2l::trans_conv(&x, &k, 1);
    assert_eq!(values(&y), [0., 0., 1., 0., 4., 6., 4., 12., 9.]);
    // Stride 2: the patches do not overlap, the output is 4x4.
    let y = d2l::trans_conv(&x, &k, 2);
    assert_eq!(
        values(&y),
        [0., 0., 0., 1., 0., 0., 2., 3., 0., 2., 0., 3., 4., 6., 6., 9.]
    );
    // libtorch agrees, and padding 1 keeps the centre of the stride-1 output.
    let (x4, k4) = (x.reshape([1, 1, 2, 2]), k.reshape([1, 1, 2, 2]));
    let padded = x4.conv_transpose2d(&k4, None::<Tensor>, [1, 1], [1, 1], [0, 0], 1, [1, 1]);
    assert_eq!(values(&padded), [4.0]);
    let strided = x4.conv_transpose2d(&k4, None::<Tensor>, [2, 2], [0, 0], [0, 0], 1, [1, 1]);
    assert_eq!(values(&strided), values(&y));
}

#[test]
fn transposed_convolution_is_multiplication_by_the_transposed_matrix() {
    let k = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let w = d2l::kernel_to_matrix(&k, 3, 3);
    assert_eq!(w.size(), [4, 9]);
    // Row 0 is the window of output (0, 0): input cells 0, 1, 3, 4.
    assert_eq!(values(&w.get(0)), [1., 2., 0., 3., 4., 0., 0., 0., 0.]);
    let y = Tensor::from_slice(&[1.0f32, -1.0, 2.0, 0.5]).reshape([2, 2]);
    let by_matrix = w.tr().matmul(&y.reshape([4])).reshape([3, 3]);
    assert!(d2l::trans_conv(&y, &k, 1).allclose(&by_matrix, 1e-6, 1e-6, false));
}

#[test]
fn fcn_output_shapes() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = d2l::fcn(&vs.root(), 21);
    let x = Tensor::randn([2, 3, 64, 96], cpu_float());
    assert_eq!(net.forward_t(&x, false).size(), [2, 21, 64, 96]);
    let summary = net.summary(&x);
    let shape_of = |name: &str| summary.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(shape_of("layer4.1"), [2, 512, 2, 3]);
    assert_eq!(shape_of("final_conv"), [2, 21, 2, 3]);
    // The body carries torchvision's parameter names, so published weights load into it.
    let names = vs.variables();
    for name in [
        "conv1.weight",
        "bn1.running_mean",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.bias",
    ] {
        assert!(names.contains_key(name), "{name} missing");
    }
    assert!(
        !names.contains_key("conv1.bias"),
        "torchvision's convolutions have no bias"
    );
}

#[test]
fn bilinear_transposed_convolution_upsamples_as_bilinear_interpolation() {
    assert_eq!(
        values(&d2l::bilinear_kernel(1, 1, 4).get(0).get(0).get(0)),
        [0.0625, 0.1875, 0.1875, 0.0625]
    );
    tch::manual_seed(1);
    let image = Tensor::rand([1, 3, 12, 17], cpu_float());
    for (factor, kernel) in [(2, 4), (4, 8)] {
        let up = image.conv_transpose2d(
            &d2l::bilinear_kernel(3, 3, kernel),
            None::<Tensor>,
            [factor, factor],
            [factor / 2, factor / 2],
            [0, 0],
            1,
            [1, 1],
        );
        let (h, w) = (12 * factor, 17 * factor);
        assert_eq!(up.size(), [1, 3, h, w]);
        let reference = image.upsample_bilinear2d([h, w], false, None, None);
        // Away from the border (where zero padding meets border replication) they agree.
        let m = factor;
        let interior = |t: &Tensor| t.narrow(2, m, h - 2 * m).narrow(3, m, w - 2 * m);
        let diff = (interior(&up) - interior(&reference))
            .abs()
            .max()
            .double_value(&[]);
        assert!(diff < 1e-5, "factor {factor}: {diff}");
    }
    // The FCN's own transposed convolution (kernel 64, stride 32) starts as bilinear too.
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = d2l::fcn(&vs.root(), 3);
    let weight = vs.variables()["transpose_conv.weight"].detach();
    let scores = Tensor::rand([1, 3, 4, 5], cpu_float());
    let up = scores.conv_transpose2d(
        &weight,
        None::<Tensor>,
        [32, 32],
        [16, 16],
        [0, 0],
        1,
        [1, 1],
    );
    let reference = scores.upsample_bilinear2d([128, 160], false, None, None);
    let interior = |t: &Tensor| t.narrow(2, 32, 64).narrow(3, 32, 96);
    let diff = (interior(&up) - interior(&reference))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn voc_colormap_round_trip() {
    // Every class colour and the void colour, as a 1x22 label image.
    let mut rgb: Vec<[u8; 3]> = d2l::VOC_COLORMAP.to_vec();
    rgb.push(d2l::VOC_VOID_COLOR);
    let planes: Vec<u8> = (0..3).flat_map(|c| rgb.iter().map(move |p| p[c])).collect();
    let image = Tensor::from_slice(&planes).reshape([3, 1, 22]);
    let labels = d2l::voc_colormap_to_label(&image);
    let mut expected: Vec<i64> = (0..21).collect();
    expected.push(d2l::VOC_IGNORE_LABEL);
    assert_eq!(
        Vec::<i64>::try_from(labels.reshape([-1])).unwrap(),
        expected
    );
    assert!(d2l::voc_label_to_image(&labels).equal(&image));
    // A colour that is not in the table is ignored.
    let odd = Tensor::from_slice(&[1u8, 2, 3]).reshape([3, 1, 1]);
    assert_eq!(
        d2l::voc_colormap_to_label(&odd).int64_value(&[0, 0]),
        d2l::VOC_IGNORE_LABEL
    );
}

#[test]
fn roi_pooling_matches_the_hand_computed_example() {
    let x = Tensor::arange(16, cpu_float()).reshape([1, 1, 4, 4]);
    let rois = Tensor::from_slice2(&[[0.0f32, 0.0, 0.0, 20.0, 20.0], [0.0, 0.0, 10.0, 30.0, 30.0]]);
    let pooled = d2l::roi_pool(&x, &rois, (2, 2), 0.1);
    assert_eq!(pooled.size(), [2, 1, 2, 2]);
    assert_eq!(values(&pooled), [5., 6., 9., 10., 9., 11., 13., 15.]);
    // The whole map pooled to 1x1 is its maximum; a 1x1 box is that cell.
    let rois = Tensor::from_slice2(&[
        [0.0f32, 0.0, 0.0, 30.0, 30.0],
        [0.0, 10.0, 20.0, 10.0, 20.0],
    ]);
    assert_eq!(values(&d2l::roi_pool(&x, &rois, (1, 1), 0.1)), [15., 9.]);
}

#[test]
fn voc_stand_in_has_vocs_layout_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("voc");
    d2l::data::write_stand_in(&root, "test", |d| d2l::write_voc_stand_in(d, 6, 2, 3)).unwrap();
    assert!(root.join("SYNTHETIC.md").is_file());
    let voc = root.join("VOCdevkit/VOC2012");
    let (features, labels) = d2l::read_voc_images(&voc, true).unwrap();
    assert_eq!((features.len(), labels.len()), (6, 6));
    assert_eq!(d2l::read_voc_images(&voc, false).unwrap().0.len(), 2);
    for (image, label_image) in features.iter().zip(&labels) {
        assert_eq!(image.size()[0], 3);
        assert_eq!(image.size(), label_image.size());
        // PNG is lossless: every label colour maps back to a known class or void.
        let y = d2l::voc_colormap_to_label(label_image);
        let allowed: Vec<i64> = [0, d2l::VOC_IGNORE_LABEL]
            .into_iter()
            .chain(d2l::VOC_STAND_IN_CLASSES)
            .collect();
        for class in
            Vec::<i64>::try_from(y.reshape([-1]).unique_dim(0, true, false, false).0).unwrap()
        {
            assert!(allowed.contains(&class), "unexpected label {class}");
        }
        let objects = y.ne(0).logical_and(&y.ne(d2l::VOC_IGNORE_LABEL));
        assert!(
            objects.sum(Kind::Int64).int64_value(&[]) > 0,
            "no object pixels"
        );
    }
    // The same seed draws the same scene.
    let (a, la) = d2l::voc_stand_in_scene(40, 50, &[6, 8], 11);
    let (b, lb) = d2l::voc_stand_in_scene(40, 50, &[6, 8], 11);
    assert!(a.equal(&b) && la.equal(&lb));
}

#[test]
fn fcn_learns_the_stand_in_scenes() {
    tch::manual_seed(0);
    let scenes: Vec<(Tensor, Tensor)> = (0..16u64)
        .map(|i| {
            d2l::voc_stand_in_scene(
                64,
                64,
                &[d2l::VOC_STAND_IN_CLASSES[(i % 5) as usize]],
                100 + i,
            )
        })
        .collect();
    let x = d2l::imagenet_normalize(&Tensor::stack(
        &scenes
            .iter()
            .map(|s| s.0.shallow_clone())
            .collect::<Vec<_>>(),
        0,
    ));
    let y = Tensor::stack(
        &scenes
            .iter()
            .map(|s| s.1.shallow_clone())
            .collect::<Vec<_>>(),
        0,
    );
    let model = d2l::Model::new(d2l::Segmentation, 1e-3, |p| d2l::fcn(p, 21))
        .with_optimizer(nn::Adam::default());
    let mut optimizer = model.configure_optimizers().unwrap();
    let batch = (x, y);
    let initial = model.validation_step(&batch);
    for _ in 0..40 {
        let loss = model.training_step(&batch);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    let fin = model.validation_step(&batch);
    let metric = |m: &Metrics, name: &str| m.iter().find(|(n, _)| *n == name).unwrap().1;
    // 40 Adam steps on 16 scenes: the loss falls to a fifth and 90 % of the labelled pixels
    // (most of them background, which alone is about 80 %) are right.
    assert!(
        metric(&fin, "loss") < 0.2 * metric(&initial, "loss"),
        "{initial:?} -> {fin:?}"
    );
    assert!(metric(&fin, "acc") > 0.9, "{fin:?}");
}
