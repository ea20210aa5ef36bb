//! Behaviour of the machine-translation items of chapter 10 (`chapter_recurrent-modern`):
//! preprocessing, the MT data module, the seq2seq model and BLEU.

use std::path::PathBuf;

use d2l::{
    bleu, pad_or_trim, preprocess_nmt, tokenize_nmt, valid_lengths, DataModule, Decoder, Encoder,
    MTFraEng, Module,
};
use tch::{nn, Device, Kind, Tensor};

/// The 20-odd pairs of ../shared/data (French, tab, English: the direction does not matter here).
fn small_pairs() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fr-en-small.txt");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ids(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.reshape([-1])).unwrap()
}

#[test]
fn preprocessing_separates_punctuation_and_lowercases() {
    assert_eq!(preprocess_nmt("Go.\tVa !"), "go .\tva !");
    assert_eq!(preprocess_nmt("Hi,\u{202f}you?"), "hi , you ?");
    assert_eq!(preprocess_nmt("J'ai perdu."), "j'ai perdu .");
}

#[test]
fn tokenization_ends_sentences_with_eos_and_skips_malformed_lines() {
    let (src, tgt) = tokenize_nmt("go .\tva !\nno tab here\nhi .\tsalut .\n", None);
    assert_eq!(
        src,
        vec![vec!["go", ".", "<eos>"], vec!["hi", ".", "<eos>"]]
    );
    assert_eq!(tgt[1], vec!["salut", ".", "<eos>"]);
    assert_eq!(tokenize_nmt("a\tb\nc\td\n", Some(1)).0.len(), 1);
    assert_eq!(
        pad_or_trim(&["a", "b"], 4),
        vec!["a", "b", "<pad>", "<pad>"]
    );
    assert_eq!(pad_or_trim(&["a", "b", "c"], 2), vec!["a", "b"]);
}

#[test]
fn the_data_module_shifts_targets_behind_bos_and_pads() {
    let data = MTFraEng::from_text(&small_pairs(), 4, 6, 16, 4);
    let pairs = data.x.size()[0];
    assert_eq!(data.x.size(), [pairs, 2, 6]);
    assert_eq!(data.y.size(), [pairs, 6]);
    assert_eq!((data.num_train, data.num_val), (16, 4));
    let (pad, bos) = (
        data.tgt_vocab.index("<pad>") as i64,
        data.tgt_vocab.index("<bos>") as i64,
    );
    assert_eq!(
        pad,
        data.src_vocab.index("<pad>") as i64,
        "reserved tokens share indices"
    );
    // Decoder input = <bos> + label[..-1] in every row.
    let dec_input = data.x.select(1, 1);
    assert!(ids(&dec_input.select(1, 0)).iter().all(|&t| t == bos));
    assert_eq!(
        ids(&dec_input.narrow(1, 1, 5)),
        ids(&data.y.narrow(1, 0, 5))
    );
    // "elle est vieille ." + <eos> = 5 valid tokens of 6.
    let first = data.x.get(0).get(0);
    assert_eq!(ids(&valid_lengths(&first.unsqueeze(0), pad)), vec![5]);
    assert_eq!(data.train_dataloader().len(), 4);
    assert_eq!(data.val_dataloader().len(), 1);
    // New pairs go through the same vocabularies; unknown words become <unk>.
    let (x, y) = data.build(&["Elle est zzz."], &["She is old."]);
    assert_eq!(x.size(), [1, 2, 6]);
    assert_eq!(
        ids(&x.get(0).get(0))[2],
        data.src_vocab.index("<unk>") as i64
    );
    assert_eq!(y.size(), [1, 6]);
}

#[test]
fn bleu_matches_worked_examples() {
    // Reference A B C D E F, prediction A B B C D: p1 = 4/5, p2 = 3/4, p3 = 1/3, p4 = 0;
    // brevity penalty exp(1 - 6/5).
    assert_eq!(bleu("a b b c d", "a b c d e f", 4), 0.0);
    let expected = (1.0f64 - 6.0 / 5.0).exp()
        * (0.8f64).powf(0.5)
        * (0.75f64).powf(0.25)
        * (1.0f64 / 3.0).powf(0.125);
    assert!((bleu("a b b c d", "a b c d e f", 3) - expected).abs() < 1e-12);
    assert_eq!(bleu("a b c d e f", "a b c d e f", 4), 1.0);
    assert_eq!(bleu("", "a b", 2), 0.0);
    // Clipped counts: "the the the" matches "the" once.
    assert!((bleu("the the the", "the cat", 1) - (1.0f64 / 3.0).powf(0.5)).abs() < 1e-12);
    // A longer prediction is not penalized by brevity.
    let long = bleu("a b c d x", "a b c d", 1);
    assert!((long - (0.8f64).powf(0.5)).abs() < 1e-12);
}

fn tiny_model(data: &MTFraEng) -> d2l::Seq2Seq<d2l::Seq2SeqEncoder, d2l::Seq2SeqDecoder> {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder =
        d2l::Seq2SeqEncoder::new(&(vs.root() / "enc"), data.src_vocab.len() as i64, 16, 32, 1);
    let decoder =
        d2l::Seq2SeqDecoder::new(&(vs.root() / "dec"), data.tgt_vocab.len() as i64, 16, 32, 1);
    let pad = data.tgt_vocab.index("<pad>") as i64;
    let bos = data.tgt_vocab.index("<bos>") as i64;
    d2l::Seq2Seq::new(vs, encoder, decoder, pad, bos, 0.01)
}

#[test]
fn seq2seq_shapes_and_masked_loss() {
    let data = MTFraEng::from_text(&small_pairs(), 4, 6, 16, 4);
    let model = tiny_model(&data);
    let (x, y) = data.train_dataloader().next().unwrap();
    let scores = model.forward(&x);
    assert_eq!(scores.size(), [4, 6, data.tgt_vocab.len() as i64]);
    let (src, _, valid) = model.split(&x);
    let (outputs, state) = model.net.encoder.encode(&src, &valid, false);
    assert_eq!(
        (outputs.size(), state.size()),
        (vec![4, 6, 32], vec![1, 4, 32])
    );
    let dec_state = model.net.decoder.init_state((outputs, state), &valid);
    assert_eq!(dec_state.context.size(), [4, 32]);
    // Changing the scores at padded label positions leaves the loss unchanged.
    let loss = model.loss(&scores, &y).double_value(&[]);
    let pad_mask = y.eq(model.pad).unsqueeze(2).to_kind(Kind::Float);
    assert!(
        pad_mask.sum(Kind::Float).double_value(&[]) > 0.0,
        "the batch has padding"
    );
    let disturbed =
        &scores + pad_mask * 100.0 * Tensor::randn(scores.size(), (Kind::Float, Device::Cpu));
    assert!((model.loss(&disturbed, &y).double_value(&[]) - loss).abs() < 1e-5);
    // Greedy prediction: one token per step.
    let (preds, attention) = model.predict_step(&x, 5);
    assert_eq!(preds.size(), [4, 5]);
    assert!(
        attention.iter().all(Vec::is_empty),
        "no attention in this decoder"
    );
}

#[test]
fn seq2seq_learns_the_generated_pairs() {
    let text = d2l::data::fra_eng::synthetic_pairs()
        .iter()
        .map(|(en, fr)| format!("{en}\t{fr}\n"))
        .collect::<String>();
    let data = MTFraEng::from_text(&text, 64, 8, 512, 128);
    let mut model = tiny_model(&data);
    let mut trainer = d2l::Trainer {
        max_epochs: 15,
        gradient_clip_val: Some(1.0),
        device: Device::Cpu,
        board: d2l::ProgressBoard::with_options(d2l::plotting::BoardOptions {
            display: false,
            ..Default::default()
        }),
        ..Default::default()
    };
    let history = trainer
        .fit(&mut model, &data)
        .expect("the optimizer builds");
    let losses: Vec<f64> = history
        .iter()
        .map(|h| h.val_metric("loss").unwrap())
        .collect();
    eprintln!("validation loss by epoch: {losses:.3?}");
    // Tests beside this one draw from the same libtorch generator, so the seed does not fix the
    // run. Over seeds 0-9 alone: 3.22-3.31 after the first epoch, 0.81-0.99 after 15, a ratio of
    // 0.25-0.30; a model that does not learn stays near ln(vocabulary size).
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(first > 2.0, "{losses:?}");
    assert!(last < 0.4 * first, "{losses:?}");
}

/// Running a layer over a whole sequence equals running it over two halves, the second one
/// continuing from the state the first returned.
fn assert_state_carries_over(layer: &dyn d2l::RecurrentLayer, num_inputs: i64) {
    let inputs = Tensor::randn([6, 3, num_inputs], (Kind::Float, Device::Cpu));
    let (whole, _) = tch::no_grad(|| layer.forward(&inputs, None));
    let (first, state) = tch::no_grad(|| layer.forward(&inputs.narrow(0, 0, 4), None));
    let (second, _) = tch::no_grad(|| layer.forward(&inputs.narrow(0, 4, 2), Some(&state)));
    assert_eq!(whole.size(), [6, 3, layer.num_outputs()]);
    let halves = Tensor::cat(&[first, second], 0);
    let gap = (&whole - &halves).abs().max().double_value(&[]);
    assert!(gap < 1e-5, "state does not carry over: {gap}");
}

#[test]
fn gated_layers_carry_their_state_across_calls() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    assert_state_carries_over(&d2l::LSTMScratch::new(5, 8, 0.1), 5);
    assert_state_carries_over(&d2l::GRUScratch::new(5, 8, 0.1), 5);
    assert_state_carries_over(&d2l::LSTM::new(&(vs.root() / "lstm"), 5, 8, 2), 5);
    assert_state_carries_over(&d2l::GRU::new(&(vs.root() / "gru"), 5, 8, 2), 5);
    assert_state_carries_over(&d2l::StackedRNNScratch::new(5, 8, 3, 0.1), 5);
    // A bidirectional layer reads both ways: twice the outputs, and the last step depends on the
    // first input (which a forward-only layer's first step cannot see the other way round).
    let bi = d2l::GRU::bidirectional(&(vs.root() / "bigru"), 5, 8, 1);
    assert_eq!(d2l::RecurrentLayer::num_outputs(&bi), 16);
    let inputs = Tensor::randn([4, 2, 5], (Kind::Float, Device::Cpu));
    let (outputs, _) = tch::no_grad(|| d2l::RecurrentLayer::forward(&bi, &inputs, None));
    let changed = inputs.copy();
    let _ = changed.get(3).fill_(1.0);
    let (outputs_changed, _) = tch::no_grad(|| d2l::RecurrentLayer::forward(&bi, &changed, None));
    let first_step_gap = (outputs.get(0) - outputs_changed.get(0))
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        first_step_gap > 1e-6,
        "the backward direction sees the last input at the first step"
    );
}

#[test]
fn beam_search_finds_a_likelier_sequence_than_greedy() {
    // Tokens 0 = A, 1 = B, 2 = <eos>. Greedy takes A (0.5) and ends with probability 0.5 * 0.4;
    // starting with B (0.4) leads to <eos> with 0.9: 0.36 in total.
    let eos = 2;
    let model = |prefix: &[usize]| -> Vec<f64> {
        let p: [f64; 3] = match prefix {
            [] => [0.5, 0.4, 0.1],
            [0] => [0.3, 0.3, 0.4],
            [1] => [0.05, 0.05, 0.9],
            _ => [0.1, 0.1, 0.8],
        };
        p.iter().map(|x| x.ln()).collect()
    };
    let greedy = d2l::greedy_search(model, eos, 5);
    assert_eq!(greedy.tokens, vec![0, 2]);
    assert!((greedy.log_prob - (0.5f64 * 0.4).ln()).abs() < 1e-12);
    let beams = d2l::beam_search(model, eos, 2, 5, 0.0);
    assert_eq!(beams[0].tokens, vec![1, 2]);
    assert!((beams[0].log_prob - (0.4f64 * 0.9).ln()).abs() < 1e-12);
    // A beam of one is greedy search.
    assert_eq!(
        d2l::beam_search(model, eos, 1, 5, 0.0)[0].tokens,
        greedy.tokens
    );
}
