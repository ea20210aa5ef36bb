//! Behaviour of the detection half of the computer vision chapter: box conversions, IoU and NMS
//! against hand-computed boxes, anchors counted and placed as the formula says, offsets that
//! invert exactly, anchor labelling, the shapes of TinySSD, a tiny detector that learns, the
//! augmentations, the box drawing and the fine-tuning helpers.

use d2l::prelude::*;
use tch::nn::ModuleT;

fn cpu_float() -> (Kind, Device) {
    (Kind::Float, Device::Cpu)
}

fn boxes(values: &[f32]) -> Tensor {
    Tensor::from_slice(values).reshape([-1, 4])
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

fn int_values(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.to_kind(Kind::Int64).flatten(0, -1)).unwrap()
}

#[test]
fn corner_and_center_notations_convert_both_ways() {
    let corners = boxes(&[30.0, 60.0, 150.0, 190.0, 192.0, 70.0, 272.0, 200.0]);
    let centers = d2l::box_corner_to_center(&corners);
    assert_eq!(
        values(&centers),
        [90.0, 125.0, 120.0, 130.0, 232.0, 135.0, 80.0, 130.0]
    );
    assert!(d2l::box_center_to_corner(&centers).equal(&corners));
    // Random boxes of any leading shape round-trip up to rounding.
    tch::manual_seed(0);
    let top_left = Tensor::rand([2, 5, 2], cpu_float());
    let random = Tensor::cat(&[&top_left, &(&top_left + 0.1)], 2);
    let back = d2l::box_center_to_corner(&d2l::box_corner_to_center(&random));
    assert_eq!(back.size(), [2, 5, 4]);
    assert!(max_abs_diff(&back, &random) < 1e-6);
}

#[test]
fn iou_of_hand_computed_boxes() {
    let unit = boxes(&[0.0, 0.0, 1.0, 1.0]);
    let others = boxes(&[
        0.5, 0.0, 1.5, 1.0, // half overlap: 0.5 / 1.5
        0.0, 0.0, 0.5, 0.5, // inside, a quarter of the area
        2.0, 2.0, 3.0, 3.0, // disjoint
        0.0, 0.0, 1.0, 1.0, // identical
        1.0, 0.0, 2.0, 1.0, // touching along an edge
    ]);
    let iou = d2l::box_iou(&unit, &others);
    assert_eq!(iou.size(), [1, 5]);
    let expected = [1.0 / 3.0, 0.25, 0.0, 1.0, 0.0];
    for (got, want) in values(&iou).iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    // [n, m] for several boxes on both sides, symmetric.
    let iou = d2l::box_iou(&others, &others);
    assert_eq!(iou.size(), [5, 5]);
    assert!(max_abs_diff(&iou, &iou.transpose(0, 1)) < 1e-7);
    assert_eq!(values(&d2l::box_area(&others)), [1.0, 0.25, 1.0, 1.0, 1.0]);
}

#[test]
fn nms_keeps_the_best_box_of_each_group() {
    // Three boxes around one object (pairwise IoU 0.704, 0.704, 0.498) and one elsewhere.
    let predicted = boxes(&[
        0.08, 0.24, 0.47, 0.80, 0.05, 0.20, 0.43, 0.74, 0.12, 0.30, 0.50, 0.84, 0.60, 0.28, 0.86,
        0.84,
    ]);
    let scores = Tensor::from_slice(&[0.9f32, 0.8, 0.7, 0.95]);
    assert_eq!(int_values(&d2l::nms(&predicted, &scores, 0.5)), [3, 0]);
    // A looser threshold keeps boxes 1 and 2 (0.704 > 0.75 is false), still by score.
    assert_eq!(
        int_values(&d2l::nms(&predicted, &scores, 0.75)),
        [3, 0, 1, 2]
    );
    // Between the two: box 1 goes (0.704 > 0.6), box 2 goes too.
    assert_eq!(int_values(&d2l::nms(&predicted, &scores, 0.6)), [3, 0]);
    // With box 1 gone at 0.7 (0.704 > 0.7), box 2 has IoU 0.498 with it but 0.704 with box 0.
    let scores = Tensor::from_slice(&[0.5f32, 0.9, 0.8, 0.1]);
    assert_eq!(
        int_values(&d2l::nms(&predicted, &scores, 0.6)),
        [1, 2, 3],
        "box 2 overlaps box 1 by 0.498 only, box 0 is suppressed by box 1"
    );
}

#[test]
fn anchors_are_counted_and_placed_as_the_formula_says() {
    let (h, w) = (4i64, 6i64);
    let data = Tensor::zeros([1, 3, h, w], cpu_float());
    let sizes = [0.5, 0.25];
    let ratios = [1.0, 2.0, 0.5];
    let anchors = d2l::multibox_prior(&data, &sizes, &ratios);
    // n + m - 1 = 4 anchors per pixel.
    assert_eq!(anchors.size(), [1, h * w * 4, 4]);
    let per_pixel = anchors.reshape([h, w, 4, 4]);
    let pairs = [(0.5, 1.0), (0.25, 1.0), (0.5, 2.0), (0.5, 0.5)];
    for (i, j) in [(0, 0), (2, 3), (3, 5)] {
        let (cx, cy) = ((j as f64 + 0.5) / w as f64, (i as f64 + 0.5) / h as f64);
        for (k, &(s, r)) in pairs.iter().enumerate() {
            let anchor = values(&per_pixel.get(i).get(j).get(k as i64));
            // Width h*s*sqrt(r) pixels is s*sqrt(r)*h/w in normalized units; height s/sqrt(r).
            let half_w = s * f64::sqrt(r) * h as f64 / w as f64 / 2.0;
            let half_h = s / f64::sqrt(r) / 2.0;
            let expected = [cx - half_w, cy - half_h, cx + half_w, cy + half_h];
            for (got, want) in anchor.iter().zip(expected) {
                assert!(
                    (got - want).abs() < 1e-6,
                    "pixel ({i}, {j}) anchor {k}: {anchor:?}"
                );
            }
        }
    }
    // In pixels, the ratio-1 anchors are squares of side h*s and every anchor of one scale has
    // the same area.
    let pixels = per_pixel.get(1).get(1) * Tensor::from_slice(&[6.0f32, 4.0, 6.0, 4.0]);
    let wh = d2l::box_corner_to_center(&pixels).narrow(1, 2, 2);
    let wh = values(&wh);
    assert!(
        (wh[0] - 2.0).abs() < 1e-5 && (wh[1] - 2.0).abs() < 1e-5,
        "{wh:?}"
    );
    for k in [2usize, 3] {
        assert!((wh[2 * k] * wh[2 * k + 1] - 4.0).abs() < 1e-4, "{wh:?}");
    }
}

#[test]
fn offsets_invert_exactly() {
    tch::manual_seed(1);
    let top_left = Tensor::rand([50, 2], cpu_float());
    let anchors = Tensor::cat(
        &[
            &top_left,
            &(&top_left + Tensor::rand([50, 2], cpu_float()) * 0.5 + 0.01),
        ],
        1,
    );
    let top_left = Tensor::rand([50, 2], cpu_float());
    let targets = Tensor::cat(
        &[
            &top_left,
            &(&top_left + Tensor::rand([50, 2], cpu_float()) * 0.5 + 0.01),
        ],
        1,
    );
    let offsets = d2l::offset_boxes(&anchors, &targets);
    let back = d2l::offset_inverse(&anchors, &offsets);
    assert!(max_abs_diff(&back, &targets) < 1e-5);
    // Hand-computed offsets: the same box gives zeros; a box shifted by half the anchor's width
    // and twice as tall gives (0.5 / 0.1, 0, 0, ln 2 / 0.2).
    let anchor = boxes(&[0.0, 0.0, 0.2, 0.4]);
    assert!(
        d2l::offset_boxes(&anchor, &anchor)
            .abs()
            .max()
            .double_value(&[])
            < 1e-6
    );
    let moved = boxes(&[0.1, -0.2, 0.3, 0.6]);
    let expected = [5.0, 0.0, 0.0, 2f64.ln() / 0.2];
    for (got, want) in values(&d2l::offset_boxes(&anchor, &moved))
        .iter()
        .zip(expected)
    {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}

#[test]
fn anchors_are_labelled_with_classes_offsets_and_masks() {
    // The example of the anchor section: the house (class 0) and the tree (class 1).
    let labels = Tensor::from_slice(&[
        0.0f32,
        30.0 / 320.0,
        60.0 / 240.0,
        150.0 / 320.0,
        190.0 / 240.0,
        1.0,
        192.0 / 320.0,
        70.0 / 240.0,
        272.0 / 320.0,
        200.0 / 240.0,
        -1.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ])
    .reshape([1, 3, 5]);
    let anchors = boxes(&[
        0.05, 0.30, 0.40, 0.85, 0.10, 0.10, 0.55, 0.60, 0.62, 0.25, 0.90, 0.80, 0.35, 0.05, 0.65,
        0.35, 0.55, 0.30, 0.90, 0.90,
    ]);
    let assigned = d2l::assign_anchor_to_bbox(
        &labels.get(0).narrow(0, 0, 2).narrow(1, 1, 4),
        &anchors,
        0.5,
    );
    assert_eq!(int_values(&assigned), [0, -1, 1, -1, 1]);
    let targets = d2l::multibox_target(&anchors.unsqueeze(0), &labels);
    assert_eq!(int_values(&targets.class_labels), [1, 0, 2, 0, 2]);
    assert_eq!(targets.bbox_masks.size(), [1, 20]);
    assert_eq!(
        values(&targets.bbox_masks),
        [1., 1., 1., 1., 0., 0., 0., 0., 1., 1., 1., 1., 0., 0., 0., 0., 1., 1., 1., 1.]
    );
    // The offsets of positive anchors lead to their boxes; the others are zero.
    let offsets = targets.bbox_offsets.reshape([5, 4]);
    let boxes_back = d2l::offset_inverse(&anchors, &offsets);
    let house = labels.get(0).get(0).narrow(0, 1, 4);
    let tree = labels.get(0).get(1).narrow(0, 1, 4);
    assert!(max_abs_diff(&boxes_back.get(0), &house) < 1e-5);
    assert!(max_abs_diff(&boxes_back.get(2), &tree) < 1e-5);
    assert!(max_abs_diff(&boxes_back.get(4), &tree) < 1e-5);
    assert_eq!(values(&offsets.get(1)), [0.0; 4]);
    // A ground-truth box that no anchor overlaps well still gets the anchor it overlaps most.
    let small = Tensor::from_slice(&[0.0f32, 0.36, 0.06, 0.44, 0.12]).reshape([1, 1, 5]);
    let targets = d2l::multibox_target(&anchors.unsqueeze(0), &small);
    assert_eq!(int_values(&targets.class_labels), [0, 0, 0, 1, 0]);
}

#[test]
fn detection_applies_offsets_and_suppresses_duplicates() {
    let anchors = boxes(&[
        0.08, 0.24, 0.47, 0.80, 0.05, 0.20, 0.43, 0.74, 0.12, 0.30, 0.50, 0.84, 0.60, 0.28, 0.86,
        0.84,
    ]);
    let offsets = Tensor::zeros([1, 16], cpu_float());
    let probs = Tensor::from_slice(&[
        0.0f32, 0.0, 0.0, 0.0, 0.9, 0.8, 0.7, 0.1, 0.1, 0.2, 0.3, 0.9,
    ])
    .reshape([1, 3, 4]);
    let output = d2l::multibox_detection(&probs, &offsets, &anchors.unsqueeze(0), 0.5, 0.009);
    assert_eq!(output.size(), [1, 4, 6]);
    let rows = values(&output.get(0));
    // Kept: anchor 0 (house, 0.9) and anchor 3 (tree, 0.9), then the suppressed ones with -1.
    let classes: Vec<f64> = rows.chunks(6).map(|r| r[0]).collect();
    let confidences: Vec<f64> = rows.chunks(6).map(|r| r[1]).collect();
    assert_eq!(classes.iter().filter(|&&c| c >= 0.0).count(), 2);
    assert_eq!(classes[2..], [-1.0, -1.0]);
    let mut kept: Vec<(f64, f64)> = classes[..2]
        .iter()
        .copied()
        .zip(confidences[..2].iter().copied())
        .collect();
    kept.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!((kept[0].0 - 0.0).abs() < 1e-9 && (kept[0].1 - 0.9).abs() < 1e-6);
    assert!((kept[1].0 - 1.0).abs() < 1e-9 && (kept[1].1 - 0.9).abs() < 1e-6);
    // Zero offsets: the kept boxes are the anchors themselves.
    for row in rows.chunks(6).take(2) {
        let anchor = if row[0] == 0.0 { 0 } else { 3 };
        let expected = values(&anchors.get(anchor));
        for (got, want) in row[2..].iter().zip(&expected) {
            assert!((got - want).abs() < 1e-6);
        }
    }
    // Below the positive threshold: class -1 and the background probability.
    let output = d2l::multibox_detection(&probs, &offsets, &anchors.unsqueeze(0), 0.5, 0.95);
    let rows = values(&output.get(0));
    assert!(rows.chunks(6).all(|r| r[0] == -1.0));
    assert!(
        (rows[1] - 0.1).abs() < 1e-6,
        "1 - 0.9 for the most confident box"
    );
}

#[test]
fn tiny_ssd_output_shapes() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = d2l::TinySsd::new(&vs.root(), 3);
    let x = Tensor::zeros([2, 3, 64, 64], cpu_float());
    let (cls, bbox) = tch::no_grad(|| net.predict_t(&x, false));
    // Feature maps 8x8, 4x4, 2x2, 1x1 and 1x1, four anchors per cell.
    let num_anchors = (64 + 16 + 4 + 1 + 1) * 4;
    assert_eq!(cls.size(), [2, num_anchors, 4]);
    assert_eq!(bbox.size(), [2, num_anchors * 4]);
    assert_eq!(d2l::TinySsd::anchors(64).size(), [1, num_anchors, 4]);
    assert_eq!(d2l::TinySsd::anchors(256).size(), [1, 5444, 4]);
    let both = tch::no_grad(|| net.forward_t(&x, false));
    assert_eq!(both.size(), [2, num_anchors, 3 + 1 + 4]);
    // The concatenation keeps the predictions of each anchor together.
    assert!(both.narrow(2, 0, 4).equal(&cls));
    assert!(both.narrow(2, 4, 4).reshape([2, -1]).equal(&bbox));
    let blk = d2l::down_sample_blk(&(vs.root() / "blk"), 3, 10);
    assert_eq!(
        blk.forward_t(&Tensor::zeros([2, 3, 20, 20], cpu_float()), false)
            .size(),
        [2, 10, 10, 10]
    );
    let preds = [
        Tensor::zeros([2, 55, 20, 20], cpu_float()),
        Tensor::zeros([2, 33, 10, 10], cpu_float()),
    ];
    assert_eq!(d2l::concat_preds(&preds).size(), [2, 25300]);
}

/// Bananas drawn in memory, resized to `size`, as a data module.
struct TinyBananas {
    train: d2l::data::TensorLoader,
    val: d2l::data::TensorLoader,
}

impl TinyBananas {
    fn new(n: usize, size: i64) -> Self {
        let (images, labels): (Vec<Tensor>, Vec<Tensor>) = (0..n)
            .map(|_| {
                let (image, [x0, y0, x1, y1]) = d2l::draw_banana(256);
                let image = image
                    .to_kind(Kind::Float)
                    .unsqueeze(0)
                    .upsample_bilinear2d([size, size], false, None, None)
                    .squeeze_dim(0)
                    / 255.0;
                let label = Tensor::from_slice(&[
                    0.0f32,
                    x0 as f32 / 256.0,
                    y0 as f32 / 256.0,
                    x1 as f32 / 256.0,
                    y1 as f32 / 256.0,
                ])
                .reshape([1, 5]);
                (image, label)
            })
            .unzip();
        let (x, y) = (Tensor::stack(&images, 0), Tensor::stack(&labels, 0));
        let train = d2l::data::TensorLoader::new((x.shallow_clone(), y.shallow_clone()), 16)
            .unwrap()
            .shuffle(true)
            .seed(0);
        let val = d2l::data::TensorLoader::new((x, y), 16).unwrap();
        TinyBananas { train, val }
    }
}

impl d2l::DataModule for TinyBananas {
    fn train_dataloader(&self) -> impl ExactSizeIterator<Item = d2l::Batch> {
        self.train.iter()
    }
    fn val_dataloader(&self) -> impl ExactSizeIterator<Item = d2l::Batch> {
        self.val.iter()
    }
}

#[test]
fn a_tiny_detector_learns_to_find_bananas() {
    tch::manual_seed(0);
    let data = TinyBananas::new(64, 64);
    let mut model = d2l::tiny_ssd(1, 64, 0.2);
    let before = tch::no_grad(|| {
        let (x, y) = data.val.iter().next().unwrap();
        d2l::Task::metrics(&model.task, &model.net.forward_t(&x, false), &y)
    });
    let mut trainer = d2l::Trainer::new(30);
    trainer.scale = 1.0;
    let history = trainer.fit(&mut model, &data).unwrap();
    let first = &history[0];
    let last = history.last().unwrap();
    let initial_loss = before.iter().find(|m| m.0 == "loss").unwrap().1;
    let final_loss = last.val_metric("loss").unwrap();
    let final_mae = last.val_metric("bbox_mae").unwrap();
    eprintln!(
        "initial loss {initial_loss:.3}, first epoch {:.3}, last {final_loss:.3}; bbox mae {:.3} -> {final_mae:.3}",
        first.train_loss,
        first.val_metric("bbox_mae").unwrap()
    );
    // The stated amount: in 120 steps the validation loss falls to less than a tenth of the
    // untrained model's, and the offsets' error on the positive anchors falls by at least 5 %
    // after the first epoch. Other tests in this binary draw from libtorch's global generator
    // at the same time, so the claims hold for any seed: over seeds 0-5 alone the loss fell
    // 40-60 fold and the error 13-27 % (15 epochs were not enough: the error rose for two).
    assert!(
        final_loss < initial_loss / 10.0,
        "{initial_loss} -> {final_loss}"
    );
    let first_mae = first.val_metric("bbox_mae").unwrap();
    assert!(
        final_mae < 0.95 * first_mae,
        "bbox mae {first_mae} -> {final_mae}"
    );
}

#[test]
fn banana_stand_in_has_tight_boxes() {
    tch::manual_seed(3);
    for _ in 0..5 {
        let (image, [x0, y0, x1, y1]) = d2l::draw_banana(128);
        assert_eq!(image.size(), [3, 128, 128]);
        assert_eq!(image.kind(), Kind::Uint8);
        assert!(0 <= x0 && x0 < x1 && x1 <= 128 && 0 <= y0 && y0 < y1 && y1 <= 128);
        assert!(x1 - x0 >= 8 && y1 - y0 >= 8, "a visible banana");
    }
}

#[test]
fn banana_files_round_trip_through_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bananas");
    d2l::data::write_stand_in(&target, "test", |d| d2l::write_bananas_stand_in(d, 6, 2, 7))
        .unwrap();
    assert!(target.join("SYNTHETIC.md").is_file());
    let (images, labels) = d2l::read_bananas(&target, true, 64).unwrap();
    assert_eq!(images.size(), [6, 3, 64, 64]);
    assert_eq!(labels.size(), [6, 1, 5]);
    let l = values(&labels);
    assert!(l
        .chunks(5)
        .all(|r| r[0] == 0.0 && r[1] < r[3] && r[2] < r[4] && r[3] <= 1.0));
    let (val, val_labels) = d2l::read_bananas(&target, false, 256).unwrap();
    assert_eq!(val.size(), [2, 3, 256, 256]);
    assert_eq!(val_labels.size(), [2, 1, 5]);
}

#[test]
fn augmentations_change_what_they_should() {
    tch::manual_seed(4);
    let image = d2l::demo_scene(24, 32);
    assert_eq!(image.size(), [3, 24, 32]);
    let flipped = d2l::Augmentation::FlipLeftRight { p: 1.0 }.apply(&image);
    assert!(flipped
        .get(0)
        .get(5)
        .get(0)
        .equal(&image.get(0).get(5).get(31)));
    let flipped = d2l::Augmentation::FlipTopBottom { p: 1.0 }.apply(&image);
    assert!(flipped.get(1).get(0).equal(&image.get(1).get(23)));
    assert!(d2l::Augmentation::FlipLeftRight { p: 0.0 }
        .apply(&image)
        .equal(&image));
    let crop = d2l::Augmentation::ResizedCrop {
        size: [10, 12],
        scale: (0.1, 1.0),
        ratio: (0.5, 2.0),
    };
    assert_eq!(crop.apply(&image).size(), [3, 10, 12]);
    // A crop of the whole image resized to its own size is the image.
    assert!(max_abs_diff(&d2l::crop_resize(&image, 0, 0, 24, 32, [24, 32]), &image) < 1e-6);
    // Colour changes: factor 1 and a full turn of hue change nothing; a half turn twice does.
    assert!(max_abs_diff(&d2l::adjust_brightness(&image, 1.0), &image) < 1e-6);
    assert!(max_abs_diff(&d2l::adjust_contrast(&image, 1.0), &image) < 1e-6);
    assert!(max_abs_diff(&d2l::adjust_saturation(&image, 1.0), &image) < 1e-6);
    assert!(max_abs_diff(&d2l::adjust_hue(&image, 1.0), &image) < 1e-4);
    // Saturation 0 gives grey pixels; hue rotation keeps the luma.
    let grey = d2l::adjust_saturation(&image, 0.0);
    assert!(max_abs_diff(&grey.get(0), &grey.get(2)) < 1e-6);
    let pale = d2l::adjust_saturation(&image, 0.2);
    let turned = d2l::adjust_hue(&pale, 0.3);
    // Away from the clipping at 0 and 1, the rotation keeps the luma exactly.
    let luma_change = (d2l::grayscale(&turned) - d2l::grayscale(&pale))
        .abs()
        .mean(Kind::Float)
        .double_value(&[]);
    assert!(luma_change < 0.01, "{luma_change}");
    let batch = Tensor::stack(&[&image, &image], 0);
    let out = d2l::augment_batch(&batch, &[crop, d2l::Augmentation::FlipLeftRight { p: 0.5 }]);
    assert_eq!(out.size(), [2, 3, 10, 12]);
}

#[test]
fn boxes_are_drawn_where_they_belong() {
    let image = d2l::demo_scene(24, 32);
    let bboxes = boxes(&[3.0, 6.0, 15.0, 19.0, 19.0, 7.0, 27.0, 20.0]);
    let figure = d2l::show_bboxes(&image, &bboxes, &["house", "tree"], 2.0);
    let svg = figure.svg();
    assert_eq!(svg.matches("fill=\"none\" stroke=").count(), 2);
    assert!(svg.contains(">house</text>") && svg.contains(">tree</text>"));
    // The first box starts 3/32 of the picture's width into it.
    let image_tag = &svg[svg.find("<image ").unwrap()..];
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!(" {name}=\"");
        let start = tag.find(&key).unwrap() + key.len();
        tag[start..start + tag[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let (x, width) = (attr(image_tag, "x"), attr(image_tag, "width"));
    let rect_tag = &svg[svg.find("<rect x=").unwrap()..];
    let rects: Vec<&str> = svg
        .match_indices("fill=\"none\" stroke=")
        .map(|(i, _)| &svg[..i])
        .collect();
    let first_rect = &rects[0][rects[0].rfind("<rect ").unwrap()..];
    assert!(!rect_tag.is_empty());
    assert!((attr(first_rect, "x") - (x + 3.0 * width / 32.0)).abs() < 0.2);
    let grid = d2l::show_bboxes_grid(
        &Tensor::stack(&[&image, &image], 0),
        &[bboxes.narrow(0, 0, 1), bboxes.shallow_clone()],
        &[],
        1,
        2,
        1.0,
    );
    assert_eq!(grid.svg().matches("fill=\"none\" stroke=").count(), 3);
}

#[test]
fn fine_tuning_copies_every_variable_but_the_output_layer() {
    tch::manual_seed(5);
    let source = nn::VarStore::new(Device::Cpu);
    let _source_net = d2l::resnet18_rgb(&source.root(), 8);
    let target = nn::VarStore::new(Device::Cpu);
    let target_net = d2l::resnet18_rgb(&target.root(), 2);
    let copied = d2l::copy_variables(&target, &source, &["fc."]).unwrap();
    let source_vars = source.variables();
    let target_vars = target.variables();
    assert_eq!(copied, source_vars.len() - 2);
    for (name, value) in &target_vars {
        if name.starts_with("fc.") {
            assert_ne!(value.size(), source_vars[name].size());
        } else {
            assert!(value.equal(&source_vars[name]), "{name} was not copied");
        }
    }
    let out =
        tch::no_grad(|| target_net.forward_t(&Tensor::zeros([2, 3, 32, 32], cpu_float()), false));
    assert_eq!(out.size(), [2, 2]);
    // The output layer is in optimizer group 1 and gets the larger learning rate.
    let model = d2l::Model::new(d2l::Classification, 0.01, |p| d2l::resnet18_rgb(p, 2))
        .with_optimizer(d2l::OutputLayerLr {
            inner: nn::Sgd::default(),
            factor: 10.0,
        });
    let before: std::collections::HashMap<String, Tensor> = model
        .vs
        .variables()
        .into_iter()
        .map(|(name, value)| (name, value.detach().copy()))
        .collect();
    let mut optimizer = d2l::Module::configure_optimizers(&model).unwrap();
    let x = Tensor::randn([4, 3, 32, 32], cpu_float());
    let y = Tensor::from_slice(&[0i64, 1, 0, 1]);
    let loss = d2l::Module::training_step(&model, &(x, y));
    optimizer.zero_grad();
    loss.backward();
    let grads: Vec<(String, Tensor)> = ["fc.bias", "stem_conv.bias"]
        .iter()
        .map(|n| (n.to_string(), model.vs.variables()[*n].grad().copy()))
        .collect();
    optimizer.step();
    let after = model.vs.variables();
    for (name, grad) in grads {
        let step = &before[&name] - &after[&name];
        let lr = if name.starts_with("fc") { 0.1 } else { 0.01 };
        assert!(max_abs_diff(&step, &(grad * lr)) < 1e-6, "{name}");
    }
}

#[test]
fn food_stand_in_draws_every_class() {
    tch::manual_seed(6);
    let (images, labels) = d2l::food_images(16, 32);
    assert_eq!(images.size(), [16, 3, 32, 32]);
    assert_eq!(
        int_values(&labels.narrow(0, 0, 9)),
        [0, 1, 2, 3, 4, 5, 6, 7, 0]
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hotdog");
    d2l::data::write_stand_in(&target, "test", |d| d2l::write_hotdog_stand_in(d, 3, 2, 0)).unwrap();
    let (x, y, classes) = d2l::read_class_folders(&target.join("train"), 40).unwrap();
    assert_eq!(classes, ["hotdog", "not-hotdog"]);
    assert_eq!(x.size(), [6, 3, 40, 40]);
    assert_eq!(int_values(&y), [0, 0, 0, 1, 1, 1]);
}

#[test]
fn torchvision_weights_load_into_the_same_function() {
    tch::manual_seed(7);
    // A network in our layout whose convolutions (other than the shortcuts') have zero biases,
    // written out under torchvision's names with identity batch normalization on the shortcuts.
    let source = nn::VarStore::new(Device::Cpu);
    let source_net = d2l::resnet18_rgb(&source.root(), 1000);
    let mut named = Vec::new();
    tch::no_grad(|| {
        for (name, mut value) in source.variables() {
            if name.ends_with("running_mean") || name.ends_with("running_var") {
                let fresh = Tensor::rand(value.size(), cpu_float()) + 0.5;
                value.copy_(&fresh);
            }
            let parts: Vec<&str> = name.split('.').collect();
            let (layer, param) = (parts[0], parts[1]);
            let is_conv12 = layer == "stem_conv" || matches!(parts[1], "conv1" | "conv2");
            if is_conv12 && name.ends_with(".bias") {
                let _ = value.zero_();
                continue;
            }
            let torch_name = if let Some(rest) = layer.strip_prefix("stage") {
                let (stage, block) = rest.split_once("_block").unwrap();
                let block: usize = block.parse().unwrap();
                let prefix = format!("layer{stage}.{}", block - 1);
                match (parts[1], parts[2]) {
                    ("conv3", p) => {
                        let bn = format!("{prefix}.downsample.1");
                        if p == "bias" {
                            named.push((format!("{bn}.bias"), value.copy()));
                            let n = value.size()[0];
                            named.push((format!("{bn}.weight"), Tensor::ones([n], cpu_float())));
                            named.push((
                                format!("{bn}.running_mean"),
                                Tensor::zeros([n], cpu_float()),
                            ));
                            named.push((
                                format!("{bn}.running_var"),
                                Tensor::full([n], 1.0 - 1e-5, cpu_float()),
                            ));
                            continue;
                        }
                        format!("{prefix}.downsample.0.weight")
                    }
                    (module, p) => format!("{prefix}.{module}.{p}"),
                }
            } else {
                let module = match layer {
                    "stem_conv" => "conv1",
                    "stem_bn" => "bn1",
                    other => other,
                };
                format!("{module}.{param}")
            };
            named.push((torch_name, value.copy()));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet18.safetensors");
    Tensor::write_safetensors(&named, &path).unwrap();
    let target = nn::VarStore::new(Device::Cpu);
    let target_net = d2l::resnet18_rgb(&target.root(), 1000);
    let loaded = d2l::load_torchvision_resnet18(&target, &path).unwrap();
    assert_eq!(loaded, target.variables().len());
    let x = Tensor::randn([2, 3, 32, 32], cpu_float());
    let (a, b) = tch::no_grad(|| {
        (
            source_net.forward_t(&x, false),
            target_net.forward_t(&x, false),
        )
    });
    assert!(max_abs_diff(&a, &b) < 1e-4, "{}", max_abs_diff(&a, &b));
}
