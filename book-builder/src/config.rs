//! `book.toml`: what the book is called, which files make it, and where output goes.
//!
//! ```toml
//! [book]
//! title = "Dive into Deep Learning"
//! authors = ["A. Author"]
//! release = "0.1.0"
//! tabs = ["rust"]                 # the first tab is the default one (the PDF's; with more
//!                                 # tabs, each other tab's notebooks go to html/notebooks_<tab>)
//! book_url = "https://book.example/"   # optional: where the site is published; the items of
//!                                      # `build lib` link their section's page there
//!
//! [build]
//! notebooks = ["index.md", "chapter_*/*.md"]
//! exclusions = []
//! resources = ["img"]
//! bibliography = "refs.bib"
//! output_dir = "_build"
//! lib_dir = "../d2l/src/book"     # where `build lib` writes (default shown)
//! discussion_url = "https://forum.example/t/{label}"   # optional
//! lib_prelude = ["use crate::prelude::*;"]             # top of each generated chapter
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The whole `book.toml`, plus the folder it was read from.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// The `[book]` table.
    pub book: BookMeta,
    /// The `[build]` table.
    #[serde(default)]
    pub build: BuildConfig,
    /// The folder holding `book.toml`; every relative path is taken from here.
    #[serde(skip)]
    pub root: PathBuf,
}

/// Title page facts and the code tabs of the book.
#[derive(Debug, Clone, Deserialize)]
pub struct BookMeta {
    /// The book's title.
    pub title: String,
    /// Its authors, in order.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Version string shown on every page.
    #[serde(default)]
    pub release: String,
    /// Code tabs (frameworks); the first one is what untagged cells belong to.
    #[serde(default = "default_tabs")]
    pub tabs: Vec<String>,
    /// Where the rendered site is published (ending in `/`): the "Defined in" line of every
    /// generated library item links its page there.
    #[serde(default)]
    pub book_url: Option<String>,
}

/// Which files make the book and where the outputs go.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildConfig {
    /// Globs, relative to the root, of the markdown notebooks.
    #[serde(default = "default_notebooks")]
    pub notebooks: Vec<String>,
    /// Globs of files to leave out even when `notebooks` matches them.
    #[serde(default)]
    pub exclusions: Vec<String>,
    /// Folders or files copied into the site as they are (images, data).
    #[serde(default)]
    pub resources: Vec<String>,
    /// BibTeX/BibLaTeX file for `:cite:`.
    #[serde(default)]
    pub bibliography: Option<String>,
    /// Output folder, relative to the root.
    #[serde(default = "default_output")]
    pub output_dir: String,
    /// Where `build lib` writes, relative to the root.
    #[serde(default = "default_lib_dir")]
    pub lib_dir: String,
    /// Optional discussion link per page; `{label}` becomes the page's label
    /// (or its path when it has none) and `{path}` the page path without `.md`.
    #[serde(default)]
    pub discussion_url: Option<String>,
    /// Lines put at the top of every generated chapter module (the imports
    /// that notebooks get from the kernel's prelude), e.g. `use crate::prelude::*;`.
    #[serde(default)]
    pub lib_prelude: Vec<String>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            notebooks: default_notebooks(),
            exclusions: Vec::new(),
            resources: Vec::new(),
            bibliography: None,
            output_dir: default_output(),
            lib_dir: default_lib_dir(),
            discussion_url: None,
            lib_prelude: Vec::new(),
        }
    }
}

fn default_tabs() -> Vec<String> {
    vec!["rust".to_string()]
}
fn default_notebooks() -> Vec<String> {
    vec!["index.md".to_string(), "chapter_*/*.md".to_string()]
}
fn default_output() -> String {
    "_build".to_string()
}
fn default_lib_dir() -> String {
    "../d2l/src/book".to_string()
}

impl Config {
    /// Reads `book.toml` from `root`.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join("book.toml");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: run d2l-book in the folder that holds book.toml, or pass --root",
                path.display()
            )
        })?;
        Self::parse(&text, root).with_context(|| format!("in {}", path.display()))
    }

    /// Parses the text of a `book.toml` whose folder is `root`.
    pub fn parse(text: &str, root: &Path) -> Result<Config> {
        let mut config: Config = toml::from_str(text).context("book.toml is not valid")?;
        config.root = root.to_path_buf();
        if config.book.tabs.is_empty() {
            bail!("[book] tabs must name at least one tab, e.g. tabs = [\"rust\"]");
        }
        let out = Path::new(&config.build.output_dir);
        let normal: Vec<_> = out
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        if out.is_absolute()
            || normal.is_empty()
            || normal
                .iter()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            bail!(
                "[build] output_dir = {:?} must be a folder inside the book, such as \"_build\"",
                config.build.output_dir
            );
        }
        // `clean` deletes the output folder: it must hold no sources.
        let first = normal[0].as_os_str().to_string_lossy().into_owned();
        let sources = config
            .build
            .notebooks
            .iter()
            .chain(&config.build.resources)
            .chain(config.build.bibliography.iter());
        for source in sources {
            let head = Path::new(source)
                .components()
                .find(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            let overlaps = head == first
                || (!head.starts_with("**")
                    && glob::Pattern::new(&head).is_ok_and(|p| p.matches(&first)));
            if overlaps {
                bail!("[build] output_dir = {:?} overlaps the sources {source:?}: `d2l-book clean` would delete them; choose a folder of its own, such as \"_build\"", config.build.output_dir);
            }
        }
        Ok(config)
    }

    /// The default tab: the one untagged cells belong to.
    pub fn default_tab(&self) -> &str {
        &self.book.tabs[0]
    }

    /// The real path of the source file `rel` (relative to the root), if it lies inside the
    /// book: a symbolic link may point to another place in the book, never out of it (a link to
    /// `~/.ssh/id_rsa` named `img/x.png` must not end up in the site). The error says why not.
    pub fn source_path(&self, rel: &Path) -> std::result::Result<PathBuf, String> {
        let root = std::fs::canonicalize(&self.root)
            .map_err(|e| format!("cannot find the book folder {}: {e}", self.root.display()))?;
        let real = std::fs::canonicalize(self.root.join(rel))
            .map_err(|e| format!("cannot read {}: {e}", rel.display()))?;
        if real.starts_with(&root) {
            Ok(real)
        } else {
            Err(format!("{} leads outside the book folder (to {}); it is not read: copy the file into the book", rel.display(), real.display()))
        }
    }

    /// Absolute output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.root.join(&self.build.output_dir)
    }

    /// Folder `build lib` writes into, unless the command line names another.
    pub fn lib_dir(&self) -> PathBuf {
        self.root.join(&self.build.lib_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_output(output_dir: &str) -> Result<Config> {
        let text = format!("[book]\ntitle = \"T\"\n[build]\nnotebooks = [\"index.md\", \"chapter_*/*.md\"]\nresources = [\"img\"]\noutput_dir = {output_dir:?}\n");
        Config::parse(&text, Path::new("/book"))
    }

    #[test]
    fn the_output_folder_is_a_folder_of_its_own() {
        assert!(with_output("_build").is_ok());
        assert!(with_output("./out/site").is_ok());
        for bad in [
            "./",
            ".",
            "",
            "/tmp/x",
            "../x",
            "chapter_x",
            "chapter_x/_build",
            "img",
            "./img/out",
        ] {
            let err = with_output(bad).map(|_| ()).unwrap_err();
            assert!(
                format!("{err:#}").contains("output_dir"),
                "{bad:?}: {err:#}"
            );
        }
    }
}
