"""Runs the real ``evalguard serve`` binary for the tests: a free port, a
fresh SQLite file, and an owner key made with ``evalguard keys create``."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"listening\b.*?\baddr=(\S+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
START_TIMEOUT = 60.0


def evalguard_bin() -> str:
    path = os.environ.get("EVALGUARD_BIN") or str(REPO / "target" / "debug" / "evalguard")
    if not Path(path).is_file():
        raise RuntimeError(
            f"no evalguard binary at {path}: build it (cargo build) or set EVALGUARD_BIN"
        )
    return path


class EvalGuardServer:
    """One ``evalguard serve`` process on its own database."""

    def __init__(self, directory: Path, *, workers: int = 2, rate_limit: int = 100_000) -> None:
        self.database_url = f"sqlite://{directory / 'evalguard.db'}"
        self._workers = workers
        self._rate_limit = rate_limit
        self._process: subprocess.Popen[str] | None = None
        self.log: list[str] = []
        self.base_url = ""

    def create_key(self, role: str = "owner", org: str = "acme", project: str | None = None) -> str:
        """A key made in the database; the secret is the last line of stdout."""
        args = [
            evalguard_bin(),
            "keys",
            "create",
            "--database-url",
            self.database_url,
            "--org",
            org,
            "--role",
            role,
        ]
        if project is not None:
            args += ["--project", project]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip().splitlines()[-1]

    def start(self) -> EvalGuardServer:
        env = {**os.environ, "NO_COLOR": "1", "EVALGUARD_LOG": "info"}
        for name in ("EVALGUARD_JUDGE_BASE_URL", "EVALGUARD_CONFIG", "EVALGUARD_ADDR"):
            env.pop(name, None)
        self._process = subprocess.Popen(
            [
                evalguard_bin(),
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                self.database_url,
                "--workers",
                str(self._workers),
                "--rate-limit-per-minute",
                str(self._rate_limit),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        found = threading.Event()
        threading.Thread(target=self._read_log, args=(found,), daemon=True).start()
        if not found.wait(START_TIMEOUT) or not self.base_url:
            self.stop()
            raise RuntimeError("evalguard serve did not start:\n" + "".join(self.log))
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _read_log(self, found: threading.Event) -> None:
        # Reads stderr to its end, so that the server never blocks on a full pipe.
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self.log.append(line)
            match = LISTENING.search(ANSI.sub("", line))
            if match and not found.is_set():
                self.base_url = f"http://{match.group(1)}"
                found.set()
        found.set()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
