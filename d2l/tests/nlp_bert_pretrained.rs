//! Loading d2l.ai's published BERT models (`bert.small`, `bert.base`) into `d2l::BERTModel`.
//!
//! `fixtures/bert-tiny/bert.tiny.torch.zip` is an archive in the exact format of the published
//! ones: `torch.save` of the state dict of the Python edition's `BERTModel` (d2l 1.0.3) and its
//! `vocab.json`, for a model small enough to commit, with random biases. `expected.json` holds the
//! Python model's outputs on two inputs. `make_fixture.py` next to them wrote all three.
//!
//! The archive is served by a real HTTP server on 127.0.0.1 and fetched through the data hub, as
//! the book fetches `bert.small`.

use d2l::data::{DataHub, HubEntry};
use d2l::prelude::*;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bert-tiny")
}

fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON array of arrays (of arrays) of numbers as a tensor of `kind`.
fn tensor(value: &serde_json::Value, kind: Kind) -> Tensor {
    fn flatten(value: &serde_json::Value, shape: &mut Vec<i64>, depth: usize, out: &mut Vec<f64>) {
        match value {
            serde_json::Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len() as i64);
                }
                for item in items {
                    flatten(item, shape, depth + 1, out);
                }
            }
            number => out.push(number.as_f64().unwrap()),
        }
    }
    let (mut shape, mut values) = (Vec::new(), Vec::new());
    flatten(value, &mut shape, 0, &mut values);
    Tensor::from_slice(&values)
        .view(shape.as_slice())
        .to_kind(kind)
}

/// Serves the files of `root` over HTTP on 127.0.0.1 until the test ends.
fn serve(root: PathBuf) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = root.join(request.url().trim_start_matches('/'));
            let response = match std::fs::read(&path) {
                Ok(bytes) => request.respond(tiny_http::Response::from_data(bytes)),
                Err(_) => request.respond(tiny_http::Response::empty(404)),
            };
            response.unwrap();
        }
    });
    url
}

/// The fixture's model as a hub entry of a hub served from 127.0.0.1 with its own cache.
fn tiny_bert_hub(cache: &Path) -> (DataHub, d2l::BertWeights<'static>) {
    let archive = fixture_dir().join("bert.tiny.torch.zip");
    let sha1 = d2l::data::sha1_file(&archive).unwrap();
    let mut hub = DataHub::new()
        .with_base_url(serve(fixture_dir()))
        .with_cache_dir(cache);
    hub.register(HubEntry::hub("bert.tiny", "bert.tiny.torch.zip", &sha1));
    let config = &expected()["config"];
    let size = |key: &str| config[key].as_i64().unwrap();
    let weights = d2l::BertWeights {
        data: d2l::data::StandIn {
            hub_name: "bert.tiny",
            folder: None,
            switch: "D2L_BERT_TINY_TEST",
            dataset: "a tiny BERT",
            cache_folder: "bert.tiny-stand-in",
            note: "never written: the test's hub serves the real archive",
        },
        num_hiddens: size("num_hiddens"),
        ffn_num_hiddens: size("ffn_num_hiddens"),
        num_heads: size("num_heads"),
        num_blks: size("num_blks"),
        max_len: size("max_len"),
    };
    (hub, weights)
}

fn assert_close(actual: &Tensor, expected: &Tensor, what: &str) {
    assert_eq!(actual.size(), expected.size(), "{what}: shape");
    let diff = (actual - expected).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{what}: largest difference {diff}");
}

#[test]
fn the_python_editions_archive_loads_and_computes_what_python_computed() {
    let cache = tempfile::tempdir().unwrap();
    let (hub, weights) = tiny_bert_hub(cache.path());
    let pretrained = d2l::load_pretrained_bert_from(&hub, &weights, 0.1, Device::Cpu).unwrap();
    assert!(
        pretrained.source.ends_with("pretrained.params"),
        "{}",
        pretrained.source
    );
    assert!(
        !cache.path().join("bert.tiny-stand-in").exists(),
        "no stand-in when the hub answers"
    );
    assert_eq!(pretrained.vocab.len(), 13);
    assert_eq!(pretrained.vocab.index("<cls>"), 3);
    assert_eq!(pretrained.vocab.token(12), Some("park"));
    assert_eq!(pretrained.config.vocab_size, 13);

    let e = expected();
    let (encoded, mlm, nsp) = pretrained.bert.forward(
        &tensor(&e["tokens"], Kind::Int64),
        &tensor(&e["segments"], Kind::Int64),
        Some(&tensor(&e["valid_lens"], Kind::Int64)),
        Some(&tensor(&e["pred_positions"], Kind::Int64)),
        false,
    );
    assert_close(&encoded, &tensor(&e["encoded"], Kind::Float), "encoded");
    assert_close(&mlm.unwrap(), &tensor(&e["mlm"], Kind::Float), "mlm");
    assert_close(&nsp, &tensor(&e["nsp"], Kind::Float), "nsp");
}

#[test]
fn every_parameter_name_of_ours_is_one_of_the_python_edition() {
    let expected_names: Vec<String> = expected()["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let vs = nn::VarStore::new(Device::Cpu);
    let config = d2l::BERTConfig {
        vocab_size: 13,
        num_hiddens: 8,
        ffn_num_hiddens: 16,
        num_heads: 2,
        num_blks: 2,
        dropout: 0.0,
        max_len: 16,
    };
    let _bert = d2l::BERTModel::new(&vs.root(), &config);
    let mut ours: Vec<String> = vs
        .variables()
        .keys()
        .map(|name| d2l::d2l_ai_bert_name(name))
        .collect();
    ours.sort();
    assert_eq!(ours, expected_names);
}

#[test]
fn saved_parameters_load_back_and_a_wrong_file_is_refused_by_name() {
    tch::manual_seed(1);
    let config = d2l::BERTConfig {
        vocab_size: 20,
        num_hiddens: 8,
        ffn_num_hiddens: 16,
        num_heads: 2,
        num_blks: 1,
        dropout: 0.0,
        max_len: 12,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pretrained.ot");
    let source = nn::VarStore::new(Device::Cpu);
    let _ = d2l::BERTModel::new(&source.root(), &config);
    d2l::save_bert_parameters(&source, &path).unwrap();

    let target = nn::VarStore::new(Device::Cpu);
    let _ = d2l::BERTModel::new(&target.root(), &config);
    let copied = d2l::load_bert_parameters(&target, &path).unwrap();
    assert_eq!(copied, source.variables().len());
    for (name, value) in source.variables() {
        assert!(value.equal(&target.variables()[&name]), "{name} differs");
    }

    // Another vocabulary size: the shape error names the parameter.
    let wider = nn::VarStore::new(Device::Cpu);
    let _ = d2l::BERTModel::new(
        &wider.root(),
        &d2l::BERTConfig {
            vocab_size: 21,
            ..config
        },
    );
    let error = d2l::load_bert_parameters(&wider, &path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("encoder.token_embedding.weight has shape [20, 8]"),
        "{error}"
    );

    // One block more than the file has: the missing parameter is named.
    let deeper = nn::VarStore::new(Device::Cpu);
    let _ = d2l::BERTModel::new(
        &deeper.root(),
        &d2l::BERTConfig {
            num_blks: 2,
            ..config
        },
    );
    let error = d2l::load_bert_parameters(&deeper, &path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no parameter encoder.blks.1."), "{error}");
}

#[test]
fn a_vocabulary_file_must_start_with_unk_and_have_no_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vocab.json");
    std::fs::write(&path, r#"["<unk>", "<pad>", "a", "b"]"#).unwrap();
    let vocab = d2l::read_bert_vocab(&path).unwrap();
    assert_eq!(
        (vocab.len(), vocab.index("b"), vocab.index("zzz")),
        (4, 3, 0)
    );

    std::fs::write(&path, r#"["<pad>", "<unk>"]"#).unwrap();
    let error = d2l::read_bert_vocab(&path).unwrap_err().to_string();
    assert!(error.contains("must start with <unk>"), "{error}");
    std::fs::write(&path, r#"["<unk>", "a", "b", "a"]"#).unwrap();
    let error = d2l::read_bert_vocab(&path).unwrap_err().to_string();
    assert!(
        error.contains("\"a\" appears twice (again at index 3)"),
        "{error}"
    );
    std::fs::write(&path, r#"{"tokens": 1}"#).unwrap();
    let error = d2l::read_bert_vocab(&path).unwrap_err().to_string();
    assert!(
        error.contains("vocab.json: not a JSON list of tokens"),
        "{error}"
    );
}
