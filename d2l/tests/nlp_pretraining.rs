//! Behaviour of the word-embedding half of the NLP pretraining chapter: subsampling against its
//! formula, context windows, noise words, padded batches, the skip-gram network and its masked
//! loss at hand-computed values, byte pair encoding on a hand-worked example, the GloVe stand-in's
//! analogies, and a skip-gram model trained on the PTB stand-in whose nearest neighbours are the
//! words the stand-in's grammar put together.

use std::collections::{HashMap, HashSet};

use d2l::prelude::*;
use tch::nn::ModuleT;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

#[test]
fn keep_probability_follows_the_formula() {
    // min(1, sqrt(t / f)) with f = count / num_tokens.
    let cases = [
        (50_770, 887_521, 1e-4),
        (45, 887_521, 1e-4),
        (900, 1_000, 1e-2),
    ];
    for (count, num_tokens, t) in cases {
        let f = count as f64 / num_tokens as f64;
        let expected = (t / f).sqrt().min(1.0);
        let got = d2l::keep_probability(count, num_tokens, t);
        assert!(
            (got - expected).abs() < 1e-12,
            "{count}/{num_tokens}: {got} vs {expected}"
        );
    }
    // "the" in the real PTB keeps about 4 % of its occurrences; a rare word keeps all.
    assert!((d2l::keep_probability(50_770, 887_521, 1e-4) - 0.0418).abs() < 1e-3);
    assert_eq!(d2l::keep_probability(45, 887_521, 1e-4), 1.0);
}

#[test]
fn subsampling_keeps_words_at_the_rates_of_the_formula_and_drops_unk() {
    tch::manual_seed(0);
    // 9000 × "a", 1000 × "b", 100 distinct rare words and 50 <unk>, in sentences of 10.
    let mut tokens: Vec<String> = Vec::new();
    tokens.extend(std::iter::repeat_n("a".to_string(), 9_000));
    tokens.extend(std::iter::repeat_n("b".to_string(), 1_000));
    tokens.extend((0..100).map(|i| format!("rare{i}")));
    tokens.extend(std::iter::repeat_n("<unk>".to_string(), 50));
    // Interleave deterministically so that every sentence mixes the words.
    let n = tokens.len();
    let shuffled: Vec<String> = (0..n).map(|i| tokens[(i * 7919) % n].clone()).collect();
    let sentences: Vec<Vec<String>> = shuffled.chunks(10).map(|c| c.to_vec()).collect();
    let all: Vec<&str> = shuffled.iter().map(String::as_str).collect();
    let vocab = d2l::Vocab::new(&all, 1, &[]);
    let t = 1e-2;
    let (kept, counter) = d2l::subsample(&sentences, &vocab, t);
    assert_eq!(counter["a"], 9_000);
    assert_eq!(counter["b"], 1_000);
    assert!(!counter.contains_key("<unk>"));
    let num_tokens = 10_100;
    let count = |w: &str| kept.iter().flatten().filter(|x| x.as_str() == w).count() as f64;
    assert_eq!(count("<unk>"), 0.0);
    for (word, total) in [("a", 9_000.0), ("b", 1_000.0)] {
        let p = d2l::keep_probability(total as usize, num_tokens, t);
        let (mean, sd) = (total * p, (total * p * (1.0 - p)).sqrt());
        let got = count(word);
        assert!(
            (got - mean).abs() < 5.0 * sd,
            "{word}: kept {got}, expected {mean:.0} ± {sd:.0}"
        );
    }
    let rare_kept = (0..100).map(|i| count(&format!("rare{i}"))).sum::<f64>();
    assert_eq!(rare_kept, 100.0, "words rarer than t are never dropped");
}

#[test]
fn contexts_lie_within_the_window_of_the_same_sentence() {
    tch::manual_seed(1);
    let corpus: Vec<Vec<i64>> = vec![(0..30).collect(), (100..103).collect(), vec![200]];
    let max_window = 3;
    let (centers, contexts) = d2l::get_centers_and_contexts(&corpus, max_window);
    // Every word of the sentences with at least two words is a center, in order.
    let expected_centers: Vec<i64> = (0..30).chain(100..103).collect();
    assert_eq!(centers, expected_centers);
    let mut window_sizes = HashSet::new();
    for (&center, context) in centers.iter().zip(&contexts) {
        let line = corpus.iter().find(|l| l.contains(&center)).unwrap();
        assert!(!context.is_empty());
        // The context is the contiguous window of some size w in 1..=3 around the center,
        // cut at the sentence boundaries, without the center itself.
        let w = context.iter().map(|c| (c - center).abs()).max().unwrap();
        assert!(
            (1..=max_window as i64).contains(&w),
            "center {center}: {context:?}"
        );
        let expected: Vec<i64> = line
            .iter()
            .copied()
            .filter(|&x| x != center && (x - center).abs() <= w)
            .collect();
        // A window that reaches past both ends of a short sentence may have a larger size than
        // its farthest word shows; the context is then the whole rest of the sentence.
        assert_eq!(context, &expected, "center {center}");
        if line.len() == 30 && (3..27).contains(&center) {
            window_sizes.insert(w);
        }
    }
    assert_eq!(
        window_sizes.len(),
        max_window,
        "all window sizes occur: {window_sizes:?}"
    );
}

#[test]
fn random_generator_draws_in_proportion_to_the_weights() {
    tch::manual_seed(2);
    let weights = [1.0, 3.0, 6.0];
    let mut counts = [0usize; 3];
    for i in d2l::RandomGenerator::new(&weights).take(50_000) {
        counts[i] += 1;
    }
    for (count, weight) in counts.iter().zip(weights) {
        let share = *count as f64 / 50_000.0;
        assert!((share - weight / 10.0).abs() < 0.01, "{counts:?}");
    }
}

#[test]
fn negatives_never_include_the_context_words() {
    tch::manual_seed(3);
    let tokens: Vec<String> = (0..10)
        .flat_map(|w| std::iter::repeat_n(format!("w{w}"), 10 + 20 * w))
        .collect();
    let vocab = d2l::Vocab::new(&tokens, 1, &[]);
    let mut counter = HashMap::new();
    for t in &tokens {
        *counter.entry(t.clone()).or_insert(0) += 1;
    }
    // Contexts that cover most of the vocabulary make collisions frequent.
    let all_contexts: Vec<Vec<i64>> = (0..200)
        .map(|i| (1..=10).filter(|w| (w + i) % 4 != 0).collect())
        .collect();
    let k = 5;
    let negatives = d2l::get_negatives(&all_contexts, &vocab, &counter, k);
    assert_eq!(negatives.len(), all_contexts.len());
    for (context, noise) in all_contexts.iter().zip(&negatives) {
        assert_eq!(noise.len(), k * context.len());
        for n in noise {
            assert!(
                !context.contains(n),
                "noise word {n} is a context word of {context:?}"
            );
            assert!(
                (1..vocab.len() as i64).contains(n),
                "index {n} outside 1..{}",
                vocab.len()
            );
        }
    }
}

#[test]
fn batches_are_padded_with_masks_and_labels_and_round_trip() {
    let batch = d2l::SkipGramBatch::new(
        &[1, 1],
        &[vec![2, 2], vec![3, 3, 3]],
        &[vec![3, 3], vec![2, 2, 2]],
    );
    let rows = |t: &Tensor| -> Vec<Vec<f64>> {
        (0..t.size()[0])
            .map(|i| Vec::<f64>::try_from(t.get(i).to_kind(Kind::Double)).unwrap())
            .collect()
    };
    assert_eq!(batch.centers.size(), [2, 1]);
    assert_eq!(
        rows(&batch.contexts_negatives),
        [
            vec![2.0, 2.0, 3.0, 3.0, 0.0, 0.0],
            vec![3.0, 3.0, 3.0, 2.0, 2.0, 2.0]
        ]
    );
    assert_eq!(
        rows(&batch.masks),
        [vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0], vec![1.0; 6]]
    );
    assert_eq!(
        rows(&batch.labels),
        [
            vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
        ]
    );
    let (contexts_negatives, masks) = (batch.contexts_negatives.copy(), batch.masks.copy());
    let packed = batch.into_batch();
    assert_eq!(packed.0.size(), [2, 7]);
    assert_eq!(packed.1.size(), [2, 2, 6]);
    let back = d2l::SkipGramBatch::from_batch(&packed);
    assert_eq!(rows(&back.contexts_negatives), rows(&contexts_negatives));
    assert_eq!(rows(&back.masks), rows(&masks));
}

#[test]
fn skip_gram_scores_have_the_shapes_of_the_book() {
    tch::manual_seed(4);
    let (vocab_size, embed_size) = (20, 4);
    let model = d2l::skip_gram_model(vocab_size, embed_size, 0.01);
    assert_eq!(model.num_parameters(), 2 * vocab_size * embed_size);
    let centers = Tensor::ones([2, 1], (Kind::Int64, Device::Cpu));
    let words = Tensor::from_slice(&[1i64, 2, 3, 4, 5, 6, 7, 8]).view([2, 4]);
    assert_eq!(model.net.scores(&centers, &words).size(), [2, 1, 4]);
    let x = Tensor::cat(&[&centers, &words], 1);
    let scores = model.net.forward_t(&x, true);
    assert_eq!(scores.size(), [2, 4]);
    // Each score is the inner product of a center vector with a context vector.
    let v = model.net.embed_v.ws.get(1);
    let u = model.net.embed_u.ws.get(7);
    let expected = v.dot(&u).double_value(&[]);
    assert!((scores.double_value(&[1, 2]) - expected).abs() < 1e-6);
}

#[test]
fn masked_loss_matches_the_hand_computed_value() {
    let logits = Tensor::from_slice(&[1.1f32, -2.2, 3.3, -4.4, 1.1, -2.2, 3.3, -4.4]).view([2, 4]);
    let labels = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]).view([2, 4]);
    let masks = Tensor::from_slice(&[1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]).view([2, 4]);
    // -log σ(x) for label 1, -log σ(-x) for label 0; row 0 over 4 entries, row 1 over 2.
    let nls = |x: f64| (1.0 + (-x).exp()).ln();
    let row0 = (nls(1.1) + nls(2.2) + nls(-3.3) + nls(4.4)) / 4.0;
    let row1 = (nls(-1.1) + nls(-2.2)) / 2.0;
    assert!((row0 - 0.9352).abs() < 1e-4 && (row1 - 1.8462).abs() < 1e-4);
    let loss = d2l::masked_sigmoid_bce(&logits, &labels, &masks).double_value(&[]);
    assert!((loss - (row0 + row1) / 2.0).abs() < 1e-5, "{loss}");
    // The task reads the labels and masks from the packed target.
    let y = Tensor::stack(&[&labels, &masks], 1);
    let task_loss = d2l::Task::loss(&d2l::SigmoidBCE, &logits, &y).double_value(&[]);
    assert!((task_loss - loss).abs() < 1e-7);
    // Changing a padded logit changes nothing.
    let changed = logits.copy();
    let _ = changed.get(1).get(3).fill_(100.0);
    let again = d2l::masked_sigmoid_bce(&changed, &labels, &masks).double_value(&[]);
    assert!((again - loss).abs() < 1e-7);
}

#[test]
fn bpe_merges_the_hand_worked_example() {
    // fast_ ×4, faster_ ×3, tall_ ×5, taller_ ×4. Pair counts at the start: t-a, a-l, l-l 9
    // (tall_ and taller_), f-a, a-s, s-t, e-r, r-_ 7; the first of the 9s is t-a, and so on.
    let mut token_freqs: Vec<(Vec<String>, usize)> =
        [("fast_", 4), ("faster_", 3), ("tall_", 5), ("taller_", 4)]
            .iter()
            .map(|&(w, f)| (w.chars().map(String::from).collect(), f))
            .collect();
    let mut symbols: Vec<String> = ('a'..='z').map(String::from).collect();
    symbols.push("_".into());
    symbols.push("[UNK]".into());
    let mut merges = Vec::new();
    for _ in 0..10 {
        let pair = d2l::get_max_freq_pair(&token_freqs).unwrap();
        d2l::merge_symbols(&pair, &mut token_freqs, &mut symbols);
        merges.push(format!("{}+{}", pair.0, pair.1));
    }
    assert_eq!(
        merges,
        ["t+a", "ta+l", "tal+l", "f+a", "fa+s", "fas+t", "e+r", "er+_", "tall+_", "fast+_"]
    );
    let segmented: Vec<String> = token_freqs.iter().map(|(w, _)| w.join(" ")).collect();
    assert_eq!(segmented, ["fast_", "fast er_", "tall_", "tall er_"]);
    let pieces = d2l::segment_bpe(&["tallest_", "fatter_", "f?t_"], &symbols);
    let pieces: Vec<String> = pieces.iter().map(|p| p.join(" ")).collect();
    assert_eq!(pieces, ["tall e s t _", "fa t t er_", "f [UNK] t _"]);
    // Nothing left to merge once every word is one symbol.
    let single = vec![(vec!["tall_".to_string()], 5)];
    assert_eq!(d2l::get_max_freq_pair(&single), None);
}

#[test]
fn the_glove_stand_in_has_directions_that_analogies_find() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("glove.6b.50d-synthetic");
    d2l::data::write_stand_in(&target, "test", |d| d2l::write_glove_stand_in(d, 50)).unwrap();
    let glove = d2l::TokenEmbedding::from_file(&target.join("vec.txt"), true).unwrap();
    assert_eq!(glove.idx_to_vec.size()[1], 50);
    assert_eq!(glove.idx_to_token[0], "<unk>");
    assert_eq!(glove.index("no-such-word"), 0);
    let unknown = glove.get_vecs(&["no-such-word"]);
    assert_eq!(unknown.abs().sum(Kind::Float).double_value(&[]), 0.0);
    let nearest = |x: &Tensor| -> String {
        let w = &glove.idx_to_vec;
        let norms = (w.square().sum_dim_intlist(1, false, Kind::Float) + 1e-9).sqrt();
        let cos = w.mv(x) / norms / x.norm();
        glove.idx_to_token[cos.argmax(0, false).int64_value(&[]) as usize].clone()
    };
    for [a, b, c, d] in [
        ["man", "woman", "son", "daughter"],
        ["beijing", "china", "tokyo", "japan"],
        ["bad", "worst", "big", "biggest"],
        ["do", "did", "go", "went"],
        ["king", "queen", "boys", "girls"],
    ] {
        let v = glove.get_vecs(&[a, b, c]);
        let x = v.get(1) - v.get(0) + v.get(2);
        assert_eq!(nearest(&x), d, "{a} : {b} :: {c} : ?");
    }
    // Synonyms are each other's neighbours.
    let beautiful = glove.get_vecs(&["beautiful"]).get(0);
    let w = &glove.idx_to_vec;
    let cos = w.mv(&beautiful) / (w.square().sum_dim_intlist(1, false, Kind::Float) + 1e-9).sqrt();
    let (_, top) = cos.topk(4, 0, true, true);
    let top: Vec<String> = Vec::<i64>::try_from(top)
        .unwrap()
        .iter()
        .map(|&i| glove.idx_to_token[i as usize].clone())
        .collect();
    let synonyms = [
        "beautiful",
        "lovely",
        "gorgeous",
        "pretty",
        "elegant",
        "wonderful",
    ];
    assert!(
        top.iter().all(|w| synonyms.contains(&w.as_str())),
        "{top:?}"
    );
}

#[test]
fn the_ptb_stand_in_has_frequent_function_words_and_topics() {
    let sentences: Vec<Vec<String>> = d2l::ptb_stand_in(2_000, 7)
        .iter()
        .map(|s| words(s))
        .collect();
    assert_eq!(d2l::ptb_stand_in(50, 7), d2l::ptb_stand_in(50, 7));
    let tokens: Vec<&str> = sentences.iter().flatten().map(String::as_str).collect();
    let vocab = d2l::Vocab::new(&tokens, 1, &[]);
    let most_frequent = &vocab.token_freqs()[0];
    assert_eq!(most_frequent.0, "the");
    assert!(most_frequent.1 as f64 / tokens.len() as f64 > 0.05);
    // Content words of two different topics rarely share a sentence.
    let topic_of: HashMap<&str, usize> = d2l::PTB_STAND_IN_TOPICS
        .iter()
        .enumerate()
        .flat_map(|(t, (_, ws))| ws.iter().map(move |w| (*w, t)))
        .collect();
    let mixed = sentences
        .iter()
        .filter(|s| {
            let topics: HashSet<usize> = s
                .iter()
                .filter_map(|w| topic_of.get(w.as_str()).copied())
                .collect();
            topics.len() > 1
        })
        .count();
    // Each further clause (probability 0.6) switches topic with probability 0.15 · 6/7; the
    // stand-in (seed 7) has 308 mixed sentences of 2,000.
    assert!(
        (mixed as f64) < 0.25 * sentences.len() as f64,
        "{mixed} mixed sentences"
    );
}

/// Trains skip-gram with negative sampling on 10,000 sentences of the PTB stand-in (3 epochs,
/// embeddings of size 50, Adam with learning rate 0.01) and measures, over all 252 topic words,
/// the fraction of their 3 nearest neighbours by cosine similarity that belong to the same topic
/// of the grammar. Chance would be about 35/300; the trained model must reach 0.7.
#[test]
fn a_trained_skip_gram_finds_the_words_the_grammar_made_related() {
    tch::manual_seed(5);
    let sentences: Vec<Vec<String>> = d2l::ptb_stand_in(10_000, 11)
        .iter()
        .map(|s| words(s))
        .collect();
    let data = d2l::PTB::from_sentences(&sentences, 512, 5, 5);
    let mut model = d2l::skip_gram_model(data.vocab.len() as i64, 50, 0.01);
    let mut trainer = d2l::Trainer {
        max_epochs: 3,
        scale: 1.0,
        board: d2l::ProgressBoard::with_options(d2l::plotting::BoardOptions {
            display: false,
            ..Default::default()
        }),
        ..Default::default()
    };
    let history = trainer.fit(&mut model, &data).unwrap();
    assert!(history.last().unwrap().train_loss < history[0].train_loss);
    let (mut same, mut total) = (0, 0);
    for (topic, topic_words) in d2l::PTB_STAND_IN_TOPICS {
        for word in topic_words {
            for (neighbour, _) in
                d2l::get_similar_tokens(word, 3, &model.net.embed_v.ws, &data.vocab)
            {
                total += 1;
                if topic_words.contains(&neighbour.as_str()) {
                    same += 1;
                } else {
                    eprintln!("{topic}: {word} -> {neighbour}");
                }
            }
        }
    }
    let fraction = same as f64 / total as f64;
    eprintln!("same-topic fraction of the top-3 neighbours: {fraction:.3} ({same}/{total})");
    assert!(fraction >= 0.7, "{fraction}");
}
