"""Build and run a throwaway Neo4j 5.26 Community server for tests.

The server is the small Java launcher in ``scripts/neo4j/`` (an in-process
``DatabaseManagementService`` with Bolt on 127.0.0.1, auth off, HTTP off),
built with Maven from Maven Central. This module is stdlib-only so that test
fixtures and developers can use it without installing anything.

Library use::

    from neo4j_server import start
    with start() as server:          # free port, temporary data directory
        print(server.uri)            # bolt://127.0.0.1:NNNNN

Command line::

    python scripts/neo4j_server.py build
    python scripts/neo4j_server.py start [--port N] [--dir D]

The launcher exits by itself when this process's end of its stdin pipe closes,
so a server never outlives the Python process that started it.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Iterator, Sequence

__all__ = ["Neo4jServer", "Neo4jServerError", "ensure_built", "start", "main"]

log = logging.getLogger("skiptrace.neo4j_server")

PROJECT_DIR = Path(__file__).resolve().parent / "neo4j"
TARGET_DIR = PROJECT_DIR / "target"
MAIN_CLASS = "skiptrace.neo4j.Launcher"
_STAMP = TARGET_DIR / ".skiptrace-built"
_LOCK = Path(tempfile.gettempdir()) / f"skiptrace-neo4j-build-{os.getuid()}.lock"

#: JVM options: a small heap plus the module openings Neo4j 5 expects on Java 17.
JAVA_OPTS: tuple[str, ...] = (
    "-Xms256m",
    "-Xmx1g",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
)

_READY_PREFIX = "READY "
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_TAIL_LINES = 40


class Neo4jServerError(RuntimeError):
    """The launcher could not be built or the server did not start."""


# --------------------------------------------------------------------- build


def _sources() -> Iterator[Path]:
    yield PROJECT_DIR / "pom.xml"
    yield from (p for p in (PROJECT_DIR / "src").rglob("*") if p.is_file())


def _up_to_date() -> bool:
    if not _STAMP.exists() or not (TARGET_DIR / "lib").is_dir():
        return False
    built = _STAMP.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in _sources())


def _classpath() -> str:
    return os.pathsep.join([str(TARGET_DIR / "classes"), str(TARGET_DIR / "lib" / "*")])


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def ensure_built() -> str:
    """Build the launcher with Maven unless ``target/`` is up to date; return its classpath.

    Safe to call from several processes at once (a file lock serialises
    builds). Maven runs quietly; on failure its output tail is in the error.
    """
    with open(_LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _up_to_date():
                return _classpath()
            mvn = shutil.which("mvn")
            if mvn is None:
                raise Neo4jServerError("Maven (mvn) is not on PATH; it is needed to build the Neo4j launcher")
            # `clean` so that jars of an older Neo4j version never linger in target/lib.
            cmd = [mvn, "-q", "-B", "-Dstyle.color=never", "clean", "package"]
            log.info("building the Neo4j launcher: %s", " ".join(cmd))
            started = time.monotonic()
            proc = subprocess.run(
                cmd, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            if proc.returncode != 0:
                output = _ANSI.sub("", proc.stdout)
                raise Neo4jServerError(
                    f"Maven build of {PROJECT_DIR} failed (exit {proc.returncode}):\n{_tail(output)}"
                )
            _STAMP.touch()
            log.info("built the Neo4j launcher in %.1fs", time.monotonic() - started)
            return _classpath()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise Neo4jServerError("java is not on PATH (and $JAVA_HOME/bin/java does not exist); Java 17+ is needed")
    return java


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -------------------------------------------------------------------- server


class Neo4jServer:
    """A running launcher process. Stop it with :meth:`stop` or a ``with`` block."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        port: int,
        data_dir: Path,
        log_path: Path,
        owns_dir: bool,
    ) -> None:
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self._owns_dir = owns_dir
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        """The Bolt URI, ``bolt://127.0.0.1:PORT`` (no auth needed)."""
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the launcher's stderr log."""
        try:
            return _tail(self.log_path.read_text("utf-8", errors="replace"), lines)
        except OSError:
            return ""

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the server down cleanly (SIGTERM), killing it if it hangs. Idempotent."""
        with self._lock:
            proc = self.process
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("Neo4j launcher (pid %d) did not stop in %.0fs; killing it", proc.pid, timeout)
                    proc.kill()
                    proc.wait()
            if proc.stdin is not None:  # stdout is closed by its reader thread at EOF
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            if self._owns_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self._owns_dir = False

    def __enter__(self) -> Neo4jServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited({self.process.returncode})"
        return f"Neo4jServer(uri={self.uri!r}, data_dir={str(self.data_dir)!r}, {state})"


def _await_ready(stdout: IO[str], deadline: float) -> str | None:
    """Read the launcher's stdout until its READY line; None on EOF or timeout."""
    found: list[str] = []
    done = threading.Event()

    def reader() -> None:
        with stdout:
            for line in stdout:
                if line.startswith(_READY_PREFIX) and not found:
                    found.append(line[len(_READY_PREFIX):].strip())
                    done.set()
        done.set()  # EOF: the process is gone

    threading.Thread(target=reader, name="neo4j-stdout", daemon=True).start()
    while not done.wait(0.2):
        if time.monotonic() > deadline:
            return None
    return found[0] if found else None


def _spawn(classpath: str, data_dir: Path, port: int,
           java_opts: Sequence[str]) -> tuple[subprocess.Popen[str], Path]:
    log_path = data_dir / "launcher.log"
    cmd = [_java(), *java_opts, "-cp", classpath, MAIN_CLASS, "--port", str(port), "--dir", str(data_dir)]
    log.info("starting Neo4j on 127.0.0.1:%d (data in %s)", port, data_dir)
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
            text=True, start_new_session=True,  # Ctrl-C goes to Python, which stops it in order
        )
    return proc, log_path


def start(
    data_dir: str | os.PathLike[str] | None = None,
    port: int | None = None,
    timeout: float = 180.0,
    java_opts: Sequence[str] = JAVA_OPTS,
) -> Neo4jServer:
    """Build if needed, start a server and wait until Bolt accepts connections.

    ``data_dir`` None means a fresh temporary directory, removed by
    :meth:`Neo4jServer.stop`; a given directory is created if missing and kept.
    ``port`` None picks a free port on 127.0.0.1 (retrying if it is taken in
    the meantime). Raises :class:`Neo4jServerError` with the server's log tail
    when it exits or is not ready within ``timeout`` seconds.
    """
    classpath = ensure_built()
    owns_dir = data_dir is None
    path = Path(tempfile.mkdtemp(prefix="skiptrace-neo4j-")) if data_dir is None else Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    attempts = 3 if port is None else 1
    deadline = time.monotonic() + timeout
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else _free_port()
        proc, log_path = _spawn(classpath, path, chosen, java_opts)
        server = Neo4jServer(proc, chosen, path, log_path, owns_dir=False)
        try:
            assert proc.stdout is not None
            ready = _await_ready(proc.stdout, deadline)
        except BaseException:  # e.g. Ctrl-C while waiting: leave nothing behind
            server.stop(timeout=30)
            if owns_dir:
                shutil.rmtree(path, ignore_errors=True)
            raise
        if ready is not None:
            server._owns_dir = owns_dir
            log.info("Neo4j ready at %s (pid %d)", ready, proc.pid)
            return server
        exited = proc.poll() is not None
        server.stop(timeout=30)
        tail = server.log_tail()
        if exited and "already in use" in tail.lower() and attempt < attempts:
            log.info("port %d was taken; retrying on another port", chosen)
            continue
        where = "" if owns_dir else f" (log {log_path})"
        if owns_dir:
            shutil.rmtree(path, ignore_errors=True)
        why = f"exited with code {proc.returncode}" if exited else f"was not ready within {timeout:.0f}s"
        raise Neo4jServerError(f"Neo4j launcher {why}{where}; its log ends:\n{tail}")
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``build`` or ``start [--port N] [--dir D]``."""
    parser = argparse.ArgumentParser(prog="neo4j_server.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the launcher (no-op when up to date) and print its classpath")
    p_start = sub.add_parser("start", help="run a server in the foreground until Ctrl-C")
    p_start.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    p_start.add_argument("--dir", default=None, help="data directory (default: a temporary one, removed at exit)")
    p_start.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        if args.command == "build":
            started = time.monotonic()
            print(ensure_built())
            log.info("up to date after %.1fs", time.monotonic() - started)
            return 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        started = time.monotonic()
        with start(args.dir, args.port, args.timeout) as server:
            log.info("started in %.1fs; Ctrl-C stops it", time.monotonic() - started)
            print(server.uri, flush=True)
            while server.running:
                time.sleep(0.5)
            log.error("Neo4j exited unexpectedly (code %s):\n%s", server.process.returncode, server.log_tail())
            return 1
    except KeyboardInterrupt:
        log.info("stopped")
        return 130
    except Neo4jServerError as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
