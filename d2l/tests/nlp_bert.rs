//! Behaviour of the BERT half of the NLP pretraining chapter: BERT input sequences and segment
//! ids checked by hand, the shapes of the encoder and the two heads, the 80/10/10 replacement rule
//! of masked language modeling and the share of real next sentences over many draws, padding and
//! the (x, y) packing of a minibatch, the WikiText-2 stand-in in WikiText's format, and a few
//! steps of pretraining that lower the masked language modeling loss.

use d2l::data::TensorGroup;
use d2l::prelude::*;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

fn small_config(vocab_size: i64) -> d2l::BERTConfig {
    d2l::BERTConfig {
        vocab_size,
        num_hiddens: 32,
        ffn_num_hiddens: 64,
        num_heads: 2,
        num_blks: 2,
        dropout: 0.0,
        max_len: 100,
    }
}

#[test]
fn tokens_and_segments_of_one_text_and_of_a_pair() {
    let (tokens, segments) = d2l::get_tokens_and_segments(&["this", "movie", "is", "great"], None);
    assert_eq!(tokens, ["<cls>", "this", "movie", "is", "great", "<sep>"]);
    assert_eq!(segments, [0, 0, 0, 0, 0, 0]);

    let (tokens, segments) = d2l::get_tokens_and_segments(
        &["this", "movie", "is", "great"],
        Some(&["i", "like", "it"][..]),
    );
    assert_eq!(
        tokens,
        ["<cls>", "this", "movie", "is", "great", "<sep>", "i", "like", "it", "<sep>"]
    );
    assert_eq!(segments, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);

    // Owned strings work the same way.
    let a = words("a b");
    let b = words("c");
    let (tokens, segments) = d2l::get_tokens_and_segments(&a, Some(&b[..]));
    assert_eq!(tokens, ["<cls>", "a", "b", "<sep>", "c", "<sep>"]);
    assert_eq!(segments, [0, 0, 0, 0, 1, 1]);
}

#[test]
fn bert_outputs_have_the_shapes_of_the_book() {
    tch::manual_seed(0);
    let config = small_config(50);
    let vs = nn::VarStore::new(Device::Cpu);
    let bert = d2l::BERTModel::new(&vs.root(), &config);
    let tokens = Tensor::randint(50, [3, 9], (Kind::Int64, Device::Cpu));
    let segments = Tensor::zeros([3, 9], (Kind::Int64, Device::Cpu));
    let valid_lens = Tensor::from_slice(&[9i64, 5, 7]);
    let positions = Tensor::from_slice(&[1i64, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]).view([3, 4]);
    let (encoded, mlm, nsp) = bert.forward(
        &tokens,
        &segments,
        Some(&valid_lens),
        Some(&positions),
        false,
    );
    assert_eq!(encoded.size(), [3, 9, 32]);
    assert_eq!(mlm.expect("positions given").size(), [3, 4, 50]);
    assert_eq!(nsp.size(), [3, 2]);
    let (_, no_mlm, _) = bert.forward(&tokens, &segments, None, None, false);
    assert!(no_mlm.is_none());

    // The MLM head reads exactly the encoder rows at the prediction positions.
    let picked = bert.mlm.forward(&encoded, &positions);
    let by_hand = bert.mlm.forward(
        &encoded.narrow(1, 1, 4),
        &Tensor::from_slice(&[0i64, 1, 2, 3])
            .view([1, 4])
            .repeat([3, 1]),
    );
    assert!(picked.allclose(&by_hand, 1e-5, 1e-6, false));
}

#[test]
fn segment_embeddings_change_the_encoding() {
    tch::manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder = d2l::BERTEncoder::new(&vs.root(), &small_config(20));
    let tokens = Tensor::from_slice(&[3i64, 5, 6, 4, 7, 4]).view([1, 6]);
    let seg_a = Tensor::from_slice(&[0i64, 0, 0, 0, 1, 1]).view([1, 6]);
    let seg_b = Tensor::zeros([1, 6], (Kind::Int64, Device::Cpu));
    let x_a = encoder.forward(&tokens, &seg_a, None, false);
    let x_b = encoder.forward(&tokens, &seg_b, None, false);
    assert_eq!(x_a.size(), [1, 6, 32]);
    assert!(!x_a.allclose(&x_b, 1e-4, 1e-4, false));
}

#[test]
fn mlm_replacements_follow_the_80_10_10_rule() {
    let tokens: Vec<String> = (0..40_000).map(|i| format!("w{i}")).collect();
    let vocab = d2l::Vocab::new(&tokens, 1, &["<mask>"]);
    let positions: Vec<usize> = (0..tokens.len()).collect();
    let mut rng = d2l::SplitMix64::new(3);
    let num_preds = 20_000;
    let (masked, chosen) =
        d2l::replace_mlm_tokens(&tokens, &positions, num_preds, &vocab, &mut rng);
    assert_eq!(chosen.len(), num_preds);
    assert!(
        chosen.windows(2).all(|w| w[0].0 < w[1].0),
        "positions sorted and distinct"
    );
    let (mut as_mask, mut kept, mut random) = (0usize, 0usize, 0usize);
    for (position, original) in &chosen {
        assert_eq!(
            &tokens[*position], original,
            "labels are the original tokens"
        );
        match masked[*position].as_str() {
            "<mask>" => as_mask += 1,
            t if t == original.as_str() => kept += 1,
            _ => random += 1,
        }
    }
    let n = num_preds as f64;
    // Binomial standard deviations: 0.0028 for 0.8, 0.0021 for 0.1; allow five.
    assert!((as_mask as f64 / n - 0.8).abs() < 0.015, "mask {as_mask}");
    assert!((kept as f64 / n - 0.1).abs() < 0.011, "kept {kept}");
    assert!((random as f64 / n - 0.1).abs() < 0.011, "random {random}");
    // Positions that were not chosen are untouched.
    let chosen_set: std::collections::HashSet<usize> = chosen.iter().map(|(p, _)| *p).collect();
    assert!((0..tokens.len())
        .filter(|p| !chosen_set.contains(p))
        .all(|p| masked[p] == tokens[p]));
}

#[test]
fn mlm_data_predicts_fifteen_percent_and_never_special_tokens() {
    let text = words("the crane is flying over the lake and the heron eats frogs near the marsh");
    let vocab = d2l::Vocab::new(&text, 1, &["<pad>", "<mask>", "<cls>", "<sep>"]);
    let (tokens, _) = d2l::get_tokens_and_segments(&text[..7], Some(&text[7..]));
    let mut rng = d2l::SplitMix64::new(11);
    for _ in 0..200 {
        let (ids, positions, labels) = d2l::get_mlm_data_from_tokens(&tokens, &vocab, &mut rng);
        assert_eq!(ids.len(), tokens.len());
        // round(0.15 * 18) = 3
        assert_eq!(positions.len(), 3);
        assert_eq!(labels.len(), 3);
        for (&p, &label) in positions.iter().zip(&labels) {
            let p = p as usize;
            assert!(
                p != 0 && tokens[p] != "<sep>",
                "special tokens are never predicted"
            );
            assert_eq!(label, vocab.index(&tokens[p]) as i64);
        }
    }
    // A one-token sequence still gets one prediction.
    let (tokens, _) = d2l::get_tokens_and_segments(&["lake"], None);
    let (_, positions, _) = d2l::get_mlm_data_from_tokens(&tokens, &vocab, &mut rng);
    assert_eq!(positions, [1]);
}

#[test]
fn next_sentence_labels_are_about_half_true_and_real_pairs_are_consecutive() {
    let paragraphs: Vec<Vec<Vec<String>>> = (0..50)
        .map(|p| (0..5).map(|s| words(&format!("p{p} s{s} x"))).collect())
        .collect();
    let mut rng = d2l::SplitMix64::new(5);
    let mut labels = Vec::new();
    for paragraph in &paragraphs {
        for (tokens, segments, is_next) in
            d2l::get_nsp_data_from_paragraph(paragraph, &paragraphs, 64, &mut rng)
        {
            assert_eq!(tokens.len(), 9);
            assert_eq!(segments, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
            if is_next {
                // Same paragraph, next sentence.
                let first: usize = tokens[2][1..].parse().unwrap();
                let second: usize = tokens[6][1..].parse().unwrap();
                assert_eq!(tokens[1], tokens[5]);
                assert_eq!(second, first + 1);
            }
            labels.push(is_next);
        }
    }
    assert_eq!(labels.len(), 200);
    let share = labels.iter().filter(|&&b| b).count() as f64 / labels.len() as f64;
    // sd = 0.035 for 200 draws.
    assert!((share - 0.5).abs() < 0.15, "{share}");

    // Pairs longer than max_len are left out.
    let long = d2l::get_nsp_data_from_paragraph(&paragraphs[0], &paragraphs, 8, &mut rng);
    assert!(long.is_empty());
}

#[test]
fn padding_and_packing_round_trip() {
    let vocab = d2l::Vocab::new(&["a", "b"], 1, &["<pad>", "<mask>", "<cls>", "<sep>"]);
    let examples = [
        d2l::BertExample {
            token_ids: vec![3, 5, 2, 4],
            segments: vec![0, 0, 0, 0],
            pred_positions: vec![2],
            mlm_labels: vec![6],
            is_next: true,
        },
        d2l::BertExample {
            token_ids: vec![3, 5, 4, 6, 4],
            segments: vec![0, 0, 0, 1, 1],
            pred_positions: vec![1],
            mlm_labels: vec![5],
            is_next: false,
        },
    ];
    // max_len 10 -> round(1.5) = 2 prediction slots.
    let batch = d2l::BertBatch::pad(&examples, 10, &vocab);
    let pad = vocab.index("<pad>") as i64;
    assert_eq!(pad, 1);
    assert_eq!(
        Vec::<i64>::try_from(batch.tokens.get(0)).unwrap(),
        [3, 5, 2, 4, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(Vec::<i64>::try_from(&batch.valid_lens).unwrap(), [4, 5]);
    assert_eq!(batch.pred_positions.size(), [2, 2]);
    assert_eq!(
        Vec::<f32>::try_from(batch.mlm_weights.get(1)).unwrap(),
        [1.0, 0.0]
    );
    assert_eq!(Vec::<i64>::try_from(&batch.nsp_labels).unwrap(), [1, 0]);

    let tensors: Vec<Tensor> = batch
        .tensors()
        .into_iter()
        .map(Tensor::shallow_clone)
        .collect();
    let (x, y) = d2l::BertBatch::from_tensors(tensors).into_batch();
    assert_eq!(x.size(), [2, 2 * 10 + 1 + 2]);
    assert_eq!(y.size(), [2, 2 * 2 + 1]);
    let back = d2l::BertBatch::from_batch(&(x, y));
    for (a, b) in batch.tensors().into_iter().zip(back.tensors()) {
        assert_eq!(a.size(), b.size());
        assert!(a.to_kind(Kind::Double).equal(&b.to_kind(Kind::Double)));
    }
}

#[test]
fn the_wikitext2_stand_in_has_paragraphs_of_sentences_in_wikitext_format() {
    assert_eq!(
        d2l::wikitext2_stand_in(20, 4),
        d2l::wikitext2_stand_in(20, 4)
    );
    let text = d2l::wikitext2_stand_in(200, 4);
    assert!(text
        .lines()
        .any(|l| l.starts_with(" = ") && l.ends_with(" = ")));
    let dir = std::env::temp_dir().join(format!("d2l-bert-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    d2l::data::write_stand_in(&dir, "test", d2l::write_wikitext2_stand_in).unwrap();
    let paragraphs = d2l::read_wiki_file(&dir.join("wiki.train.tokens")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(paragraphs.len() > 3_000, "{} paragraphs", paragraphs.len());
    for paragraph in &paragraphs {
        assert!(paragraph.len() >= 2);
        for sentence in paragraph {
            assert_eq!(sentence, &sentence.to_lowercase());
            assert!(!sentence.trim().is_empty());
        }
    }
}

#[test]
fn a_few_steps_of_pretraining_lower_the_mlm_loss() {
    tch::manual_seed(2);
    let text = d2l::wikitext2_stand_in(400, 9);
    let paragraphs: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| l.split(" . ").count() >= 2)
        .map(|l| l.split(" . ").map(String::from).collect())
        .collect();
    let data = d2l::WikiText2::from_paragraphs(&paragraphs, 64, 48);
    let share = data
        .examples
        .nsp_labels
        .to_kind(Kind::Double)
        .mean(Kind::Double)
        .double_value(&[]);
    assert!(
        (share - 0.5).abs() < 0.1,
        "share of real next sentences {share}"
    );

    let vs = nn::VarStore::new(Device::Cpu);
    let mut config = small_config(data.vocab.len() as i64);
    config.num_hiddens = 64;
    config.ffn_num_hiddens = 128;
    let net = d2l::BERTModel::new(&vs.root(), &config);
    d2l::init_bert_weights(&vs, 0.02);
    let losses = d2l::train_bert(&net, &vs, &data, 0.005, 40).unwrap();
    assert_eq!(losses.len(), 40);
    let mean = |range: std::ops::Range<usize>| {
        losses[range.clone()]
            .iter()
            .map(|(mlm, _)| mlm)
            .sum::<f64>()
            / range.len() as f64
    };
    let (first, last) = (mean(0..5), mean(35..40));
    eprintln!("MLM loss: first steps {first:.3}, last steps {last:.3}");
    assert!(last < 0.8 * first, "MLM loss {first:.3} -> {last:.3}");
    assert!(losses.iter().all(|(m, n)| m.is_finite() && n.is_finite()));
}

#[test]
fn bert_initialization_draws_small_weights_and_zero_biases() {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = d2l::BERTModel::new(&vs.root(), &small_config(500));
    d2l::init_bert_weights(&vs, 0.02);
    let variables = vs.variables();
    for (name, tensor) in &variables {
        if name.ends_with("bias") {
            assert_eq!(tensor.abs().max().double_value(&[]), 0.0, "{name}");
        } else if tensor.dim() >= 2 && tensor.numel() >= 1_000 {
            let std = tensor.std(true).double_value(&[]);
            assert!((std - 0.02).abs() < 0.003, "{name}: std {std}");
        } else if tensor.dim() == 1 {
            // Layer normalization keeps its scale of 1.
            assert_eq!(tensor.min().double_value(&[]), 1.0, "{name}");
        }
    }
    assert!(variables.contains_key("encoder.pos_embedding"));
}
