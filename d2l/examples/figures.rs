//! Renders a gallery of the figures `d2l` draws into a folder, as SVG and PNG, to look at them:
//! `cargo run -p d2l --example figures -- /tmp/d2l-figures`.

use d2l::plotting::{plot, plot_y, show_heatmaps, show_images, Colormap, ProgressBoard, Scale};
use d2l::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "d2l-figures".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let save = |name: &str, fig: &d2l::Figure| -> Result<(), Box<dyn std::error::Error>> {
        fig.save(dir.join(format!("{name}.svg")))?;
        fig.save(dir.join(format!("{name}.png")))?;
        println!("{name}: {}", fig.text());
        Ok(())
    };

    // The calculus section's tangent line.
    let x: Vec<f64> = (0..30).map(|i| i as f64 * 0.1).collect();
    let f: Vec<f64> = x.iter().map(|x| 3.0 * x * x - 4.0 * x).collect();
    let t: Vec<f64> = x.iter().map(|x| 2.0 * x - 3.0).collect();
    save(
        "tangent",
        &plot(&x, [&f, &t])
            .xlabel("x")
            .ylabel("f(x)")
            .legend(["f(x)", "Tangent line (x=1)"])
            .figure(),
    )?;

    // Four styles, a log scale and a tensor input.
    let xt = Tensor::arange_start_step(0.1, 10.0, 0.1, (Kind::Double, Device::Cpu));
    let fig = plot(
        &xt,
        [
            xt.exp(),
            xt.pow_tensor_scalar(2),
            xt.pow_tensor_scalar(3),
            &xt + 1,
        ],
    )
    .legend(["exp", "x^2", "x^3", "x+1"])
    .yscale(Scale::Log)
    .xlabel("x")
    .figsize(4.5, 3.0)
    .figure();
    save("log", &fig)?;

    // Scatter and plot_y.
    let n = Tensor::randn([200], (Kind::Float, Device::Cpu));
    save(
        "scatter",
        &d2l::plotting::Plot::new()
            .scatter(
                &n,
                &(&n * 2.0 + Tensor::randn([200], (Kind::Float, Device::Cpu))),
            )
            .figure(),
    )?;
    save(
        "ploty",
        &plot_y([vec![1.0, 3.0, 2.0, 5.0], vec![2.0, 2.5, 3.0, 1.0]])
            .legend(["a", "b"])
            .title("plot_y")
            .figure(),
    )?;

    // A progress board as a trainer fills it.
    let mut board = ProgressBoard::new().xlabel("epoch").xlim(0.0, 10.0);
    for step in 0..100 {
        let e = (step + 1) as f64 / 10.0;
        board.draw(
            e,
            1.0 / (1.0 + e) + 0.05 * ((step * 7) % 5) as f64 / 5.0,
            "train_loss",
            5,
        );
        if (step + 1) % 10 == 0 {
            board.draw(e, 0.9 / (1.0 + e) + 0.1, "val_loss", 1);
            board.draw(e, 1.0 - 0.5 / (1.0 + e), "val_acc", 1);
        }
    }
    board.finish();
    save("board", &board.figure())?;

    // Images and heat maps.
    let imgs = Tensor::rand([18, 28, 28], (Kind::Float, Device::Cpu));
    let titles: Vec<String> = (0..18).map(|i| format!("class {i}")).collect();
    save("images", &show_images(&imgs, 2, 9, &titles, 1.5).figure())?;
    let rgb = Tensor::rand([3, 3, 32, 32], (Kind::Float, Device::Cpu));
    save(
        "rgb",
        &show_images(&rgb, 1, 3, d2l::plotting::NO_TITLES, 1.5)
            .cmap(Colormap::Viridis)
            .figure(),
    )?;
    let w = Tensor::eye(10, (Kind::Float, Device::Cpu)).reshape([1, 1, 10, 10]);
    save("heatmap", &show_heatmaps(&w, "Keys", "Queries").figure())?;
    let w = Tensor::rand([2, 3, 8, 12], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
    save(
        "heatmaps",
        &show_heatmaps(&w, "Keys", "Queries")
            .titles(["Head 1", "Head 2", "Head 3"])
            .figure(),
    )?;

    // The synthetic Fashion-MNIST stand-in.
    let synth = dir.join("fashion-mnist-synthetic");
    d2l::data::fashion_mnist::write_synthetic(
        &synth,
        &d2l::data::fashion_mnist::SyntheticOptions {
            train: 40,
            test: 20,
            seed: 0,
        },
    )?;
    let data = d2l::data::FashionMnistTensors::load(&synth)?;
    let x = data.train_images.narrow(0, 0, 20);
    let labels = data.text_labels(&data.train_labels.narrow(0, 0, 20));
    save(
        "fashion_mnist_synthetic",
        &show_images(x.squeeze_dim(1), 2, 10, &labels, 1.2).figure(),
    )?;
    Ok(())
}
