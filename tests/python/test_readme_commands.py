"""The README's command for registering the kernel, run as written (with `--prefix` into a
temporary folder instead of `--user`, so that the machine's Jupyter set-up stays as it was), then
listed by the real `jupyter kernelspec list`.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ReadmeCommands(unittest.TestCase):
    def test_the_kernel_install_command_registers_the_kernel(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        command = "cargo run --bin d2l-kernel -- install --user"
        self.assertIn(command, readme, "the README names this command")
        with tempfile.TemporaryDirectory(prefix="d2l-readme-") as prefix:
            args = command.replace("--user", f"--prefix {prefix}").split()
            run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            env = dict(os.environ, JUPYTER_PATH=str(Path(prefix) / "share" / "jupyter"))
            listed = subprocess.run([sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
                                    capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(listed.returncode, 0, listed.stderr)
            specs = json.loads(listed.stdout)["kernelspecs"]
            self.assertIn("d2l-rust", specs)
            self.assertEqual(specs["d2l-rust"]["spec"]["display_name"], "Rust (d2l)")
            self.assertTrue(Path(specs["d2l-rust"]["spec"]["argv"][0]).is_file())


if __name__ == "__main__":
    unittest.main()
