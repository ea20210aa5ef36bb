//! Sources are read only from inside the book folder: a symbolic link that leads out of it is
//! refused with a diagnostic, and its target never reaches the site or the PDF.

mod common;

#[test]
fn links_out_of_the_book_are_not_followed() {
    let (tmp, root) = common::fixture_copy();
    let secret = tmp.path().join("id_rsa");
    std::fs::write(&secret, "PRIVATE-KEY-MATERIAL").unwrap();
    std::os::unix::fs::symlink(&secret, root.join("img/leak.svg")).unwrap();
    // A link inside the book stays allowed.
    std::os::unix::fs::symlink(root.join("img/neuron.svg"), root.join("img/alias.svg")).unwrap();
    let page = root.join("chapter_basics/tables.md");
    let text = std::fs::read_to_string(&page).unwrap()
        + "\n![A leak.](../img/leak.svg)\n\n![An alias.](../img/alias.svg)\n";
    std::fs::write(&page, text).unwrap();
    let (ok, out, err) = common::cli(&root, &["build", "html"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        err.contains("img/leak.svg leads outside the book folder"),
        "{err}"
    );
    assert!(
        !root.join("_build/html/img/leak.svg").exists(),
        "the link's target was copied into the site"
    );
    assert_eq!(
        std::fs::read(root.join("_build/html/img/alias.svg")).unwrap(),
        std::fs::read(root.join("img/neuron.svg")).unwrap()
    );
    let (ok, out, err) = common::cli(&root, &["build", "pdf"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        err.contains("img/leak.svg leads outside the book folder"),
        "{err}"
    );
    let pdf = std::fs::read(root.join("_build/pdf/fixture-book.pdf")).unwrap();
    assert!(!pdf.windows(20).any(|w| w == b"PRIVATE-KEY-MATERIAL"));

    // A notebook that links out of the book is an error naming it.
    let outside = tmp.path().join("outside.md");
    std::fs::write(&outside, "# Outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("chapter_more/outside.md")).unwrap();
    let (ok, _, err) = common::cli(&root, &["build", "html"]);
    assert!(
        !ok && err.contains("chapter_more/outside.md:1: error")
            && err.contains("leads outside the book folder"),
        "{err}"
    );
}
