//! `refs.bib`: entries for citations and the bibliography page.
//!
//! Parsed with the `biblatex` crate; only what the book shows is kept.

use std::collections::BTreeMap;

use biblatex::{ChunksExt, Entry};

/// One bibliography entry, reduced to what pages display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BibEntry {
    /// Citation key.
    pub key: String,
    /// Family names of the authors (or editors), in order.
    pub family_names: Vec<String>,
    /// Authors as "Given Family", in order.
    pub full_names: Vec<String>,
    /// Title.
    pub title: String,
    /// Year, or empty.
    pub year: String,
    /// Journal, book title or publisher, or empty.
    pub venue: String,
    /// URL or DOI link, or empty.
    pub url: String,
}

impl BibEntry {
    /// "Vaswani et al.", "Cho and Bengio", "Hinton".
    pub fn short_authors(&self) -> String {
        match self.family_names.as_slice() {
            [] => self.key.clone(),
            [a] => a.clone(),
            [a, b] => format!("{a} and {b}"),
            [a, ..] => format!("{a} et al."),
        }
    }
}

/// All entries by key.
#[derive(Debug, Clone, Default)]
pub struct Bibliography {
    /// Entries by citation key.
    pub entries: BTreeMap<String, BibEntry>,
}

impl Bibliography {
    /// Parses BibTeX/BibLaTeX text. The error is the line of the problem and what it is.
    pub fn parse(text: &str) -> Result<Bibliography, (usize, String)> {
        let bib = biblatex::Bibliography::parse(text).map_err(|e| {
            // The parser often notices a problem only at the end of the file: point at the entry
            // that holds the error, which is where an author looks.
            let at = e.span.start.min(text.len());
            let entry = text[..at].rfind('@').unwrap_or(at);
            let line = text.as_bytes()[..entry]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            (
                line,
                format!("{} in the entry that starts here: fix it", e.kind),
            )
        })?;
        let entries = bib.iter().map(|e| (e.key.clone(), reduce(e))).collect();
        Ok(Bibliography { entries })
    }

    /// Entries in the order a bibliography lists them: by first author's family name, then year.
    pub fn sorted(&self) -> Vec<&BibEntry> {
        let mut entries: Vec<&BibEntry> = self.entries.values().collect();
        entries.sort_by(|a, b| {
            (a.family_names.first(), &a.year).cmp(&(b.family_names.first(), &b.year))
        });
        entries
    }

    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&BibEntry> {
        self.entries.get(key)
    }
}

fn field(entry: &Entry, name: &str) -> String {
    entry
        .get(name)
        .map(|c| c.format_verbatim())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn reduce(entry: &Entry) -> BibEntry {
    let people = entry
        .author()
        .ok()
        .filter(|a| !a.is_empty())
        .or_else(|| {
            entry
                .editors()
                .ok()
                .and_then(|e| e.into_iter().next().map(|(p, _)| p))
        })
        .unwrap_or_default();
    let family_names = people.iter().map(|p| p.name.clone()).collect();
    let full_names = people
        .iter()
        .map(|p| format!("{} {}", p.given_name, p.name).trim().to_string())
        .collect();
    let mut year = field(entry, "year");
    if year.is_empty() {
        year = field(entry, "date").chars().take(4).collect();
    }
    let venue = [
        "journal",
        "journaltitle",
        "booktitle",
        "publisher",
        "school",
        "institution",
    ]
    .iter()
    .map(|f| field(entry, f))
    .find(|v| !v.is_empty())
    .unwrap_or_default();
    let mut url = field(entry, "url");
    if url.is_empty() {
        let doi = field(entry, "doi");
        if !doi.is_empty() {
            url = format!("https://doi.org/{doi}");
        }
    }
    BibEntry {
        key: entry.key.clone(),
        family_names,
        full_names,
        title: field(entry, "title"),
        year,
        venue,
        url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_names_year_and_venue() {
        let bib = Bibliography::parse("@article{vaswani2017,\n title={Attention Is All You Need},\n author={Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},\n journal={NeurIPS},\n year={2017}\n}\n@book{goodfellow2016, title={Deep Learning}, author={Goodfellow, Ian and Bengio, Yoshua}, publisher={MIT Press}, year={2016}}").unwrap();
        let v = bib.get("vaswani2017").unwrap();
        assert_eq!(v.short_authors(), "Vaswani et al.");
        assert_eq!(
            (v.title.as_str(), v.year.as_str(), v.venue.as_str()),
            ("Attention Is All You Need", "2017", "NeurIPS")
        );
        assert_eq!(
            bib.get("goodfellow2016").unwrap().short_authors(),
            "Goodfellow and Bengio"
        );
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let (line, message) =
            Bibliography::parse("@article{a, title={x}}\n\n@article{b, title={unclosed}\n")
                .unwrap_err();
        assert!(
            line >= 3,
            "the broken entry starts at line 3, not {line}: {message}"
        );
    }
}
