//! The writing side of docs/display-protocol.md: what `d2l::display` prints must parse, by the
//! rules of that page, into the bundles and display ids that were meant.

use d2l::display::{
    Bundle, DisplayHandle, DisplayTarget, Frontend, Show, TensorFormat, TensorView,
};
use d2l::prelude::*;
use d2l::protocol::DISPLAY_MIME as D2L_DISPLAY_MIME;

/// One parsed bundle: its (mime, payload) blocks, and the d2l block's content if it closed one.
#[derive(Debug, PartialEq)]
struct Parsed {
    items: Vec<(String, String)>,
    display: Option<serde_json::Value>,
}

/// A parser written from docs/display-protocol.md: content blocks between marker lines; blocks
/// back to back form a bundle; the d2l block closes a bundle; any other line ends a bundle too.
fn parse(stdout: &str) -> (Vec<Parsed>, Vec<String>) {
    let mut bundles = Vec::new();
    let mut plain = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        if let Some(mime) = line.strip_prefix("EVCXR_BEGIN_CONTENT ") {
            let mut payload = Vec::new();
            for l in lines.by_ref() {
                if l == "EVCXR_END_CONTENT" {
                    break;
                }
                payload.push(l);
            }
            let payload = payload.join("\n");
            if mime == D2L_DISPLAY_MIME {
                let json: serde_json::Value =
                    serde_json::from_str(&payload).expect("the d2l block is JSON");
                bundles.push(Parsed {
                    items: std::mem::take(&mut current),
                    display: Some(json),
                });
            } else {
                current.push((mime.to_string(), payload));
            }
        } else {
            if !current.is_empty() {
                bundles.push(Parsed {
                    items: std::mem::take(&mut current),
                    display: None,
                });
            }
            plain.push(line.to_string());
        }
    }
    if !current.is_empty() {
        bundles.push(Parsed {
            items: current,
            display: None,
        });
    }
    (bundles, plain)
}

#[test]
fn a_bundle_is_content_blocks_closed_by_the_d2l_block() {
    let bundle = Bundle::new()
        .with(
            "image/svg+xml",
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>",
        )
        .with("text/plain", "<Figure>")
        .with_binary("image/png", &[0x89, b'P', b'N', b'G']);
    let mut out = Vec::new();
    bundle
        .write_to(&mut out, &DisplayTarget::new_display())
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (bundles, plain) = parse(&text);
    assert!(plain.is_empty(), "nothing outside blocks: {plain:?}");
    assert_eq!(bundles.len(), 1);
    let b = &bundles[0];
    assert_eq!(
        b.items.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
        ["image/svg+xml", "text/plain", "image/png"]
    );
    assert_eq!(
        b.items[0].1,
        "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>"
    );
    assert_eq!(b.items[2].1, "iVBORw==", "binary payloads are base64");
    assert_eq!(
        b.display,
        Some(serde_json::json!({"display_id": null, "update": false}))
    );
}

#[test]
fn a_display_handle_creates_then_updates_one_display() {
    let mut handle = DisplayHandle::new("d2l-board");
    let mut out = Vec::new();
    for i in 0..3 {
        handle
            .write_to(
                &mut out,
                &Bundle::new().with("text/plain", format!("step {i}")),
            )
            .unwrap();
    }
    let (bundles, plain) = parse(&String::from_utf8(out).unwrap());
    assert!(plain.is_empty());
    assert_eq!(bundles.len(), 3);
    let id = handle.id().to_string();
    assert!(id.starts_with("d2l-board-"));
    for (i, b) in bundles.iter().enumerate() {
        assert_eq!(
            b.items,
            vec![("text/plain".to_string(), format!("step {i}"))]
        );
        let d = b.display.as_ref().unwrap();
        assert_eq!(d["display_id"], serde_json::json!(id));
        assert_eq!(
            d["update"],
            serde_json::json!(i > 0),
            "only the first bundle creates the display"
        );
    }
}

#[test]
fn json_of_the_d2l_block_escapes_ids() {
    let t = DisplayTarget::update("a\"b");
    let v: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
    assert_eq!(v, serde_json::json!({"display_id": "a\"b", "update": true}));
}

#[test]
fn frontends_differ_in_what_they_show() {
    assert!(Frontend::D2lKernel.is_notebook() && Frontend::D2lKernel.supports_update());
    assert!(Frontend::Evcxr.is_notebook() && !Frontend::Evcxr.supports_update());
    assert!(!Frontend::Terminal.is_notebook());
}

#[test]
fn frontend_is_read_from_the_environment() {
    // Run in child processes so the test's own environment stays untouched.
    let exe = std::env::current_exe().unwrap();
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args([
            "--exact",
            "print_frontend_for_parent",
            "--nocapture",
            "--ignored",
        ]);
        cmd.env_remove("D2L_KERNEL").env_remove("EVCXR_IS_RUNTIME");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("FRONTEND=").map(str::to_string))
            .unwrap()
    };
    assert_eq!(run(&[]), "Terminal");
    assert_eq!(run(&[("EVCXR_IS_RUNTIME", "1")]), "Evcxr");
    assert_eq!(
        run(&[("D2L_KERNEL", "1"), ("EVCXR_IS_RUNTIME", "1")]),
        "D2lKernel"
    );
    assert_eq!(run(&[("D2L_KERNEL", "0")]), "Terminal");
}

#[test]
#[ignore = "helper run by frontend_is_read_from_the_environment"]
fn print_frontend_for_parent() {
    println!("FRONTEND={:?}", d2l::display::frontend());
}

#[test]
fn tensors_show_shape_dtype_device_and_values() {
    let x = Tensor::from_slice(&[1i64, 2, 3, 4, 5, 6]).reshape([2, 3]);
    let b = x.bundle();
    let text = b.get("text/plain").unwrap();
    assert_eq!(
        text,
        "tensor([[1, 2, 3],\n        [4, 5, 6]], shape=[2, 3], dtype=Int64, device=cpu)"
    );
    let html = b.get("text/html").unwrap();
    for part in [
        "shape <code>[2, 3]</code>",
        "dtype <code>Int64</code>",
        "device <code>cpu</code>",
        "[4, 5, 6]",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }

    let y = Tensor::from_slice(&[0.5f32, -1.25]);
    assert_eq!(
        TensorView::new(&y).to_string(),
        "tensor([ 0.5000, -1.2500], shape=[2], dtype=Float, device=cpu)"
    );
    let s = Tensor::from(3.0f64);
    assert_eq!(
        TensorView::new(&s).to_string(),
        "tensor(3., shape=[], dtype=Double, device=cpu)"
    );
    let b = Tensor::from_slice(&[true, false]);
    assert!(TensorView::new(&b)
        .to_string()
        .starts_with("tensor([ True, False]"));
}

#[test]
fn large_tensors_are_summarised_without_copying_everything() {
    let x = Tensor::arange(2000, (Kind::Int64, Device::Cpu)).reshape([20, 100]);
    let text = TensorView::new(&x).values();
    assert!(
        text.starts_with("tensor([[   0,    1,    2, ...,   97,   98,   99],"),
        "{text}"
    );
    assert!(text.contains("        ...,\n"), "{text}");
    assert!(
        text.ends_with("[1900, 1901, 1902, ..., 1997, 1998, 1999]])"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        7,
        "3 rows, the ellipsis and 3 rows: {text}"
    );
    let small = TensorFormat {
        threshold: 10_000,
        ..TensorFormat::default()
    };
    assert_eq!(
        TensorView::with_format(&x, small).values().lines().count(),
        20
    );
}

#[test]
fn show_prints_plain_text_outside_notebooks() {
    // Under `cargo test` neither D2L_KERNEL nor EVCXR_IS_RUNTIME is set: `show` falls back to
    // `text/plain`, which is what a terminal can print.
    if d2l::display::frontend() == Frontend::Terminal {
        let x = Tensor::from_slice(&[1.0f32]);
        assert_eq!(
            x.bundle().get("text/plain").unwrap(),
            "tensor([1.], shape=[1], dtype=Float, device=cpu)"
        );
        d2l::show(&x);
    }
}
