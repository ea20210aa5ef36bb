//! The fixture book's website, checked by parsing the HTML it produces.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

struct Site {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    pages: HashMap<PathBuf, Html>,
}

impl Site {
    fn build() -> Site {
        let (tmp, root) = common::fixture_copy();
        let (ok, stdout, stderr) = common::cli(&root, &["build", "html", "--warning-is-error"]);
        assert!(ok, "build failed:\n{stdout}\n{stderr}");
        let dir = root.join("_build/html");
        let mut pages = HashMap::new();
        for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
            if e.path().extension().is_some_and(|x| x == "html") {
                let rel = e.path().strip_prefix(&dir).unwrap().to_path_buf();
                pages.insert(
                    rel,
                    Html::parse_document(&std::fs::read_to_string(e.path()).unwrap()),
                );
            }
        }
        Site {
            _tmp: tmp,
            dir,
            pages,
        }
    }

    fn page(&self, rel: &str) -> &Html {
        self.pages
            .get(Path::new(rel))
            .unwrap_or_else(|| panic!("no page {rel}"))
    }

    /// Resolves an href on page `from` to (page path, fragment).
    fn resolve(&self, from: &str, href: &str) -> (PathBuf, String) {
        let (path, frag) = href.split_once('#').unwrap_or((href, ""));
        let target = if path.is_empty() {
            PathBuf::from(from)
        } else {
            normalize(&Path::new(from).parent().unwrap().join(path))
        };
        (target, frag.to_string())
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(s) => out.push(s),
            _ => {}
        }
    }
    out
}

#[test]
fn every_reference_resolves_to_an_element_with_that_number() {
    let site = Site::build();
    let mut checked = 0;
    for (rel, doc) in &site.pages {
        let from = rel.to_str().unwrap();
        for a in doc.select(&sel("a.reference")) {
            let href = a.value().attr("href").unwrap();
            let (page, id) = site.resolve(from, href);
            let target_doc = site
                .pages
                .get(&page)
                .unwrap_or_else(|| panic!("{from}: {href} names a missing page"));
            let target = target_doc
                .select(&sel(&format!("[id=\"{id}\"]")))
                .next()
                .unwrap_or_else(|| panic!("{from}: {href}: no element with id {id}"));
            let shown = text(a);
            if let Some(n) = shown
                .strip_prefix("Fig. ")
                .or_else(|| shown.strip_prefix("Table "))
            {
                let cap = target
                    .select(&sel(".caption-number"))
                    .next()
                    .map(text)
                    .unwrap_or_default();
                assert!(
                    cap.ends_with(n) && cap.starts_with(&shown[..3]),
                    "{from}: {shown} points at caption {cap:?}"
                );
            } else if let Some(n) = shown.strip_prefix("Section ") {
                let num = target
                    .select(&sel(".section-number"))
                    .next()
                    .map(text)
                    .unwrap_or_default();
                assert_eq!(num, format!("{n}."), "{from}: {shown}");
            } else if shown.starts_with('(') {
                let eqno = target
                    .select(&sel(".eqno"))
                    .next()
                    .map(text)
                    .unwrap_or_default();
                assert_eq!(eqno, shown, "{from}: equation reference");
            } else {
                // :ref: shows the title of the section.
                assert!(
                    text(target).contains(&shown),
                    "{from}: title {shown:?} not in target {:?}",
                    text(target)
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} references checked");
    // Spot-check the numbers themselves.
    let intro = site.page("chapter_basics/intro.html");
    let refs: Vec<String> = intro.select(&sel("a.reference")).map(text).collect();
    for expected in [
        "Fig. 1.1.1",
        "Table 1.2.1",
        "(1.1.1)",
        "Section 1.2",
        "Tables and Equations",
    ] {
        assert!(
            refs.iter().any(|r| r == expected),
            "missing {expected} in {refs:?}"
        );
    }
    assert_eq!(
        text(
            site.page("chapter_basics/tables.html")
                .select(&sel("#eq_linear .eqno"))
                .next()
                .unwrap()
        ),
        "(1.2.1)"
    );
}

#[test]
fn citations_link_to_bibliography_entries() {
    let site = Site::build();
    let intro = site.page("chapter_basics/intro.html");
    let bib = site.page("bibliography.html");
    let cites: Vec<_> = intro.select(&sel("a.citation")).collect();
    assert_eq!(cites.len(), 4);
    for a in &cites {
        let (page, id) = site.resolve("chapter_basics/intro.html", a.value().attr("href").unwrap());
        assert_eq!(page, Path::new("bibliography.html"));
        let entry = bib
            .select(&sel(&format!("li[id=\"{id}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no entry {id}"));
        let year = text(*a)
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>();
        assert!(text(entry).contains(&year), "entry {id} lacks year {year}");
    }
    assert_eq!(text(cites[0]), "Gauss (1809)");
    assert_eq!(text(cites[3]), "McCulloch and Pitts, 1943");
    assert_eq!(bib.select(&sel("ol.bibliography li")).count(), 3);
}

#[test]
fn math_is_mathml_and_outputs_are_rendered() {
    let site = Site::build();
    let intro = site.page("chapter_basics/intro.html");
    assert!(intro.select(&sel("p math[display=inline]")).count() >= 1);
    let eq = intro
        .select(&sel("#eq_loss math[display=block]"))
        .next()
        .expect("block MathML for eq_loss");
    assert!(eq.select(&sel("mfrac")).next().is_some());
    assert_eq!(
        text(
            intro
                .select(&sel("pre.output.stream.stdout"))
                .next()
                .unwrap()
        ),
        "9"
    );
    assert!(intro
        .select(&sel(".output.svg svg rect.plotted"))
        .next()
        .is_some());
    let png = intro.select(&sel(".output.png img")).next().unwrap();
    assert!(png
        .value()
        .attr("src")
        .unwrap()
        .starts_with("data:image/png;base64,iVBOR"));
    assert_eq!(
        text(
            intro
                .select(&sel(".output.html b.html-result"))
                .next()
                .unwrap()
        ),
        "16.0"
    );
    let err = text(intro.select(&sel("pre.output.error")).next().unwrap());
    assert!(
        err.contains("mismatched types") && !err.contains('\u{1b}'),
        "{err:?}"
    );
    // Hidden outputs and hidden code.
    let html = intro.html();
    assert!(!html.contains("SHOULD-BE-HIDDEN"));
    assert!(!html.contains("d2l::plot") && html.contains("quiet"));
    // Directive lines never reach the page.
    assert!(!html.contains("Hide code") && !html.contains("@tab") && !html.contains(":label:"));
}

#[test]
fn layout_has_numbered_sidebar_tabs_navigation_and_search() {
    let site = Site::build();
    let intro = site.page("chapter_basics/intro.html");
    let side: Vec<String> = intro.select(&sel("#sidebar a")).map(text).collect();
    assert_eq!(
        side[..5],
        [
            "Preface",
            "1. Basics",
            "1.1. Introduction",
            "1.2. Tables and Equations",
            "2. More"
        ]
    );
    assert_eq!(
        text(intro.select(&sel("#sidebar a.current")).next().unwrap()),
        "1.1. Introduction"
    );
    assert!(text(intro.select(&sel("a[rel=prev]")).next().unwrap()).contains("1. Basics"));
    assert!(text(intro.select(&sel("a[rel=next]")).next().unwrap())
        .contains("1.2. Tables and Equations"));
    let local: Vec<String> = intro.select(&sel(".local-toc a")).map(text).collect();
    assert_eq!(
        local,
        ["1.1.1. The Model", "1.1.1.1. Code", "1.1.2. Summary"]
    );
    // Tabs: the default tab shows, the others are hidden until chosen.
    let buttons: Vec<String> = intro.select(&sel(".tab-button")).map(text).collect();
    assert_eq!(buttons, ["rust", "pytorch"]);
    for pane in intro.select(&sel(".tab-pane[data-tab=pytorch]")) {
        assert!(pane.value().attr("hidden").is_some());
    }
    assert!(intro.select(&sel("button.copy")).count() >= 5);
    assert!(
        intro
            .select(&sel("code.language-rust span[class^=hl-]"))
            .next()
            .is_some(),
        "no highlighting"
    );
    // Download and discussion links.
    let dl = intro
        .select(&sel("a.download"))
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap();
    assert!(site.dir.join("chapter_basics").join(dl).exists(), "{dl}");
    assert_eq!(
        intro
            .select(&sel("a.discussion"))
            .next()
            .unwrap()
            .value()
            .attr("href"),
        Some("https://discuss.example/t/sec_intro")
    );
    // Figures: copied image, caption and width.
    let img = intro.select(&sel("#fig_neuron img")).next().unwrap();
    assert!(img.value().attr("style").unwrap().contains("width:300px"));
    assert!(site.dir.join("img/neuron.svg").exists());
    let again = site
        .page("chapter_more/python.html")
        .select(&sel("#fig_again"))
        .next()
        .unwrap();
    assert!(again
        .select(&sel("img"))
        .next()
        .unwrap()
        .value()
        .attr("style")
        .unwrap()
        .contains("height:80px"));
    assert_eq!(
        text(again.select(&sel(".caption-number")).next().unwrap()),
        "Fig. 2.1.1"
    );
    // Search index covers every page; excluded drafts are not built.
    let index = std::fs::read_to_string(site.dir.join("_static/searchindex.js")).unwrap();
    assert!(index.contains("1.2. Tables and Equations") && index.contains("Squares are easy"));
    assert!(!site.dir.join("chapter_basics/draft_notes.html").exists());
    // The toc block on the index page lists numbered chapters.
    let index_page = site.page("index.html");
    let toc: Vec<String> = index_page
        .select(&sel("article .toc-block a"))
        .map(text)
        .collect();
    assert_eq!(
        toc,
        [
            "Preface",
            "1. Basics",
            "1.1. Introduction",
            "1.2. Tables and Equations",
            "2. More",
            "2.1. A d2lbook Page"
        ]
    );
}
