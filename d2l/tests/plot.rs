//! Figures are checked by parsing their SVG: the series drawn (by colour), the legend's text, the
//! axis labels and ticks, and the progress board's display protocol.

mod common;

use common::Shared;
use std::collections::BTreeSet;
use std::time::Duration;

use d2l::display::{Frontend, Show};
use d2l::plotting::{
    plot, plot_y, show_heatmaps, show_images, BoardOptions, Plot, ProgressBoard, Rgb, Scale,
    Series, Style,
};
use d2l::prelude::*;

/// What a test needs to know of a rendered SVG.
struct Svg {
    texts: Vec<String>,
    /// Stroke colours of polylines, with how many polylines use each.
    strokes: Vec<(String, usize)>,
    images: usize,
    width: String,
    height: String,
}

const AXIS_COLORS: &[&str] = &["#000000", "#B0B0B0", "#CCCCCC", "#FFFFFF"];

fn parse_svg(svg: &str) -> Svg {
    let doc = roxmltree::Document::parse(svg).expect("figures are well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let mut texts = Vec::new();
    let mut strokes: Vec<(String, usize)> = Vec::new();
    let mut images = 0;
    for n in root.descendants() {
        match n.tag_name().name() {
            "text" => texts.push(n.text().unwrap_or("").trim().to_string()),
            "polyline" => {
                let c = n.attribute("stroke").unwrap_or("none").to_ascii_uppercase();
                match strokes.iter_mut().find(|(s, _)| *s == c) {
                    Some(e) => e.1 += 1,
                    None => strokes.push((c, 1)),
                }
            }
            "image" => images += 1,
            _ => {}
        }
    }
    Svg {
        texts,
        strokes,
        images,
        width: root.attribute("width").unwrap_or("").into(),
        height: root.attribute("height").unwrap_or("").into(),
    }
}

impl Svg {
    /// Colours of drawn series: polyline strokes other than the axes, grid and legend frame.
    fn series_colors(&self) -> BTreeSet<String> {
        self.strokes
            .iter()
            .map(|(c, _)| c.clone())
            .filter(|c| !AXIS_COLORS.contains(&c.as_str()))
            .collect()
    }

    fn has_text(&self, t: &str) -> bool {
        self.texts.iter().any(|x| x == t)
    }
}

fn hex(c: Rgb) -> String {
    c.hex().to_ascii_uppercase()
}

#[test]
fn plot_draws_each_series_with_legend_and_axis_labels() {
    let x: Vec<f64> = (0..30).map(|i| i as f64 * 0.1).collect();
    let f: Vec<f64> = x.iter().map(|x| 3.0 * x * x - 4.0 * x).collect();
    let t: Vec<f64> = x.iter().map(|x| 2.0 * x - 3.0).collect();
    let fig = plot(&x, [&f, &t])
        .xlabel("x")
        .ylabel("f(x)")
        .legend(["f(x)", "Tangent line (x=1)"])
        .figure();
    let svg = parse_svg(fig.svg());
    // d2l's default formats: '-' in C0, then 'm--'.
    let expected: BTreeSet<String> = [hex(Rgb::cycle(0)), hex(Rgb(191, 0, 191))]
        .into_iter()
        .collect();
    assert_eq!(svg.series_colors(), expected);
    // The dashed series is drawn as many dashes, the solid one as one polyline (plus legend).
    let count = |c: &str| {
        svg.strokes
            .iter()
            .find(|(s, _)| s == c)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    assert_eq!(
        count(&hex(Rgb::cycle(0))),
        2,
        "the solid line and its legend sample"
    );
    assert!(count(&hex(Rgb(191, 0, 191))) > 10, "dashes");
    for label in ["x", "f(x)", "Tangent line (x=1)"] {
        assert!(svg.has_text(label), "{label:?} in {:?}", svg.texts);
    }
    for tick in ["0", "1", "2", "3"] {
        assert!(svg.has_text(tick), "x tick {tick} in {:?}", svg.texts);
    }
    assert_eq!((svg.width.as_str(), svg.height.as_str()), ("350", "250"));
    assert_eq!(
        fig.text(),
        "<Figure size 350x250 with 2 series: f(x), Tangent line (x=1)>"
    );
    let bundle = fig.bundle();
    assert_eq!(bundle.get("image/svg+xml"), Some(fig.svg()));
    assert_eq!(bundle.get("text/plain"), Some(fig.text()));
}

#[test]
fn many_series_take_distinct_styles_and_tensors_are_accepted() {
    let x = Tensor::arange_start_step(0.1, 5.0, 0.1, (Kind::Double, Device::Cpu));
    let p = plot(
        &x,
        [
            x.exp(),
            x.pow_tensor_scalar(2),
            x.pow_tensor_scalar(3),
            &x + 1,
            x.sqrt(),
        ],
    )
    .legend(["a", "b", "c", "d", "e"]);
    assert_eq!(p.series().len(), 5);
    let svg = parse_svg(p.figure().svg());
    assert_eq!(svg.series_colors().len(), 5, "{:?}", svg.strokes);
    for l in ["a", "b", "c", "d", "e"] {
        assert!(svg.has_text(l));
    }
    // A 2-D tensor is one series per row.
    let rows = Tensor::rand([3, 10], (Kind::Float, Device::Cpu));
    assert_eq!(plot_y(&rows).series().len(), 3);
}

#[test]
fn log_scale_labels_powers_of_ten_and_skips_non_positive_values() {
    let x: Vec<f64> = (1..=40).map(|i| i as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| 10f64.powf(v / 10.0) - 2.0).collect(); // first values negative
    let fig = plot(&x, &y).yscale(Scale::Log).ylabel("loss").figure();
    let svg = parse_svg(fig.svg());
    assert!(
        svg.has_text("10¹") && svg.has_text("10²") && svg.has_text("10³"),
        "{:?}",
        svg.texts
    );
    assert!(svg.has_text("loss"));
    assert_eq!(svg.series_colors().len(), 1);
}

#[test]
fn options_struct_and_colour_cycle_follow_matplotlib() {
    use d2l::plotting::{plot_with, PlotOptions};
    let x: Vec<f64> = (0..10).map(f64::from).collect();
    let ys: Vec<Vec<f64>> = (0..7)
        .map(|k| x.iter().map(|v| v * k as f64).collect())
        .collect();
    let mut fmts = vec!["-".to_string(); 6];
    fmts.push("--".into());
    let p = plot_with(
        &x,
        &ys,
        PlotOptions {
            xlabel: "tosses".into(),
            legend: (0..7).map(|k| format!("s{k}")).collect(),
            fmts,
            ..Default::default()
        },
    );
    let svg = parse_svg(p.figure().svg());
    // Formats without a colour take C0, C1, ... in turn.
    let expected: BTreeSet<String> = (0..7).map(|k| hex(Rgb::cycle(k))).collect();
    assert_eq!(svg.series_colors(), expected);
    assert!(svg.has_text("tosses") && svg.has_text("s6"));
    // Markers only: "o" draws circles and no line.
    let fig = plot_with(
        &x,
        std::slice::from_ref(&x),
        PlotOptions {
            fmts: vec!["o".into()],
            ..Default::default()
        },
    )
    .figure();
    let doc = roxmltree::Document::parse(fig.svg()).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        10
    );
    assert!(parse_svg(fig.svg()).series_colors().is_empty(), "no line");
}

#[test]
fn limits_clip_lines_and_options_apply() {
    let x: Vec<f64> = (0..100).map(|i| i as f64).collect();
    let fig = Plot::new()
        .add_series(Series::new(&x, &x).label("identity").style("r--"))
        .add_series(
            Series::new(&x, x.iter().map(|v| 100.0 - v).collect::<Vec<_>>())
                .label("down")
                .style(Style::color(Rgb(0, 0, 255))),
        )
        .xlim(10.0, 20.0)
        .ylim(0.0, 50.0)
        .title("clipped")
        .figsize(5.0, 3.0)
        .figure();
    let svg = parse_svg(fig.svg());
    assert_eq!((svg.width.as_str(), svg.height.as_str()), ("500", "300"));
    assert!(svg.has_text("clipped"));
    assert!(svg.series_colors().contains("#FF0000"));
    // "down" lies above ylim everywhere in [10, 20]: nothing of it is drawn but its legend entry.
    let blue = svg
        .strokes
        .iter()
        .find(|(c, _)| c == "#0000FF")
        .map(|(_, n)| *n)
        .unwrap_or(0);
    assert_eq!(blue, 1, "only the legend sample of the hidden series");
    // Every coordinate of every polyline lies inside the canvas (nothing drawn off-figure).
    let doc = roxmltree::Document::parse(fig.svg()).unwrap();
    let vb: Vec<f64> = doc
        .root_element()
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    for n in doc.descendants().filter(|n| n.has_tag_name("polyline")) {
        for pt in n.attribute("points").unwrap().split_whitespace() {
            let (px, py) = pt.split_once(',').unwrap();
            let (px, py): (f64, f64) = (px.parse().unwrap(), py.parse().unwrap());
            assert!(px >= 0.0 && px <= vb[2] && py >= 0.0 && py <= vb[3], "{pt}");
        }
    }
}

#[test]
fn bad_input_shows_an_error_instead_of_panicking() {
    let p = plot(vec![1.0, 2.0, 3.0], vec![1.0, 2.0]);
    assert!(p.try_figure().is_err());
    let fig = p.figure();
    assert!(
        fig.text().contains("3 x values but 2 y values"),
        "{}",
        fig.text()
    );
    assert!(Plot::new().fmts(["q-"]).try_figure().is_err());
    // An empty plot still draws axes.
    let svg = parse_svg(Plot::new().figure().svg());
    assert!(svg.series_colors().is_empty());
}

#[test]
fn figures_save_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let fig = plot(vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 1.0])
        .xlabel("epoch")
        .figure();
    fig.save(dir.path().join("f.svg")).unwrap();
    fig.save(dir.path().join("f.png")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f.svg")).unwrap(),
        fig.svg()
    );
    let png = std::fs::read(dir.path().join("f.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24; saved at twice the size.
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((w, h), (700, 500));
    // Text is rendered from the embedded font: the PNG has dark pixels in the x-label strip.
    let small = fig.to_png(1.0).unwrap();
    assert!(small.len() > 1000);
    assert!(matches!(
        fig.save(dir.path().join("f.jpg")),
        Err(d2l::plotting::PlotError::UnsupportedFormat(_))
    ));
}

#[test]
fn show_images_embeds_one_picture_per_image_with_titles() {
    let imgs = Tensor::rand([6, 1, 28, 28], (Kind::Float, Device::Cpu));
    let titles = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal"];
    let fig = show_images(&imgs, 2, 3, &titles, 1.5).figure();
    let svg = parse_svg(fig.svg());
    assert_eq!(svg.images, 6);
    assert_eq!(svg.texts, titles);
    // RGB, channels last, as bytes.
    let rgb = Tensor::randint(255, [2, 8, 8, 3], (Kind::Uint8, Device::Cpu));
    assert_eq!(
        parse_svg(
            show_images(&rgb, 1, 2, d2l::plotting::NO_TITLES, 1.0)
                .figure()
                .svg()
        )
        .images,
        2
    );
    // More images than cells: the grid is filled, the rest left out.
    assert_eq!(
        parse_svg(
            show_images(&imgs, 1, 2, d2l::plotting::NO_TITLES, 1.0)
                .figure()
                .svg()
        )
        .images,
        2
    );
    // A wrong shape is reported.
    let bad = Tensor::rand([2, 5, 4, 4], (Kind::Float, Device::Cpu));
    assert!(show_images(&bad, 1, 2, d2l::plotting::NO_TITLES, 1.0)
        .try_figure()
        .is_err());
    // The PNG export decodes the embedded pictures.
    assert!(fig.to_png(1.0).is_ok());
}

#[test]
fn heatmaps_have_labels_titles_and_a_colour_bar() {
    let w = Tensor::rand([2, 3, 5, 7], (Kind::Float, Device::Cpu));
    let fig = show_heatmaps(&w, "Keys", "Queries")
        .titles(["h1", "h2", "h3"])
        .figure();
    let svg = parse_svg(fig.svg());
    assert_eq!(svg.images, 6 + 1, "six maps and the colour bar");
    assert_eq!(
        svg.texts.iter().filter(|t| *t == "Keys").count(),
        3,
        "under each column"
    );
    assert_eq!(
        svg.texts.iter().filter(|t| *t == "Queries").count(),
        2,
        "left of each row"
    );
    assert!(svg.has_text("h3"));
    assert!(
        show_heatmaps(&Tensor::rand([3], (Kind::Float, Device::Cpu)), "k", "q")
            .try_figure()
            .is_err()
    );
}

/// (svg payload, display_id, update) of each bundle written.
fn board_bundles(text: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut svg = String::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let Some(mime) = l.strip_prefix("EVCXR_BEGIN_CONTENT ") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| *l != "EVCXR_END_CONTENT")
            .collect();
        match mime {
            "image/svg+xml" => svg = body.join("\n"),
            "application/vnd.d2l.display+json" => {
                let v: serde_json::Value = serde_json::from_str(&body.join("\n")).unwrap();
                out.push((
                    std::mem::take(&mut svg),
                    v["display_id"].as_str().unwrap().to_string(),
                    v["update"].as_bool().unwrap(),
                ));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn board_averages_every_n_points_like_d2l() {
    let mut board = ProgressBoard::with_options(BoardOptions {
        display: false,
        ..BoardOptions::default()
    });
    for i in 0..10 {
        board.draw(i as f64, i as f64 * 2.0, "train_loss", 5);
    }
    board.draw(1.0, 7.0, "val_loss", 1);
    assert_eq!(
        board.points("train_loss").unwrap(),
        &[(2.0, 4.0), (7.0, 14.0)]
    );
    assert_eq!(board.points("val_loss").unwrap(), &[(1.0, 7.0)]);
    assert_eq!(
        board.labels().collect::<Vec<_>>(),
        ["train_loss", "val_loss"]
    );
    // Tensors are accepted as values.
    board.draw(2.0, Tensor::from(0.5f32), "val_loss", 1);
    assert_eq!(board.points("val_loss").unwrap()[1], (2.0, 0.5));
    assert_eq!(board.render_count(), 0, "display off: nothing drawn");
}

#[test]
fn board_reads_tensors_when_it_averages_them() {
    let mut board = ProgressBoard::with_options(BoardOptions {
        display: false,
        ..BoardOptions::default()
    });
    // An accumulator updated in place after each call: the board keeps the value of the call.
    let running = Tensor::zeros([], (Kind::Float, d2l::try_gpu()));
    let mut running_mut = running.shallow_clone();
    for i in 1..=3 {
        let _ = running_mut.g_add_scalar_(1.0);
        board.draw(i as f64, &running, "acc", 3);
        assert_eq!(
            board.points("acc").map_or(0, |p| p.len()),
            usize::from(i == 3),
            "averaged once 3 points are in"
        );
    }
    assert_eq!(
        board.points("acc").unwrap(),
        &[(2.0, 2.0)],
        "mean of 1, 2, 3"
    );
    // Numbers and tensors mix; a tensor of several elements cannot be read and gives NaN.
    board.draw(4.0, 1.0, "mixed", 2);
    board.draw(6.0, Tensor::from(3.0f64), "mixed", 2);
    assert_eq!(board.points("mixed").unwrap(), &[(5.0, 2.0)]);
    board.draw(1.0, Tensor::ones([2], (Kind::Float, Device::Cpu)), "bad", 1);
    assert!(board.points("bad").unwrap()[0].1.is_nan());
}

#[test]
fn board_updates_one_display_in_the_kernel_and_throttles_redraws() {
    // Without a throttle every new averaged point redraws the one display in place.
    let out = Shared::default();
    let mut eager = ProgressBoard::new()
        .xlabel("epoch")
        .with_writer(Frontend::D2lKernel, out.clone());
    eager.options_mut().min_redraw_interval = Duration::ZERO;
    for i in 0..5 {
        eager.draw(i as f64, 1.0 / (1.0 + i as f64), "train_loss", 1);
    }
    eager.draw(4.0, 0.5, "val_loss", 1);
    let bundles = board_bundles(&out.text());
    assert_eq!(bundles.len(), 6);
    assert!(
        bundles.iter().all(|b| b.1 == bundles[0].1),
        "one display id"
    );
    assert!(bundles[0].1.starts_with("d2l-board-"));
    assert_eq!(
        bundles.iter().map(|b| b.2).collect::<Vec<_>>(),
        [false, true, true, true, true, true],
        "created, then updated"
    );
    let last = parse_svg(&bundles[5].0);
    for l in ["train_loss", "val_loss", "epoch"] {
        assert!(last.has_text(l), "{l} in {:?}", last.texts);
    }
    assert_eq!(last.series_colors().len(), 2);

    // A thousand steps arriving at once under the default throttle: nothing is drawn until the
    // run has lasted an interval, and `finish` draws the final state once.
    let out = Shared::default();
    let mut board = ProgressBoard::new()
        .xlabel("epoch")
        .xlim(0.0, 10.0)
        .with_writer(Frontend::D2lKernel, out.clone());
    board.options_mut().min_redraw_interval = Duration::from_secs(3600);
    for step in 0..1000 {
        let epoch = (step + 1) as f64 / 100.0;
        board.draw(epoch, 1.0 / (1.0 + epoch), "train_loss", 10);
        if (step + 1) % 100 == 0 {
            board.draw(epoch, 0.9 / (1.0 + epoch), "val_loss", 1);
            board.draw(epoch, 1.0 - 0.5 / (1.0 + epoch), "val_acc", 1);
        }
    }
    assert_eq!(board.render_count(), 0);
    board.finish();
    assert_eq!(board.render_count(), 1);
    board.finish();
    assert_eq!(board.render_count(), 1, "nothing new to draw");
    let bundles = board_bundles(&out.text());
    assert_eq!(bundles.len(), 1);
    assert!(!bundles[0].2);
    let fig = parse_svg(&bundles[0].0);
    assert_eq!(fig.series_colors().len(), 3);
    assert_eq!(board.points("train_loss").unwrap().len(), 100);
    // More points after `finish` update the same display.
    board.draw(10.5, 0.1, "train_loss", 1);
    board.finish();
    let bundles = board_bundles(&out.text());
    assert_eq!(
        (bundles.len(), bundles[1].2, &bundles[1].1),
        (2, true, &bundles[0].1)
    );
}

#[test]
fn board_under_stock_evcxr_shows_the_final_figure_once() {
    let out = Shared::default();
    let mut board = ProgressBoard::new().with_writer(Frontend::Evcxr, out.clone());
    for i in 0..50 {
        board.draw(i as f64, 1.0 / (1.0 + i as f64), "train_loss", 1);
    }
    assert!(
        out.text().is_empty(),
        "no figure per point without in-place updates"
    );
    board.finish();
    let bundles = board_bundles(&out.text());
    assert_eq!(bundles.len(), 1);
    assert!(parse_svg(&bundles[0].0).has_text("train_loss"));
}

#[test]
fn board_in_a_terminal_writes_no_bundles() {
    let out = Shared::default();
    let mut board = ProgressBoard::new()
        .xlim(0.0, 2.0)
        .with_writer(Frontend::Terminal, out.clone());
    for i in 0..20 {
        board.draw(i as f64 / 10.0, 1.0, "train_loss", 2);
    }
    board.finish();
    assert!(out.text().is_empty());
    assert_eq!(board.render_count(), 0);
    assert_eq!(board.points("train_loss").unwrap().len(), 10);
}
