//! The typst [`World`] of a PDF build: every file in memory, fonts shipped in `typst-kit`.

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::FontStore;

/// The id of a project file at `path` (`/`-separated, relative to the project root).
pub fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path)
        .unwrap_or_else(|_| VirtualPath::new("invalid").expect("a plain name is a valid path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// The embedded fonts, loaded once per process.
fn fonts() -> &'static FontStore {
    static FONTS: OnceLock<FontStore> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut fonts = FontStore::new();
        fonts.extend(typst_kit::fonts::embedded());
        fonts
    })
}

/// A project held in memory: the main source plus files (images, the template).
pub struct MemWorld {
    library: LazyHash<Library>,
    main: FileId,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
}

impl MemWorld {
    /// A world whose main file is `main.typ` with `text`.
    pub fn new(text: String) -> MemWorld {
        let main = file_id("main.typ");
        let mut sources = HashMap::new();
        sources.insert(main, Source::new(main, text));
        MemWorld {
            library: LazyHash::new(Library::builder().build()),
            main,
            sources,
            files: HashMap::new(),
        }
    }

    /// Adds a typst source file at `path`.
    pub fn add_source(&mut self, path: &str, text: String) {
        let id = file_id(path);
        self.sources.insert(id, Source::new(id, text));
    }

    /// Adds a binary file (an image) at `path`.
    pub fn add_file(&mut self, path: &str, bytes: Vec<u8>) {
        self.files.insert(file_id(path), Bytes::new(bytes));
    }

    /// The main source.
    pub fn main_source(&self) -> &Source {
        &self.sources[&self.main]
    }
}

impl World for MemWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        fonts().book()
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        self.sources
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(bytes) = self.files.get(&id) {
            return Ok(bytes.clone());
        }
        match self.sources.get(&id) {
            Some(source) => Ok(Bytes::from_string(source.text().to_owned())),
            None => Err(FileError::NotFound(id.vpath().get_without_slash().into())),
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().font(index)
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
