"""Real server processes for tests: `omnicopilot serve` and `chroma run`, on free loopback ports."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout_s: float = 300, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s}s")


class ChromaServer:
    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.port = path, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.proc = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.url + "/api/v2/heartbeat", proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


class ServeProcess:
    """`omnicopilot serve` as a user runs it, with the given environment."""

    def __init__(self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = (),
                 log_path: Path | None = None) -> None:
        self.env = {**os.environ, **env}
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.log_path = log_path  # where its output goes (for a failing test to show); default nowhere
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(self.log_path.open("ab")) if self.log_path else subprocess.DEVNULL
            self.proc = subprocess.Popen([str(BIN / "omnicopilot"), "serve", "--port", str(self.port), *self.args],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT if self.log_path
                                         else subprocess.DEVNULL, start_new_session=True)
        wait_for(self.base + "/healthz", timeout_s=300, proc=self.proc)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def wait_backlog_zero(self, timeout_s: float = 600) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.call("GET", "/healthz")[1]["index_backlog"] == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("index backlog did not drain")


class WorkerProcess:
    """`omnicopilot worker` as an operator runs it. It has no HTTP to poll, so its log (a file) says when it is
    up; the log stays for a failing test to show."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env, "OMNICOPILOT_LOG_LEVEL": "info"}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 300) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([str(BIN / "omnicopilot"), "worker"], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout_s
        while f":{self.proc.pid} started" not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            if time.time() > deadline:
                raise TimeoutError(f"worker did not start within {timeout_s}s")
            time.sleep(0.1)
        return self

    def signal(self, signum: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)  # a stopped process would not see the SIGTERM
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
