//! What each notebook can see of the generated crate, and the order notebooks run in.

use crate::model::Book;
use crate::render::library::module_name;

/// The book's chapters (named as `build lib` names their generated modules) in the book's
/// order, and each page's chapter.
pub struct Chapters {
    /// Module names, in order of first appearance.
    pub names: Vec<String>,
    /// For each page, the index of its chapter in `names`.
    of_page: Vec<usize>,
}

impl Chapters {
    /// The chapters of `book`'s pages.
    pub fn of(book: &Book) -> Chapters {
        let mut names: Vec<String> = Vec::new();
        let mut of_page = Vec::with_capacity(book.pages.len());
        for page in &book.pages {
            let module = module_name(&page.stem);
            let position = names.iter().position(|c| *c == module).unwrap_or_else(|| {
                names.push(module);
                names.len() - 1
            });
            of_page.push(position);
        }
        Chapters { names, of_page }
    }

    /// The generated modules page `page` can use: its own chapter's and those of the chapters
    /// before it.
    pub fn visible_from(&self, page: usize) -> &[String] {
        &self.names[..=self.of_page[page]]
    }
}

/// The order to run jobs in under `-j`: the longest first, by the seconds each took when it
/// last ran (`previous`), so that a long notebook does not start last and run alone. A
/// notebook never run before goes first (it may be long), the ones with more cells earlier.
pub fn longest_first(previous: &[Option<f64>], cells: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..previous.len()).collect();
    order.sort_by(|&a, &b| match (previous[a], previous[b]) {
        (None, None) => cells[b].cmp(&cells[a]),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.total_cmp(&x),
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_known_notebook_starts_first_after_unknown_ones() {
        let previous = [Some(3.0), None, Some(40.0), None, Some(12.5)];
        let cells = [9, 2, 1, 7, 3];
        assert_eq!(longest_first(&previous, &cells), [3, 1, 2, 4, 0]);
    }
}
