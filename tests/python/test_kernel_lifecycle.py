"""Interrupt drills, restart and shutdown of the d2l-rust kernel, with jupyter_client."""
from __future__ import annotations

import time
import unittest

from jupyter_client.manager import start_new_kernel

import kernel_support as ks

ks.install_kernelspec()


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=ks.KERNEL_NAME, startup_timeout=120)
        ks.wait_first_cell(cls.kc)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.kc.stop_channels()
        cls.km.shutdown_kernel()

    def drill(self, interrupt) -> None:
        """Starts `loop {}`, interrupts it with `interrupt()`, then checks the next cell runs."""
        msg_id = self.kc.execute("loop {}")
        # Wait until the loop runs: compiled and started (stdout marks it).
        time.sleep(4)
        interrupt()
        reply = self.kc.get_shell_msg(timeout=120)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        ks.collect_iopub(self.kc, msg_id)
        self.assertTrue(self.km.is_alive())
        reply, msgs = ks.run_cell(self.kc, "40 + 2")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "42")

    def test_interrupt_by_signal(self) -> None:
        # The kernelspec says interrupt_mode "message": jupyter_client sends interrupt_request.
        self.drill(self.km.interrupt_kernel)

    def test_idle_interrupt_keeps_variables(self) -> None:
        """An interrupt while no cell runs (a stray click on the stop button) changes nothing."""
        reply, _ = ks.run_cell(self.kc, "let kept_across_interrupts = 5;")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.km.interrupt_kernel()
        msg = self.kc.session.msg("interrupt_request", {})
        self.kc.control_channel.send(msg)
        self.assertEqual(self.kc.control_channel.get_msg(timeout=15)["msg_type"], "interrupt_reply")
        time.sleep(1)
        reply, msgs = ks.run_cell(self.kc, "kept_across_interrupts + 1")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "6")

    def test_interrupt_by_control_message(self) -> None:
        def send_interrupt_request() -> None:
            msg = self.kc.session.msg("interrupt_request", {})
            self.kc.control_channel.send(msg)
            reply = self.kc.control_channel.get_msg(timeout=15)
            self.assertEqual(reply["msg_type"], "interrupt_reply")
            self.assertEqual(reply["content"]["status"], "ok")
        self.drill(send_interrupt_request)

    def test_restart_then_run(self) -> None:
        ks.run_cell(self.kc, "let before_restart = 1;")
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=120)
        ks.wait_first_cell(self.kc)
        reply, _ = ks.run_cell(self.kc, "before_restart")
        self.assertEqual(reply["content"]["status"], "error")  # a new session: the variable is gone
        reply, msgs = ks.run_cell(self.kc, "d2l::cpu() == Device::Cpu")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertEqual(ks.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "true")


class Shutdown(unittest.TestCase):
    def test_shutdown_request_ends_the_process(self) -> None:
        km, kc = start_new_kernel(kernel_name=ks.KERNEL_NAME, startup_timeout=120)
        try:
            msg = kc.session.msg("shutdown_request", {"restart": False})
            kc.control_channel.send(msg)
            reply = kc.control_channel.get_msg(timeout=15)
            self.assertEqual(reply["msg_type"], "shutdown_reply")
            self.assertEqual(reply["content"], {"status": "ok", "restart": False})
            deadline = time.monotonic() + 30
            while km.is_alive() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertFalse(km.is_alive())
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
