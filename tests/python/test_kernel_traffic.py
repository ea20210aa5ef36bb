"""Bad traffic on the kernel's five sockets, on 127.0.0.1 only, with bounded waits.

Each check sends garbage to one socket, then asks: does the kernel still answer? A kernel may
also exit (the d2l kernel exits on any panic of a socket task, so that its front end restarts
it): then a restart must give a working kernel. What must never happen is a kernel that looks
alive and does not answer.
"""
from __future__ import annotations

import os
import random
import socket
import struct
import tempfile
import time
import unittest

import zmq
from jupyter_client.manager import KernelManager, start_new_kernel

import kernel_support as ks

ks.install_kernelspec()

PORTS = ("shell_port", "control_port", "stdin_port", "hb_port", "iopub_port")
# The socket type a peer of each port says it is in its READY command.
PEER_TYPE = {"shell_port": b"DEALER", "control_port": b"DEALER", "stdin_port": b"DEALER",
             "hb_port": b"REQ", "iopub_port": b"SUB"}
# The ZMTP 3.0 greeting of a NULL-mechanism peer (64 bytes).
GREETING = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


def ready(socket_type: bytes) -> bytes:
    """A short ZMTP command frame: READY with the Socket-Type property."""
    body = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    return b"\x04" + bytes([len(body)]) + body


def raw_send(port: int, payload: bytes) -> None:
    """Connects to 127.0.0.1:port, sends `payload`, reads a little, closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        try:
            conn.sendall(payload)
            conn.settimeout(0.5)
            conn.recv(4096)
        except OSError:
            pass  # the kernel may hang up on garbage: that is fine


class BadTraffic(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=ks.KERNEL_NAME, startup_timeout=120)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    def answers(self) -> bool:
        """Whether the kernel replies to kernel_info within 15 s."""
        try:
            self.kc.kernel_info()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                reply = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                if reply["msg_type"] == "kernel_info_reply":
                    return True
        except Exception:  # noqa: BLE001 - a timeout is the answer
            return False
        return False

    def heart_beats(self) -> bool:
        """Whether the heartbeat socket echoes a ping within 5 s."""
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(f"tcp://127.0.0.1:{self.km.hb_port}")
            sock.send(b"ping")
            return sock.poll(5000) != 0 and sock.recv() == b"ping"
        finally:
            sock.close()

    def control_answers(self) -> bool:
        """Whether the control channel replies to kernel_info within 15 s."""
        self.kc.control_channel.send(self.kc.session.msg("kernel_info_request", {}))
        try:
            return self.kc.control_channel.get_msg(timeout=15)["msg_type"] == "kernel_info_reply"
        except Exception:  # noqa: BLE001 - a timeout is the answer
            return False

    def survives(self, what: str) -> None:
        """The kernel answers on shell, control and heartbeat, or it has exited and a restart
        gives one that answers."""
        time.sleep(0.5)
        if self.km.is_alive():
            working = {"shell": self.answers(), "control": self.control_answers(), "heartbeat": self.heart_beats()}
            if all(working.values()):
                return
            self.assertFalse(self.km.is_alive(), f"after {what}: the kernel looks alive but {working}")
        self.assertFalse(self.km.is_alive(), f"after {what}: the kernel looks alive but does not answer")
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=120)
        self.assertTrue(self.answers(), f"after {what}: the restarted kernel does not answer")

    def test_random_frames_on_every_socket(self) -> None:
        rng = random.Random(20)
        for name in PORTS:
            port = getattr(self.km, name)
            raw_send(port, bytes(rng.randrange(256) for _ in range(2048)))
            raw_send(port, GREETING + bytes(rng.randrange(256) for _ in range(512)))
            self.survives(f"random bytes on {name}")

    def test_huge_length_prefix_on_every_socket(self) -> None:
        for name in PORTS:
            port = getattr(self.km, name)
            # A long frame (flag 0x02) that claims 2^63 bytes: before the greeting, after it,
            # and after a complete handshake (where zeromq 0.4 trusts it).
            huge = b"\x02" + struct.pack(">Q", (1 << 63) + 5)
            raw_send(port, huge + b"x" * 64)
            raw_send(port, GREETING + huge + b"x" * 64)
            raw_send(port, GREETING + ready(PEER_TYPE[name]) + huge + b"x" * 64)
            self.survives(f"a huge length prefix on {name}")

    def test_wrong_signature_is_ignored(self) -> None:
        context = zmq.Context.instance()
        for name in ("shell_port", "control_port"):
            sock = context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(f"tcp://127.0.0.1:{getattr(self.km, name)}")
            msg = self.kc.session.msg("kernel_info_request", {})
            frames = self.kc.session.serialize(msg)
            frames[frames.index(b"<IDS|MSG>") + 1] = b"0" * 64  # a wrong HMAC
            sock.send_multipart(frames)
            self.assertEqual(sock.poll(2000), 0, f"a message with a wrong signature on {name} was answered")
            sock.close()
        self.survives("wrong signatures")


class EmptyKey(unittest.TestCase):
    def test_empty_key_warns_and_works(self) -> None:
        km = KernelManager(kernel_name=ks.KERNEL_NAME)
        km.session.key = b""
        with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
            log_path = log.name
        try:
            with open(log_path, "w") as err:
                km.start_kernel(stderr=err)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)
                kc.kernel_info()
                self.assertEqual(kc.get_shell_msg(timeout=15)["msg_type"], "kernel_info_reply")
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            with open(log_path) as err:
                self.assertIn("empty key", err.read())
        finally:
            os.unlink(log_path)
