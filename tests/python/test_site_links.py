"""The built site's links that leave the builder's own pages: the d2l API reference.

Reads the site that `make book-offline` built (`notebooks/_build/html`, or `D2L_SITE`): every
page that links into `api/` must find the file there (`scripts/api-docs` puts rustdoc's output
there after the book is built).
"""

import os
import re
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


if __name__ == "__main__":
    unittest.main()
