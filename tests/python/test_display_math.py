"""Display math that fits: the book's widest equations in headless Chromium at 800 and 1280 px.

Reads the site that `make book-offline` built (`notebooks/_build/html`, or `D2L_SITE`), ranks
every display equation by the length of its MathML, and opens the pages of the widest ones in a
frame of each width. An equation fails when it is clipped on the left, when its right end cannot
be reached by scrolling its box, or when it runs into its number. Chromium is found as
`CHROMIUM`, `chromium` or `chromium-browser` (scripts/setup installs it); without one the test fails.
"""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("D2L_SITE", ROOT / "notebooks" / "_build" / "html"))
WIDEST = 12
EQUATION = re.compile(r'<div class="equation"(?: id="([^"]+)")?>(?:<div class="equation-body">)?(<math.*?</math>)', re.S)

# Loads each page in a frame of the given width and measures the chosen equations.
HARNESS = """<!DOCTYPE html><html><body><pre id="result">running</pre>
<iframe id="f" style="width:%(width)dpx;height:900px;border:0"></iframe>
<script>
const wanted = %(wanted)s; const out = []; let k = 0; const f = document.getElementById('f');
function measure(doc, w) {
  const eq = w.id ? doc.getElementById(w.id) : doc.querySelectorAll('.equation')[w.index];
  if (!eq) { out.push([w.page, w.label, 'missing'].join('|')); return; }
  const body = eq.querySelector('.equation-body') || eq; const math = eq.querySelector('math');
  body.scrollLeft = 0;
  const rb = body.getBoundingClientRect(), rm = math.getBoundingClientRect();
  const clipped = rm.left < rb.left - 1;
  const unreachable = rm.right > rb.right + 1 && body.scrollWidth - body.clientWidth < rm.right - rb.right - 2;
  const no = eq.querySelector('.eqno');
  let covered = false;
  if (no) { const rn = no.getBoundingClientRect(); covered = rn.left < Math.min(rm.right, rb.right) - 1; }
  out.push([w.page, w.label, Math.round(rm.width), Math.round(rb.width), clipped, unreachable, covered].join('|'));
}
f.addEventListener('load', () => {
  try { measure(f.contentDocument, wanted[k]); } catch (e) { out.push(wanted[k].page + '|' + wanted[k].label + '|error ' + e); }
  k += 1;
  if (k < wanted.length) f.src = wanted[k].page; else document.getElementById('result').textContent = out.join('\\n');
});
f.src = wanted[0].page;
</script></body></html>"""


def chromium():
    for name in [os.environ.get("CHROMIUM"), "chromium", "chromium-browser"]:
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def widest_equations(site: Path, count: int):
    """The `count` display equations with the longest MathML: (length, page, id, index)."""
    found = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        if rel.startswith(("_", "notebooks")):
            continue
        for index, match in enumerate(EQUATION.finditer(page.read_text(encoding="utf-8"))):
            found.append((len(match.group(2)), rel, match.group(1) and html.unescape(match.group(1)), index))
    found.sort(reverse=True)
    return found[:count]


class Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class DisplayMath(unittest.TestCase):
    def test_the_widest_equations_fit_at_800_and_1280_px(self) -> None:
        browser = chromium()
        self.assertIsNotNone(browser, "no Chromium here: scripts/setup installs it (apt-get install -y chromium), or set CHROMIUM")
        self.assertTrue((SITE / "index.html").is_file(), f"no site at {SITE}: run `make book-offline` first")
        widest = widest_equations(SITE, WIDEST)
        self.assertEqual(len(widest), WIDEST, "the book has fewer display equations than expected")
        wanted = [{"page": p, "id": i, "index": n, "label": i or f"#{n}"} for _, p, i, n in widest]
        with tempfile.TemporaryDirectory(prefix="d2l-math-") as tmp:
            served = Path(tmp) / "site"
            shutil.copytree(SITE, served)
            server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                for width in (800, 1280):
                    (served / "math-check.html").write_text(HARNESS % {"width": width, "wanted": json.dumps(wanted)})
                    rows = self.run_check(browser, Path(tmp) / f"profile-{width}", server.server_address[1], width)
                    self.assertEqual(len(rows), WIDEST, rows)
                    bad = [r for r in rows if len(r) != 7 or "true" in r[4:]]
                    print(f"width {width}: " + "; ".join(f"{r[0]}{'#' + r[1] if r[1][0] != '#' else r[1]} {r[2]}/{r[3]} px" for r in rows if len(r) == 7))
                    self.assertEqual(bad, [], f"at {width} px these equations are clipped, unreachable or cover their number (page|label|math px|box px|clipped|unreachable|covered)")
            finally:
                server.shutdown()

    def run_check(self, browser: str, profile: Path, port: int, width: int):
        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                f"--window-size={width + 40},1000", "--virtual-time-budget=60000", "--dump-dom",
                f"http://127.0.0.1:{port}/math-check.html"]
        dom = subprocess.run(args, capture_output=True, text=True, timeout=300).stdout
        self.assertIn('<pre id="result">', dom, dom[-2000:])
        result = dom.split('<pre id="result">')[1].split("</pre>")[0]
        return [html.unescape(line).split("|") for line in result.splitlines()]


if __name__ == "__main__":
    unittest.main()
