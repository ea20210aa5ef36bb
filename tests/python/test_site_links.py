"""The built site's links that leave the builder's own pages: the d2l API reference.

Reads the site that `make book-offline` built (`notebooks/_build/html`, or `D2L_SITE`): every
page that links into `api/` must find the file there (`scripts/api-docs` puts rustdoc's output
there after the book is built). And the other way: every "Defined in" link of the API reference
names a page of the site under the `book_url` of `notebooks/book.toml`.
"""

import os
import re
import tomllib
import unittest
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("D2L_SITE", ROOT / "notebooks" / "_build" / "html"))
HREF = re.compile(r'href="([^"#]*api/[^"#]*)')


class SiteLinks(unittest.TestCase):
    def test_links_to_the_api_reference_resolve(self) -> None:
        self.assertTrue((SITE / "index.html").is_file(), f"no site at {SITE}: run `make book-offline` first")
        links = []
        for page in SITE.rglob("*.html"):
            rel = page.relative_to(SITE).as_posix()
            if rel.startswith("api/"):
                continue
            for href in HREF.findall(page.read_text(encoding="utf-8")):
                if urlparse(href).scheme:
                    continue
                links.append((rel, urljoin(rel, href)))
        self.assertTrue(links, "the book links to its API reference (tools appendix, d2l page)")
        missing = [(page, target) for page, target in links if not (SITE / target).is_file()]
        self.assertEqual(missing, [], "run scripts/api-docs after building the site")

    def test_api_items_link_to_their_sections(self) -> None:
        url = tomllib.loads((ROOT / "notebooks" / "book.toml").read_text(encoding="utf-8"))["book"]["book_url"]
        api = SITE / "api" / "d2l"
        self.assertTrue(api.is_dir(), "run scripts/api-docs after building the site")
        section_link = re.compile(r'Defined in <a href="' + re.escape(url) + r'([^"#]+)"')
        linked = set()
        for page in api.rglob("*.html"):
            linked.update(section_link.findall(page.read_text(encoding="utf-8")))
        # Chapters 3-11 save code; each saving section is linked from the items it defines.
        self.assertGreater(len(linked), 30, f"too few 'Defined in' links to {url} in {api}")
        missing = sorted(target for target in linked if not (SITE / target).is_file())
        self.assertEqual(missing, [], f"'Defined in' links under {url} that name no page of the site")


if __name__ == "__main__":
    unittest.main()
