//! Behaviour of the NLP applications chapter: the IMDb and SNLI stand-ins parse with their
//! readers in the real formats and have balanced labels that follow from their grammars,
//! tokenization, truncation and padding, one-dimensional cross-correlation and max-over-time
//! pooling at hand-computed values, the shapes of decomposable attention, frozen word vectors,
//! and a small textCNN that learns the stand-in's sentiment in a few steps.

use d2l::prelude::*;
use tch::nn::ModuleT;

mod common;
use common::{quiet_trainer, snli_folder};

/// Writes the IMDb stand-in with `per_class` reviews per class and split into a fresh folder.
fn imdb_folder(per_class: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("aclImdb-synthetic");
    d2l::data::write_stand_in(&target, "test", |d| d2l::write_imdb_stand_in(d, per_class)).unwrap();
    (dir, target)
}

fn assert_close(got: &Tensor, expected: &[f32]) {
    let got = Vec::<f32>::try_from(got.flatten(0, -1)).unwrap();
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 1e-5, "{got:?} vs {expected:?}");
    }
}

#[test]
fn the_imdb_stand_in_parses_with_read_imdb_and_is_balanced() {
    let (_dir, folder) = imdb_folder(150);
    for is_train in [true, false] {
        let (reviews, labels) = d2l::read_imdb(&folder, is_train).unwrap();
        assert_eq!(reviews.len(), 300);
        assert_eq!(labels.iter().filter(|&&l| l == 1).count(), 150);
        assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 150);
        assert!(reviews.iter().all(|r| !r.is_empty() && !r.contains('\n')));
    }
    // File names carry the ratings: 7 to 10 for positive reviews, 1 to 4 for negative ones.
    for (label, ratings) in [("pos", 7..=10), ("neg", 1..=4)] {
        for entry in std::fs::read_dir(folder.join("train").join(label)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let rating: u32 = name
                .trim_end_matches(".txt")
                .split('_')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            assert!(ratings.contains(&rating), "{label}/{name}");
        }
    }
    assert_eq!(
        d2l::imdb_stand_in(20, true, 3),
        d2l::imdb_stand_in(20, true, 3)
    );
}

/// A lexicon rule (the sentiment adjectives of the grammar, flipped by "not" earlier in the same
/// sentence) recovers most labels: the labels follow from sentiment words and negation.
#[test]
fn the_imdb_stand_in_labels_follow_from_sentiment_words_and_negation() {
    let [positive_words, negative_words] = d2l::IMDB_STAND_IN_WORDS;
    let score = |review: &str| -> i32 {
        let mut total = 0;
        let mut negated = false;
        for token in d2l::tokenize_review(review) {
            match token.as_str() {
                "." | "!" => negated = false,
                "not" | "never" => negated = true,
                t => {
                    let polarity = if positive_words.contains(&t) {
                        1
                    } else if negative_words.contains(&t) {
                        -1
                    } else {
                        0
                    };
                    total += if negated { -polarity } else { polarity };
                }
            }
        }
        total
    };
    let mut correct = 0;
    for (positive, seed) in [(true, 1), (false, 2)] {
        for (review, _) in d2l::imdb_stand_in(500, positive, seed) {
            let s = score(&review);
            if (positive && s > 0) || (!positive && s < 0) {
                correct += 1;
            }
        }
    }
    // Each opinion agrees with its review with probability 0.85: about 85 % without ties.
    let accuracy = correct as f64 / 1_000.0;
    assert!(accuracy > 0.75, "lexicon accuracy {accuracy}");
}

#[test]
fn tokenize_review_splits_punctuation_and_removes_line_breaks() {
    assert_eq!(
        d2l::tokenize_review("The plot? Weak.<br /><br />But I didn't care: GREAT fun!"),
        ["the", "plot", "?", "weak", ".", "but", "i", "didn't", "care", ":", "great", "fun", "!"]
    );
    assert!(d2l::tokenize_review("  ").is_empty());
}

#[test]
fn truncate_pad_truncates_long_and_pads_short_lines() {
    assert_eq!(d2l::truncate_pad(&[5, 6, 7], 5, 0), [5, 6, 7, 0, 0]);
    assert_eq!(d2l::truncate_pad(&[5, 6, 7, 8, 9, 10], 4, 1), [5, 6, 7, 8]);
    assert_eq!(d2l::truncate_pad(&[5, 6], 2, 1), [5, 6]);
    assert_eq!(d2l::truncate_pad(&[], 3, 2), [2, 2, 2]);
}

#[test]
fn imdb_reviews_are_truncated_or_padded_to_num_steps() {
    tch::manual_seed(0);
    let (_dir, folder) = imdb_folder(100);
    let data = d2l::Imdb::from_folder(&folder, 16, 10).unwrap();
    assert_eq!(data.num_steps, 10);
    assert_eq!(data.splits.train.0.size(), [200, 10]);
    assert_eq!(data.splits.test.0.size(), [200, 10]);
    assert_eq!(data.splits.train.1.size(), [200]);
    assert_eq!(data.splits.train.1.sum(Kind::Int64).int64_value(&[]), 100);
    let pad = data.vocab.index("<pad>") as i64;
    // A short review is padded after its tokens.
    let short = Vec::<i64>::try_from(data.encode("Great movie!").flatten(0, -1)).unwrap();
    let expected_start: Vec<i64> = ["great", "movie", "!"]
        .iter()
        .map(|t| data.vocab.index(t) as i64)
        .collect();
    assert_eq!(&short[..3], &expected_start[..]);
    assert!(short[3..].iter().all(|&i| i == pad));
    // A long review keeps its first num_steps tokens.
    let review = "I saw this movie on a rainy Sunday afternoon. The acting was great.";
    let tokens = d2l::tokenize_review(review);
    let long = Vec::<i64>::try_from(data.encode(review).flatten(0, -1)).unwrap();
    let expected: Vec<i64> = tokens[..10]
        .iter()
        .map(|t| data.vocab.index(t) as i64)
        .collect();
    assert_eq!(long, expected);
    // Asked for more steps than the longest review has, the data module pads to that review.
    let data = d2l::Imdb::from_folder(&folder, 16, 10_000).unwrap();
    let longest = ["train", "test"]
        .iter()
        .flat_map(|split| {
            let (reviews, _) = d2l::read_imdb(&folder, *split == "train").unwrap();
            reviews.into_iter().map(|r| d2l::tokenize_review(&r).len())
        })
        .max()
        .unwrap();
    assert_eq!(data.num_steps, longest);
    let rows_without_pad = data
        .splits
        .train
        .0
        .ne(pad)
        .all_dim(1, false)
        .sum(Kind::Int64)
        .int64_value(&[]);
    assert!(
        rows_without_pad < 200,
        "most reviews are shorter than the longest one"
    );
}

#[test]
fn the_snli_stand_in_parses_with_read_snli_and_is_balanced() {
    let (_dir, folder) = snli_folder(3_000, 300);
    let text = std::fs::read_to_string(folder.join("snli_1.0_train.txt")).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("gold_label\tsentence1_binary_parse"));
    assert!(lines.all(|line| line.split('\t').count() == 14));
    assert!(folder.join("snli_1.0_dev.txt").is_file());
    let (premises, hypotheses, labels) = d2l::read_snli(&folder, true).unwrap();
    // About 1 % of the pairs have no gold label and are left out.
    assert!((2_900..3_000).contains(&labels.len()), "{}", labels.len());
    assert_eq!(premises.len(), labels.len());
    assert_eq!(hypotheses.len(), labels.len());
    for class in 0..3 {
        let share = labels.iter().filter(|&&l| l == class).count() as f64 / labels.len() as f64;
        assert!((0.3..0.37).contains(&share), "label {class}: {share}");
    }
    assert!(premises
        .iter()
        .all(|p| p == &p.to_lowercase() && !p.contains('(')));
    // The relations follow from the grammar: "nobody" only contradicts, added adjectives are
    // neutral, and an entailed hypothesis never mentions a purpose.
    for ((premise, hypothesis), &label) in premises.iter().zip(&hypotheses).zip(&labels) {
        let words: Vec<&str> = hypothesis.split(' ').collect();
        if words.contains(&"nobody") {
            assert_eq!(label, 1, "{premise} / {hypothesis}");
        }
        if ["tall", "famous", "tired", "rich"]
            .iter()
            .any(|a| words.contains(a))
        {
            assert_eq!(label, 2, "{premise} / {hypothesis}");
        }
        if label == 0 {
            assert!(
                !hypothesis.contains("to earn money"),
                "{premise} / {hypothesis}"
            );
        }
    }
    let (_, _, test_labels) = d2l::read_snli(&folder, false).unwrap();
    assert!((290..=300).contains(&test_labels.len()));
}

#[test]
fn extract_text_removes_the_brackets_of_a_binary_parse() {
    assert_eq!(
        d2l::extract_text("( ( A man ) ( ( is ( playing ( a guitar ) ) ) . ) )"),
        "a man is playing a guitar ."
    );
    assert_eq!(
        d2l::snli_binary_parse("a man is sleeping"),
        "( ( A man ) ( ( is sleeping ) . ) )"
    );
    assert_eq!(
        d2l::extract_text(&d2l::snli_binary_parse("a young girl is reading a book")),
        "a young girl is reading a book ."
    );
}

#[test]
fn snli_pairs_are_stacked_and_padded_to_num_steps() {
    tch::manual_seed(0);
    let (_dir, folder) = snli_folder(600, 60);
    let data = d2l::Snli::from_folder(&folder, 32, 6).unwrap();
    let n = data.splits.train.1.size()[0];
    assert_eq!(data.splits.train.0.size(), [n, 2, 6]);
    let labels = Vec::<i64>::try_from(&data.splits.train.1).unwrap();
    assert!(labels.iter().all(|l| (0..3).contains(l)));
    let pad = data.vocab.index("<pad>") as i64;
    let x = Vec::<i64>::try_from(
        data.encode(&["A", "man", "is", "sleeping"], &["nobody"])
            .flatten(0, -1),
    )
    .unwrap();
    let index = |w: &str| data.vocab.index(w) as i64;
    assert_eq!(
        x,
        [
            index("a"),
            index("man"),
            index("is"),
            index("sleeping"),
            pad,
            pad,
            index("nobody"),
            pad,
            pad,
            pad,
            pad,
            pad
        ]
    );
    let (xb, yb) = data.splits.train_dataloader().next().unwrap();
    assert_eq!(xb.size(), [32, 2, 6]);
    assert_eq!(yb.size(), [32]);
    // More steps than the longest sentence: padded to the longest one.
    let data = d2l::Snli::from_folder(&folder, 32, 50).unwrap();
    assert!(data.num_steps < 50 && data.num_steps >= 4);
}

#[test]
fn corr1d_matches_hand_computed_values() {
    let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let k = Tensor::from_slice(&[1.0f32, 2.0]);
    assert_close(&d2l::corr1d(&x, &k), &[2.0, 5.0, 8.0, 11.0, 14.0, 17.0]);
    let x = Tensor::from_slice(&[
        0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, //
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, //
        2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0,
    ])
    .view([3, 7]);
    let k = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, -1.0, -3.0]).view([3, 2]);
    let expected = [2.0, 8.0, 14.0, 20.0, 26.0, 32.0];
    assert_close(&d2l::corr1d_multi_in(&x, &k), &expected);
    // libtorch's convolution computes the same cross-correlation.
    let conv = x
        .unsqueeze(0)
        .conv1d(&k.unsqueeze(0), None::<Tensor>, [1], [0], [1], 1);
    assert_eq!(conv.size(), [1, 1, 6]);
    assert_close(&conv, &expected);
}

#[test]
fn max_over_time_keeps_the_largest_value_of_each_channel() {
    let y = Tensor::from_slice(&[
        1.0f32, 5.0, 2.0, // example 0, channel 0
        -1.0, -3.0, -0.5, // example 0, channel 1
        4.0, 4.0, 0.0, // example 1, channel 0
        0.0, 7.5, 7.0, // example 1, channel 1
    ])
    .view([2, 2, 3]);
    let z = d2l::max_over_time(&y);
    assert_eq!(z.size(), [2, 2]);
    assert_close(&z, &[5.0, -0.5, 4.0, 7.5]);
}

#[test]
fn decomposable_attention_has_the_shapes_of_the_book() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = d2l::DecomposableAttention::new(&vs.root(), 30, 8, 16);
    // Premises of 4 tokens, hypotheses of 6.
    let a = Tensor::randn([2, 4, 8], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([2, 6, 8], (Kind::Float, Device::Cpu));
    let (beta, alpha) = net.attend.forward(&a, &b, false);
    assert_eq!(beta.size(), [2, 4, 8]);
    assert_eq!(alpha.size(), [2, 6, 8]);
    let (v_a, v_b) = net.compare.forward(&a, &b, &beta, &alpha, false);
    assert_eq!(v_a.size(), [2, 4, 16]);
    assert_eq!(v_b.size(), [2, 6, 16]);
    assert_eq!(net.aggregate.forward(&v_a, &v_b, false).size(), [2, 3]);
    let x = Tensor::randint(30, [5, 2, 7], (Kind::Int64, Device::Cpu));
    assert_eq!(net.forward_t(&x, false).size(), [5, 3]);
    // The alignments are weighted averages: hypotheses whose tokens are all the same vector v
    // align every premise token with v.
    let v = Tensor::randn([2, 1, 8], (Kind::Float, Device::Cpu));
    let (beta, _) = net.attend.forward(&a, &v.expand([2, 6, 8], false), false);
    let diff = (beta - v).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn frozen_word_vectors_do_not_train() {
    tch::manual_seed(0);
    let pretrained = Tensor::randn([12, 6], (Kind::Float, Device::Cpu));
    let model = d2l::sentiment_birnn(&pretrained, 5, 1, 0.1);
    let x = Tensor::randint(12, [8, 4], (Kind::Int64, Device::Cpu));
    assert_eq!(model.net.forward_t(&x, false).size(), [8, 2]);
    // Only the LSTM and the output layer are trainable: 2 directions of
    // 4 * 5 * (6 + 5 + 2) and a 20 x 2 layer with bias.
    assert_eq!(model.num_parameters(), 2 * 4 * 5 * (6 + 5 + 2) + 20 * 2 + 2);
    let y = Tensor::randint(2, [8], (Kind::Int64, Device::Cpu));
    let mut opt = model.configure_optimizers().unwrap();
    let loss = model.training_step(&(x, y));
    opt.zero_grad();
    loss.backward();
    opt.step();
    assert_eq!(model.net.embedding, pretrained);
    // textCNN trains one copy of the vectors and keeps the other.
    let cnn = d2l::sentiment_textcnn(&pretrained, &[2, 3], &[4, 4], 0.1);
    assert_eq!(cnn.net.constant_embedding, pretrained);
    assert_eq!(cnn.net.embedding.ws, pretrained);
    assert_eq!(
        cnn.num_parameters(),
        12 * 6 + (12 * 2 + 1) * 4 + (12 * 3 + 1) * 4 + 8 * 2 + 2
    );
}

/// A small textCNN (random 32-dimensional word vectors, kernels of widths 3 and 4 with 16
/// channels each) trained for 4 epochs of 19 minibatches on 1,200 stand-in reviews classifies
/// 400 test reviews with an accuracy above 0.8 (chance: 0.5).
#[test]
fn a_small_textcnn_learns_the_stand_in_sentiment() {
    tch::manual_seed(0);
    let (_dir, folder) = imdb_folder(600);
    let mut data = d2l::Imdb::from_folder(&folder, 64, 60).unwrap();
    // 400 of the 1,200 test reviews are enough.
    let keep = Tensor::randperm(1_200, (Kind::Int64, Device::Cpu)).narrow(0, 0, 400);
    data.splits.test = (
        data.splits.test.0.index_select(0, &keep),
        data.splits.test.1.index_select(0, &keep),
    );
    let pretrained = Tensor::randn([data.vocab.len() as i64, 32], (Kind::Float, Device::Cpu)) * 0.5;
    let mut model = d2l::sentiment_textcnn(&pretrained, &[3, 4], &[16, 16], 0.01);
    let history = quiet_trainer(4).fit(&mut model, &data.splits).unwrap();
    let accuracy = history.last().unwrap().val_metric("acc").unwrap();
    eprintln!("textCNN test accuracy: {accuracy:.3}");
    assert!(accuracy > 0.8, "{accuracy}");
    assert_eq!(
        d2l::predict_sentiment(
            &model,
            &data,
            "I would recommend it to anyone. A great film!"
        ),
        "positive"
    );
    assert_eq!(
        d2l::predict_sentiment(&model, &data, "It is the worst movie I have seen. Awful."),
        "negative"
    );
}
