//! The generated benchmark book shared by the HTML and PDF benchmarks: 20 chapters of 9
//! sections (200 pages) with headings, math, figures, tables, code cells and references.

use std::fmt::Write as _;
use std::path::Path;

const CHAPTERS: usize = 20;
const SECTIONS: usize = 9; // + 1 chapter index = 10 pages per chapter

fn section(c: usize, s: usize) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Topic {c}.{s}: Models and Losses\n:label:`sec_{c}_{s}`\n"
    );
    for h in 0..4 {
        let _ = writeln!(md, "## Part {h}\n:label:`sec_{c}_{s}_{h}`\n");
        for p in 0..3 {
            let _ = writeln!(
                md,
                "Paragraph {p} explains *ideas* with **emphasis**, `code`, and math $y = \\mathbf{{w}}^\\top \\mathbf{{x}} + b$ \
                 as in :numref:`sec_{c}_{prev}` and :eqref:`eq_{c}_{s}_0`, following :cite:`Gauss.1809`. \
                 It continues with a [link](https://example.com) and a list:\n\n* first item $\\alpha_i$\n* second item\n",
                prev = s.saturating_sub(1).max(1)
            );
        }
        let _ = writeln!(md, "$$L(\\mathbf{{w}}) = \\frac{{1}}{{2n}} \\sum_{{i=1}}^n \\left(y_i - \\hat{{y}}_i\\right)^2 + \\lambda \\|\\mathbf{{w}}\\|^2$$\n:eqlabel:`eq_{c}_{s}_{h}`\n");
        let _ = writeln!(
            md,
            "![Figure {h} of {c}.{s}](../img/fig.svg)\n:width:`300px`\n:label:`fig_{c}_{s}_{h}`\n"
        );
        let _ = writeln!(md, "```{{.rust .input}}\n{}```\n", rust_cell(c, s, h));
        let _ = writeln!(md, "```{{.rust .input}}\nlet loss = squared_loss_{c}_{s}_{h}(&[1.0, 2.0], &[1.5, 2.5]);\nprintln!(\"{{loss}}\");\n```\n");
        let _ = writeln!(md, ": Results of part {h}\n:label:`tab_{c}_{s}_{h}`\n\n| model | loss | time |\n|---|---:|---:|\n| linear | 0.5 | 1.0 |\n| mlp | 0.3 | 2.0 |\n");
        let _ = writeln!(
            md,
            "See :numref:`fig_{c}_{s}_{h}` and :numref:`tab_{c}_{s}_{h}`.\n"
        );
    }
    let _ = writeln!(
        md,
        "## Exercises\n\n1. Change the learning rate.\n1. Derive :eqref:`eq_{c}_{s}_1`.\n"
    );
    md
}

fn rust_cell(c: usize, s: usize, h: usize) -> String {
    format!(
        "//@save\n/// Squared loss of part {h}.\npub fn squared_loss_{c}_{s}_{h}(y_hat: &[f64], y: &[f64]) -> f64 {{\n    \
         let n = y.len() as f64;\n    y_hat\n        .iter()\n        .zip(y)\n        .map(|(a, b)| (a - b) * (a - b) / 2.0)\n        \
         .sum::<f64>()\n        / n\n}}\n\n#[derive(Debug, Clone, Default)]\npub struct Model{c}_{s}_{h} {{\n    /// Weights.\n    pub w: Vec<f64>,\n    \
         /// Bias.\n    pub b: f64,\n}}\n\nimpl Model{c}_{s}_{h} {{\n    /// Predicts one value.\n    pub fn predict(&self, x: &[f64]) -> f64 {{\n        \
         self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b\n    }}\n}}\n"
    )
}

/// Writes the book into `root`; returns its page count.
pub fn generate(root: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(root.join("img"))?;
    std::fs::write(root.join("img/fig.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\"><rect width=\"100\" height=\"50\" fill=\"#ccd\"/></svg>")?;
    std::fs::write(root.join("refs.bib"), "@book{Gauss.1809, author={Gauss, Carl Friedrich}, title={Theoria motus}, publisher={Perthes}, year={1809}}\n")?;
    std::fs::write(
        root.join("book.toml"),
        "[book]\ntitle = \"Benchmark Book\"\ntabs = [\"rust\"]\n[build]\nnotebooks = [\"index.md\", \"chapter_*/*.md\"]\nresources = [\"img\"]\nbibliography = \"refs.bib\"\nlib_dir = \"lib_out\"\n",
    )?;
    std::fs::write(
        root.join("config.ini"),
        "[project]\nname = bench\ntitle = Benchmark Book\nauthor = bench\n\n[build]\nnotebooks = *.md */*.md\neval_notebook = False\nresources = img/\n\n[html]\n\n[pdf]\nbibfile = refs.bib\n",
    )?;
    let mut index = String::from("# Benchmark Book\n\n```toc\n:maxdepth: 2\n:numbered:\n\n");
    let mut pages = 1;
    for c in 1..=CHAPTERS {
        index.push_str(&format!("chapter_{c:02}/index\n"));
        let dir = root.join(format!("chapter_{c:02}"));
        std::fs::create_dir_all(&dir)?;
        let mut toc = format!("# Chapter {c}\n:label:`chap_{c}`\n\nAn introduction to chapter {c}.\n\n```toc\n:maxdepth: 2\n\n");
        for s in 1..=SECTIONS {
            toc.push_str(&format!("section_{s}\n"));
            std::fs::write(dir.join(format!("section_{s}.md")), section(c, s))?;
            pages += 1;
        }
        toc.push_str("```\n");
        std::fs::write(dir.join("index.md"), toc)?;
        pages += 1;
    }
    index.push_str("```\n");
    std::fs::write(root.join("index.md"), index)?;
    Ok(pages)
}
