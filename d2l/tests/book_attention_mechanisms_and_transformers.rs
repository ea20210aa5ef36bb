//! Behaviour of the attention items of chapter 11 (`chapter_attention-mechanisms-and-transformers`):
//! masked softmax on hand-computed cases, attention shapes and weights that sum to one, positional
//! encodings, the transformer's key/value cache and the vision transformer's shapes.

use d2l::{Decoder, Encoder};
use tch::nn::ModuleT;
use tch::{nn, Device, Kind, Tensor};

const CPU: (Kind, Device) = (Kind::Float, Device::Cpu);

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).reshape([-1])).unwrap()
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < tol, "{actual:?} vs {expected:?}");
    }
}

/// Every row (last axis) sums to one, and entries at key positions `>= len` are zero.
fn assert_rows_are_masked_distributions(weights: &Tensor, lens: &[i64]) {
    let size = weights.size();
    let (batch, queries, keys) = (size[0], size[1], size[2]);
    assert_eq!(lens.len() as i64, batch);
    let w = values(weights);
    for b in 0..batch {
        for q in 0..queries {
            let row =
                &w[((b * queries + q) * keys) as usize..((b * queries + q + 1) * keys) as usize];
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{row:?}");
            assert!(
                row[lens[b as usize] as usize..].iter().all(|&x| x == 0.0),
                "{row:?}"
            );
        }
    }
}

#[test]
fn masked_softmax_matches_hand_computed_values() {
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 1.0, 1.0, 1.0]).view([1, 2, 3]);
    // One length per example: both rows see the first two keys.
    let e = 1f64.exp() / (1f64.exp() + 2f64.exp());
    let per_example = d2l::masked_softmax(&x, Some(&Tensor::from_slice(&[2i64])));
    assert_close(
        &values(&per_example),
        &[e, 1.0 - e, 0.0, 0.5, 0.5, 0.0],
        1e-6,
    );
    // One length per query.
    let per_query = d2l::masked_softmax(&x, Some(&Tensor::from_slice(&[1i64, 3]).view([1, 2])));
    assert_close(
        &values(&per_query),
        &[1.0, 0.0, 0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
        1e-6,
    );
    // No lengths: a plain softmax over the last axis.
    let plain = d2l::masked_softmax(&x, None);
    let z = 1f64.exp() + 2f64.exp() + 3f64.exp();
    assert_close(
        &values(&plain.get(0).get(0)),
        &[1f64.exp() / z, 2f64.exp() / z, 3f64.exp() / z],
        1e-6,
    );
}

#[test]
fn dot_product_attention_averages_the_valid_values() {
    tch::manual_seed(0);
    let attention = d2l::DotProductAttention::new(0.0);
    let queries = Tensor::randn([2, 3, 4], CPU);
    // Equal keys: every valid key scores the same, so the output is the mean of the valid values.
    let keys = Tensor::ones([2, 10, 4], CPU);
    let vals = Tensor::arange(40, CPU).view([1, 10, 4]).repeat([2, 1, 1]);
    let lens = [2i64, 6];
    let output = attention.forward(
        &queries,
        &keys,
        &vals,
        Some(&Tensor::from_slice(&lens)),
        false,
    );
    assert_eq!(output.size(), [2, 3, 4]);
    let expected_first = vals.get(0).narrow(0, 0, 2).mean_dim(0, false, Kind::Float);
    let expected_second = vals.get(1).narrow(0, 0, 6).mean_dim(0, false, Kind::Float);
    assert_close(
        &values(&output.get(0).get(2)),
        &values(&expected_first),
        1e-4,
    );
    assert_close(
        &values(&output.get(1).get(0)),
        &values(&expected_second),
        1e-4,
    );
    let weights = attention.attention_weights().expect("weights are kept");
    assert_eq!(weights.size(), [2, 3, 10]);
    assert_rows_are_masked_distributions(&weights, &lens);
}

#[test]
fn additive_attention_weights_are_masked_distributions() {
    tch::manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let attention = d2l::AdditiveAttention::new(&vs.root(), 20, 2, 8, 0.1);
    let queries = Tensor::randn([2, 1, 20], CPU);
    let keys = Tensor::randn([2, 10, 2], CPU);
    let vals = Tensor::randn([2, 10, 4], CPU);
    let lens = [2i64, 6];
    let output = attention.forward(
        &queries,
        &keys,
        &vals,
        Some(&Tensor::from_slice(&lens)),
        false,
    );
    assert_eq!(output.size(), [2, 1, 4]);
    assert_rows_are_masked_distributions(&attention.attention_weights().unwrap(), &lens);
}

#[test]
fn multi_head_attention_keeps_shapes_and_normalizes_every_head() {
    tch::manual_seed(2);
    let vs = nn::VarStore::new(Device::Cpu);
    let (num_hiddens, num_heads) = (100, 5);
    let attention = d2l::MultiHeadAttention::new(&vs.root(), num_hiddens, num_heads, 0.5, false);
    let x = Tensor::randn([2, 4, num_hiddens], CPU);
    let y = Tensor::randn([2, 6, num_hiddens], CPU);
    let lens = [3i64, 2];
    let output = attention.forward(&x, &y, &y, Some(&Tensor::from_slice(&lens)), false);
    assert_eq!(output.size(), [2, 4, num_hiddens]);
    let weights = attention.attention_weights().unwrap();
    assert_eq!(weights.size(), [2 * num_heads, 4, 6]);
    // Heads of example b sit at rows b * num_heads .. (b + 1) * num_heads.
    let head_lens: Vec<i64> = lens
        .iter()
        .flat_map(|&l| std::iter::repeat_n(l, num_heads as usize))
        .collect();
    assert_rows_are_masked_distributions(&weights, &head_lens);
}

#[test]
fn positional_encoding_is_the_sinusoid_table() {
    let (d, max_len) = (8, 60);
    let encoding = d2l::PositionalEncoding::new(d, 0.0, max_len);
    let p = encoding.encoding();
    assert_eq!(p.size(), [1, max_len, d]);
    for (i, j) in [(0i64, 0i64), (5, 1), (59, 3)] {
        let angle = i as f64 / 10000f64.powf(2.0 * j as f64 / d as f64);
        let sin = p.double_value(&[0, i, 2 * j]);
        let cos = p.double_value(&[0, i, 2 * j + 1]);
        assert!(
            (sin - angle.sin()).abs() < 1e-5 && (cos - angle.cos()).abs() < 1e-5,
            "P[{i}, {j}]"
        );
    }
    // Without dropout, forward adds the first rows of the table.
    let x = Tensor::zeros([2, 7, d], CPU);
    let y = encoding.forward(&x, false);
    assert!(y
        .get(1)
        .allclose(&p.get(0).narrow(0, 0, 7), 1e-6, 1e-6, false));
}

#[test]
fn transformer_decodes_the_same_one_token_at_a_time_as_all_at_once() {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let (vocab, d, ffn, heads, blocks) = (30, 16, 32, 4, 2);
    let encoder =
        d2l::TransformerEncoder::new(&(vs.root() / "enc"), vocab, d, ffn, heads, blocks, 0.0);
    let decoder =
        d2l::TransformerDecoder::new(&(vs.root() / "dec"), vocab, d, ffn, heads, blocks, 0.0);
    let src = Tensor::randint(vocab, [2, 7], (Kind::Int64, Device::Cpu));
    let src_lens = Tensor::from_slice(&[7i64, 4]);
    let tgt = Tensor::randint(vocab, [2, 5], (Kind::Int64, Device::Cpu));
    let enc_outputs = encoder.encode(&src, &src_lens, false);
    assert_eq!(enc_outputs.size(), [2, 7, d]);
    assert_eq!(encoder.attention_weights().len(), blocks as usize);

    let (all_at_once, state) = decoder.decode(
        &tgt,
        decoder.init_state(enc_outputs.shallow_clone(), &src_lens),
        false,
    );
    assert_eq!(all_at_once.size(), [2, 5, vocab]);
    assert_eq!(state.num_decoded(), 5);
    let mut state = decoder.init_state(enc_outputs, &src_lens);
    let mut steps = Vec::new();
    for t in 0..5 {
        let (scores, next) = decoder.decode(&tgt.narrow(1, t, 1), state, false);
        state = next;
        steps.push(scores);
    }
    let one_at_a_time = Tensor::cat(&steps, 1);
    let gap = (&all_at_once - &one_at_a_time)
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        gap < 1e-4,
        "the key/value cache changes the result by {gap}"
    );
    // Self-attention and encoder-decoder attention of each block, rows summing to one.
    let weights = decoder.attention_weights();
    assert_eq!(weights.len(), 2 * blocks as usize);
    let sums = weights[1].sum_dim_intlist(-1, false, Kind::Float);
    assert!(sums.allclose(&Tensor::ones_like(&sums), 1e-5, 1e-5, false));
}

#[test]
fn vision_transformer_maps_images_to_class_scores() {
    tch::manual_seed(4);
    let vit = d2l::vit(&d2l::ViTConfig::default());
    let images = Tensor::rand([4, 1, 28, 28], CPU).to_device(vit.vs.device());
    let scores = vit.net.forward_t(&images, false);
    assert_eq!(scores.size(), [4, 10]);
    // 16 patches of 7x7 pixels, each projected to the model dimension, plus the class token.
    let vs = nn::VarStore::new(Device::Cpu);
    let patches = d2l::PatchEmbedding::new(&vs.root(), 28, 7, 1, 64);
    assert_eq!(
        patches.forward(&images.to_device(Device::Cpu)).size(),
        [4, 16, 64]
    );
}
