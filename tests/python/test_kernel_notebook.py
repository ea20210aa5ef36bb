"""nbclient runs a small notebook on the d2l-rust kernel and gets d2l's SVG plot back."""
from __future__ import annotations

import unittest

import nbformat
from nbclient import NotebookClient

import kernel_support as ks

ks.install_kernelspec()
FIXTURE = ks.REPO / "tests" / "fixtures" / "kernel" / "plot.ipynb"


class NotebookRun(unittest.TestCase):
    def test_plot_notebook_outputs_svg(self) -> None:
        nb = nbformat.read(FIXTURE, as_version=4)
        client = NotebookClient(nb, kernel_name=ks.KERNEL_NAME, timeout=ks.FIRST_CELL_TIMEOUT,
                                startup_timeout=120)
        client.execute()
        code = [c for c in nb.cells if c.cell_type == "code"]
        size = code[0].outputs[0]
        self.assertEqual(size.output_type, "execute_result")
        self.assertEqual(size.data["text/plain"], "[41]")
        plots = [o for o in code[1].outputs if o.output_type == "display_data"]
        self.assertEqual(len(plots), 1, code[1].outputs)
        svg = plots[0].data["image/svg+xml"]
        self.assertIn("<svg", svg[:200])
        self.assertIn("sin(x)", svg)  # the y label d2l drew
        self.assertIn("image/svg+xml", plots[0].data)
        self.assertNotIn("application/vnd.d2l.display+json", plots[0].data)
        self.assertEqual(code[2].outputs[0].data["text/plain"], "true")
