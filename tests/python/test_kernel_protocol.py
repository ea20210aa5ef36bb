"""The d2l-rust kernel against jupyter-kernel-test's KernelTests and our own protocol checks.

Run: cargo build -p d2l-kernel && $PY -m pytest tests/python -q
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from queue import Empty

import jupyter_kernel_test

import kernel_support as ks

ks.install_kernelspec()

D2L_BLOCK = r'EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n{{\"display_id\": {id}, \"update\": {update}}}\nEVCXR_END_CONTENT'


def display_cell(mime: str, payload: str, display_id: str = "null", update: str = "false") -> str:
    block = D2L_BLOCK.replace("{id}", display_id).replace("{update}", update)
    return f'println!("EVCXR_BEGIN_CONTENT {mime}\\n{payload}\\nEVCXR_END_CONTENT\\n{block}");'


class D2lKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = ks.KERNEL_NAME
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("something on stderr");'
    complete_code_samples = ["1 + 1", "let x = vec![1, 2];", "fn f() -> i32 { 1 }"]
    incomplete_code_samples = ["fn f() {", "let v = vec![1,", "let s = \"open"]
    invalid_code_samples = ["}", "(1 + 2]"]
    completion_samples = [{"text": "let vector_of_numbers = vec![1];\nvector_of_n"}]
    code_execute_result = [
        {"code": "1 + 1", "result": "2"},
        {"code": "\"d2l\".len()", "result": "3"},
    ]
    code_display_data = [
        {"code": display_cell("text/html", "<b>bold</b>"), "mime": "text/html"},
        {"code": display_cell("image/svg+xml", "<svg xmlns=\\\"http://www.w3.org/2000/svg\\\"/>"),
         "mime": "image/svg+xml"},
    ]
    code_generate_error = 'let n: i32 = "not a number";'
    code_history_pattern = "1 + *"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "String::new"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        ks.wait_first_cell(cls.kc)

    # --- our own checks, on the same kernel -------------------------------------------------

    def test_banner_and_codemirror(self) -> None:
        self.flush_channels()
        self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=15)
        info = reply["content"]
        self.assertEqual(info["language_info"]["mimetype"], "text/rust")
        self.assertEqual(info["language_info"]["codemirror_mode"], "rust")
        self.assertIn("d2l", info["banner"])

    def test_is_complete_indent(self) -> None:
        self.flush_channels()
        self.kc.is_complete("fn f() {\n    if true {")
        reply = self.kc.get_shell_msg(timeout=15)
        self.assertEqual(reply["content"], {"status": "incomplete", "indent": "        "})

    def test_execute_result_content_and_count(self) -> None:
        self.flush_channels()
        reply, msgs = ks.run_cell(self.kc, "6 * 7")
        self.assertEqual(reply["content"]["status"], "ok")
        results = ks.of_type(msgs, "execute_result")
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")
        self.assertEqual(results[0]["content"]["execution_count"], reply["content"]["execution_count"])
        inputs = ks.of_type(msgs, "execute_input")
        self.assertEqual(inputs[0]["content"]["code"], "6 * 7")

    def test_d2l_is_preloaded(self) -> None:
        self.flush_channels()
        reply, msgs = ks.run_cell(self.kc, "Tensor::from_slice(&[1.5f64, 2.5]).sum(Kind::Double).double_value(&[])")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "4.0")

    def test_stdout_streams_while_cell_runs(self) -> None:
        self.flush_channels()
        code = 'println!("first"); std::thread::sleep(std::time::Duration::from_secs(3)); println!("second");'
        msg_id = self.kc.execute(code)
        deadline = time.monotonic() + 60
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["msg_type"] == "stream" and msg["parent_header"]["msg_id"] == msg_id:
                self.assertEqual(msg["content"]["text"], "first\n")
                break
        with self.assertRaises(Empty):  # the cell is still sleeping
            self.kc.get_shell_msg(timeout=0.5)
        reply = self.kc.get_shell_msg(timeout=60)
        self.assertEqual(reply["content"]["status"], "ok")
        rest = ks.collect_iopub(self.kc, msg_id)
        self.assertEqual(ks.stream_text(rest, "stdout"), "second\n")

    def test_update_display_data(self) -> None:
        self.flush_channels()
        code = "\n".join([
            display_cell("text/plain", "epoch 1", '\\"board-1\\"', "false"),
            display_cell("text/plain", "epoch 2", '\\"board-1\\"', "true"),
        ])
        reply, msgs = ks.run_cell(self.kc, code)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        kinds = [m["msg_type"] for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
        self.assertEqual(kinds, ["display_data", "update_display_data"])
        first, second = ks.of_type(msgs, "display_data")[0], ks.of_type(msgs, "update_display_data")[0]
        self.assertEqual(first["content"]["transient"], {"display_id": "board-1"})
        self.assertEqual(second["content"]["transient"], {"display_id": "board-1"})
        self.assertEqual(first["content"]["data"], {"text/plain": "epoch 1"})
        self.assertEqual(second["content"]["data"], {"text/plain": "epoch 2"})

    def test_compile_error_is_readable(self) -> None:
        self.flush_channels()
        reply, msgs = ks.run_cell(self.kc, 'let n: i32 = "not a number";')
        content = reply["content"]
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "CompilationError")
        self.assertIn("mismatched types", content["evalue"])
        text = "\n".join(content["traceback"])
        self.assertIn("cell:1:", text)
        self.assertIn('let n: i32 = "not a number";', text)
        self.assertNotIn("\x1b", text)
        self.assertEqual(ks.of_type(msgs, "error")[0]["content"]["traceback"], content["traceback"])
        # An unused variable (a warning) before a use of a moved value (the error): the error
        # is what the reply names, and it leads the traceback.
        code = "let unused = 1;\nlet s = String::from(\"a\");\nlet t = s;\ns.len()"
        reply, _ = ks.run_cell(self.kc, code)
        content = reply["content"]
        self.assertEqual(content["ename"], "CompilationError")
        self.assertIn("moved value", content["evalue"])
        self.assertTrue(content["traceback"][0].startswith("error[E0382]"), content["traceback"])

    def test_panic_then_working_cell(self) -> None:
        self.flush_channels()
        reply, _ = ks.run_cell(self.kc, "let kept = 41;")
        self.assertEqual(reply["content"]["status"], "ok")
        reply, msgs = ks.run_cell(self.kc, 'panic!("boom in a cell");')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Panic")
        self.assertIn("boom in a cell", reply["content"]["evalue"])
        reply, msgs = ks.run_cell(self.kc, "kept + 1")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "42")

    def test_panic_is_one_error_message(self) -> None:
        """A panic is reported by the error message alone, at the cell's line."""
        self.flush_channels()
        reply, msgs = ks.run_cell(self.kc, 'let before_the_panic = 1;\npanic!("boom");')
        outputs = [m for m in msgs if m["msg_type"] in ("stream", "error", "display_data", "execute_result")]
        self.assertEqual([m["msg_type"] for m in outputs], ["error"], outputs)
        content = outputs[0]["content"]
        self.assertEqual(content["ename"], "Panic")
        self.assertEqual(content["evalue"], "boom")
        self.assertIn("cell:2:1", content["traceback"][0])
        self.assertEqual(reply["content"]["traceback"], content["traceback"])

    def test_is_complete_unfinished_statement(self) -> None:
        self.flush_channels()
        for code in ["let x =", "1 +"]:
            self.kc.is_complete(code)
            reply = self.kc.get_shell_msg(timeout=15)
            self.assertEqual(reply["content"]["status"], "incomplete", code)

    def test_stdin_read_asks_the_front_end(self) -> None:
        self.flush_channels()
        code = "let mut line = String::new();\nstd::io::stdin().read_line(&mut line).unwrap();\nline"
        msg_id = self.kc.execute(code, allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=60)
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.kc.input("typed by a person")
        reply = self.kc.get_shell_msg(timeout=60)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        msgs = ks.collect_iopub(self.kc, msg_id)
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"],
                         '"typed by a person\\n"')

    def test_stdin_read_without_allow_stdin_gets_end_of_file(self) -> None:
        self.flush_channels()
        code = "let mut line = String::new();\nstd::io::stdin().read_line(&mut line).unwrap()"
        reply, msgs = ks.run_cell(self.kc, code, timeout=60, allow_stdin=False)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "0")

    def test_board_without_finish_is_shown_at_the_end_of_the_cell(self) -> None:
        """A board filled faster than its redraw interval, never finished, still shows."""
        self.flush_channels()
        code = ("let mut quick_board = ProgressBoard::new().xlabel(\"epoch\");\n"
                "for i in 0..5 { quick_board.draw(i as f64, 1.0 / (1.0 + i as f64), \"loss\", 1); }")
        reply, msgs = ks.run_cell(self.kc, code)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        shown = [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
        self.assertEqual(len(shown), 1, [m["msg_type"] for m in msgs])
        self.assertIn("image/svg+xml", shown[0]["content"]["data"])
        self.assertIn("loss", shown[0]["content"]["data"]["image/svg+xml"])

    def test_final_value_display(self) -> None:
        """A Debug value shows with {:?}; a type's own or d2l's evcxr_display wins over the kernel's."""
        self.flush_channels()
        # A unit-valued final loop shows nothing (no `()`), like a Python cell ending in None.
        reply, msgs = ks.run_cell(self.kc, "let mut total = 0;\nfor i in 0..3 { total += i; }")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result"), [])
        reply, msgs = ks.run_cell(self.kc, 'String::from("hi")')
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"], {"text/plain": '"hi"'})
        # A final immutable binding of a Debug type that has no `Show` (a regression: it once
        # failed to compile with "consider changing this to be mutable").
        reply, msgs = ks.run_cell(self.kc, "let device = d2l::cpu();\ndevice")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"], {"text/plain": "Cpu"})
        code = (
            "#[derive(Debug)]\nstruct Shown;\n"
            "impl Shown {\n    fn evcxr_display(&self) {\n"
            '        println!("EVCXR_BEGIN_CONTENT text/html\\n<b>shown</b>\\nEVCXR_END_CONTENT");\n'
            "    }\n}\nShown"
        )
        reply, msgs = ks.run_cell(self.kc, code)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        data = ks.of_type(msgs, "execute_result")[0]["content"]["data"]
        self.assertEqual(data, {"text/html": "<b>shown</b>"})
        # d2l's `Show` (brought by the prelude) wins too: a tensor shows as HTML and text.
        reply, msgs = ks.run_cell(self.kc, "let t = Tensor::from_slice(&[1i64, 2]);\nt")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        results = ks.of_type(msgs, "execute_result") + ks.of_type(msgs, "display_data")
        self.assertTrue(any("d2l-tensor" in m["content"]["data"].get("text/html", "") for m in results), results)

    def test_final_value_that_moves_a_variable(self) -> None:
        """A final expression that moves a variable keeps its rich display; the variable is gone.

        evcxr 0.22 showed the Debug text here (it took the compiler's "use of moved value" as a
        failed display); the vendored evcxr fixes it (vendor/evcxr/PATCHES.md).
        """
        self.flush_channels()
        reply, _ = ks.run_cell(self.kc, "let xs: Vec<f64> = vec![0.0, 1.0, 2.0];")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        reply, msgs = ks.run_cell(self.kc, "d2l::plotting::plot(xs.clone(), xs)")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        shown = ks.of_type(msgs, "execute_result") + ks.of_type(msgs, "display_data")
        self.assertTrue(any("<svg" in m["content"]["data"].get("image/svg+xml", "") for m in shown), msgs)
        self.assertFalse(any("Figure {" in m["content"]["data"].get("text/plain", "") for m in shown), msgs)
        reply, _ = ks.run_cell(self.kc, "xs.len()")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("cannot find value `xs`", reply["content"]["evalue"])
        # A mutable binding shown at the end is borrowed, not moved, and stays usable.
        reply, msgs = ks.run_cell(self.kc, "let mut kept = vec![1, 2];\nkept")
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"], {"text/plain": "[1, 2]"})
        reply, msgs = ks.run_cell(self.kc, "kept.push(3);\nkept.len()")
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"], {"text/plain": "3"})
        # A value with neither `Debug` nor a display method is an error that names `Debug`.
        reply, _ = ks.run_cell(self.kc, "struct Opaque;\nOpaque")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("Debug", reply["content"]["evalue"])

    def test_crash_restarts_evaluation(self) -> None:
        self.flush_channels()
        reply, _ = ks.run_cell(self.kc, "std::process::abort();")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Crash")
        self.assertIn("restarted", reply["content"]["evalue"])
        # The kernel lives on, and `use d2l::prelude::*;` survived the restart.
        reply, msgs = ks.run_cell(self.kc, "Tensor::from(3i64).int64_value(&[]) + 1")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "4")

    def test_completion_finds_variable(self) -> None:
        self.flush_channels()
        ks.run_cell(self.kc, "let zebra_count = 3;")
        code = "zebra_co"
        self.kc.complete(code, len(code))
        reply = self.kc.get_shell_msg(timeout=60)
        content = reply["content"]
        self.assertIn("zebra_count", content["matches"])
        self.assertEqual((content["cursor_start"], content["cursor_end"]), (0, len(code)))

    def test_inspect_shows_type(self) -> None:
        self.flush_channels()
        self.kc.inspect("String::new", 11)
        reply = self.kc.get_shell_msg(timeout=60)
        self.assertTrue(reply["content"]["found"])
        self.assertIn("String", reply["content"]["data"]["text/plain"])

    def test_comm_info_is_empty(self) -> None:
        self.flush_channels()
        self.kc.comm_info()
        reply = self.kc.get_shell_msg(timeout=15)
        self.assertEqual(reply["content"], {"status": "ok", "comms": {}})

    def test_kernelspec_is_listed(self) -> None:
        out = subprocess.run([sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"], check=True,
                             capture_output=True, text=True, env=os.environ,
                             cwd=os.path.dirname(os.path.abspath(__file__))).stdout
        spec = json.loads(out)["kernelspecs"][ks.KERNEL_NAME]["spec"]
        self.assertEqual(spec["display_name"], "Rust (d2l)")
        self.assertEqual(spec["language"], "rust")
