//! Notices: how a page's outputs were made, moved out of the cells to the page.
//!
//! `d2l` publishes a [`Notice`] as a display with the [`NOTICE_MIME`] type when it uses a
//! generated stand-in for a data set or shortens training (`d2l::display::notice`). This pass
//! takes those displays out of the cells' outputs and records each distinct notice once in
//! [`Page::notices`]; the renderers show them in one box at the top of the page.

use anyhow::Result;
use d2l_protocol::{Notice, NOTICE_MIME};

use crate::diag::Report;
use crate::model::{BlockKind, Book, Output, Page};

use super::Pass;

/// The notices pass.
pub struct Notices;

impl Pass for Notices {
    fn name(&self) -> &'static str {
        "notices"
    }

    fn run(&self, book: &mut Book) -> Result<Report> {
        for page in &mut book.pages {
            collect(page);
        }
        Ok(Report::default())
    }
}

/// Moves the notices of `page`'s outputs into `page.notices`, each once, in order.
pub fn collect(page: &mut Page) {
    let mut found: Vec<Notice> = Vec::new();
    for block in &mut page.blocks {
        let BlockKind::Code(cell) = &mut block.kind else {
            continue;
        };
        cell.outputs.retain(|output| {
            let Output::DisplayData { data, .. } = output else {
                return true;
            };
            let Some(payload) = data.0.get(NOTICE_MIME) else {
                return true;
            };
            if let Some(notice) = Notice::from_json(payload) {
                if !found.contains(&notice) {
                    found.push(notice);
                }
            }
            false
        });
    }
    page.notices = found;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::model::MimeBundle;

    fn display(pairs: &[(&str, &str)]) -> Output {
        Output::DisplayData {
            data: MimeBundle(
                pairs
                    .iter()
                    .map(|(m, p)| (m.to_string(), p.to_string()))
                    .collect(),
            ),
            metadata: Default::default(),
        }
    }

    #[test]
    fn notices_leave_the_cells_and_are_kept_once() {
        let mut page = crate::parse::parse_page(
            std::path::Path::new("a.md"),
            "# A\n\n```{.rust .input}\n1\n```\n\n```{.rust .input}\n2\n```\n",
            &mut Diagnostics::default(),
        );
        let scaled = Notice::ScaledRun { scale: 0.1 };
        let synthetic = Notice::SyntheticData {
            dataset: "D".into(),
            switch: "D2L_D=synthetic".into(),
        };
        let tabs = vec!["rust".to_string()];
        let plot = display(&[("image/svg+xml", "<svg/>")]);
        for (k, cell) in page.input_cells_mut("rust", &tabs).enumerate() {
            cell.outputs = vec![
                display(&[(NOTICE_MIME, &scaled.to_json()), ("text/plain", "x")]),
                plot.clone(),
            ];
            if k == 1 {
                cell.outputs
                    .push(display(&[(NOTICE_MIME, &synthetic.to_json())]));
            }
        }
        collect(&mut page);
        assert_eq!(page.notices, vec![scaled, synthetic]);
        for cell in page.input_cells("rust", &tabs) {
            assert_eq!(
                cell.outputs,
                vec![plot.clone()],
                "only the notices were taken out"
            );
        }
    }
}
