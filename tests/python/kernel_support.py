"""Shared set-up for the kernel's real-client tests.

Finds the `d2l-kernel` binary (env D2L_KERNEL_BIN, else `<cargo target dir>/debug/d2l-kernel`
from `cargo metadata`), installs its kernelspec into a temporary prefix with
`d2l-kernel install --prefix DIR`, and points JUPYTER_PATH at it, once per test session.

The first kernel on a cold build cache compiles `d2l` and `tch` (minutes); later kernels reuse
the cache in ~/.cache/d2l-rs/evcxr. `wait_first_cell` gives that first cell a long timeout so
the per-request timeouts of the test suites stay short.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from queue import Empty

KERNEL_NAME = "d2l-rust"
REPO = Path(__file__).resolve().parents[2]
FIRST_CELL_TIMEOUT = float(os.environ.get("D2L_KERNEL_FIRST_CELL_TIMEOUT", "1200"))

_prefix: Path | None = None


def kernel_binary() -> Path:
    """The kernel binary under test."""
    if os.environ.get("D2L_KERNEL_BIN"):
        return Path(os.environ["D2L_KERNEL_BIN"])
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO, check=True, capture_output=True, text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    binary = target / "debug" / "d2l-kernel"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `cargo build --workspace --bins` first")
    return binary


def install_kernelspec() -> Path:
    """Installs the kernelspec into a temporary prefix (once) and exports JUPYTER_PATH."""
    global _prefix
    if _prefix is None:
        _prefix = Path(tempfile.mkdtemp(prefix="d2l-kernelspec-"))
        atexit.register(shutil.rmtree, _prefix, True)
        subprocess.run([str(kernel_binary()), "install", "--prefix", str(_prefix)], check=True,
                       capture_output=True, text=True)
        data = _prefix / "share" / "jupyter"
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [str(data)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    return _prefix


def run_cell(kc, code: str, timeout: float = 120, **kwargs) -> tuple[dict, list[dict]]:
    """Executes `code`; returns the execute_reply and the IOPub messages of that request."""
    msg_id = kc.execute(code, **kwargs)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    return reply, collect_iopub(kc, msg_id)


def collect_iopub(kc, msg_id: str, timeout: float = 30) -> list[dict]:
    """IOPub messages of request `msg_id`, up to its idle status."""
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
        messages.append(msg)
    raise AssertionError(f"no idle status for {msg_id} within {timeout} s")


def wait_first_cell(kc) -> None:
    """Runs a first cell with a long timeout: it waits for evcxr and the d2l prelude."""
    reply, _ = run_cell(kc, "let _warm_up = 0;", timeout=FIRST_CELL_TIMEOUT, store_history=False)
    assert reply["content"]["status"] == "ok", reply["content"]


def stream_text(messages: list[dict], name: str) -> str:
    return "".join(m["content"]["text"] for m in messages
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def of_type(messages: list[dict], msg_type: str) -> list[dict]:
    return [m for m in messages if m["msg_type"] == msg_type]
