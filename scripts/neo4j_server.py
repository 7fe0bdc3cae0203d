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
    python scripts/neo4j_server.py start [--port N] [--dir D] [--pagecache 8g] [--heap 4g]
    python scripts/neo4j_server.py import --dir D --from FILES [--overwrite]

``import`` bulk-loads a directory written by ``skiptrace export --format
neo4j-import`` into the database of data directory D with ``neo4j-admin
database import full`` (from the same Maven classpath), the way a large book
is first loaded into Neo4j; ``start --dir D`` then serves it, and
``skiptrace schema apply --neo4j URI`` creates its constraints and indexes.

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

__all__ = ["Neo4jServer", "Neo4jServerError", "ImportResult", "ensure_built", "has_database",
           "import_files", "start", "main"]

log = logging.getLogger("skiptrace.neo4j_server")

PROJECT_DIR = Path(__file__).resolve().parent / "neo4j"
TARGET_DIR = PROJECT_DIR / "target"
MAIN_CLASS = "skiptrace.neo4j.Launcher"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"
DATABASE = "neo4j"  # the launcher serves the default database
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


def _spawn(classpath: str, data_dir: Path, port: int, java_opts: Sequence[str],
           pagecache: str | None = None) -> tuple[subprocess.Popen[str], Path]:
    log_path = data_dir / "launcher.log"
    cmd = [_java(), *java_opts, "-cp", classpath, MAIN_CLASS, "--port", str(port), "--dir", str(data_dir)]
    if pagecache is not None:
        cmd += ["--pagecache", pagecache]
    log.info("starting Neo4j on 127.0.0.1:%d (data in %s)", port, data_dir)
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
            text=True, start_new_session=True,  # Ctrl-C goes to Python, which stops it in order
        )
    return proc, log_path


def with_heap(java_opts: Sequence[str], heap: str | None) -> list[str]:
    """``java_opts`` with the heap size (``-Xms``/``-Xmx``) set to ``heap`` (e.g. ``4g``)."""
    opts = list(java_opts)
    if heap is None:
        return opts
    if not re.fullmatch(r"[0-9]+[kKmMgG]?", heap):
        raise Neo4jServerError(f"not a heap size: {heap!r} (e.g. 4g, 512m)")
    opts = [o for o in opts if not o.startswith(("-Xms", "-Xmx"))]
    return [f"-Xms{heap}", f"-Xmx{heap}", *opts]


def start(
    data_dir: str | os.PathLike[str] | None = None,
    port: int | None = None,
    timeout: float = 180.0,
    java_opts: Sequence[str] = JAVA_OPTS,
    *,
    pagecache: str | None = None,
    heap: str | None = None,
) -> Neo4jServer:
    """Build if needed, start a server and wait until Bolt accepts connections.

    ``data_dir`` None means a fresh temporary directory, removed by
    :meth:`Neo4jServer.stop`; a given directory is created if missing and kept.
    ``port`` None picks a free port on 127.0.0.1 (retrying if it is taken in
    the meantime). ``pagecache`` sets Neo4j's page cache (``8g``; default
    256 MB) and ``heap`` the JVM heap (``4g``; default ``-Xmx1g``): a
    database of millions of nodes wants both larger. Raises
    :class:`Neo4jServerError` with the server's log tail when it exits or is
    not ready within ``timeout`` seconds.
    """
    java_opts = with_heap(java_opts, heap)
    if pagecache is not None and not re.fullmatch(r"[0-9]+[kKmMgG]?", pagecache):
        raise Neo4jServerError(f"not a page cache size: {pagecache!r} (e.g. 8g, 512m)")
    classpath = ensure_built()
    owns_dir = data_dir is None
    path = Path(tempfile.mkdtemp(prefix="skiptrace-neo4j-")) if data_dir is None else Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    attempts = 3 if port is None else 1
    deadline = time.monotonic() + timeout
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else _free_port()
        proc, log_path = _spawn(classpath, path, chosen, java_opts, pagecache)
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


# -------------------------------------------------------------------- import


class ImportResult:
    """A finished ``neo4j-admin database import full``: its wall time and output."""

    def __init__(self, data_dir: Path, seconds: float, output: str) -> None:
        self.data_dir = data_dir
        self.seconds = seconds
        self.output = output

    def summary(self) -> str:
        """The importer's closing lines (counts and peak memory)."""
        lines = self.output.rstrip().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("IMPORT DONE"):
                return "\n".join(lines[i:])
        return _tail(self.output, 8)


def database_dir(data_dir: str | os.PathLike[str], database: str = DATABASE) -> Path:
    """Where the launcher (and neo4j-admin with ``NEO4J_HOME=data_dir``) keeps a database's store."""
    return Path(data_dir) / "data" / "databases" / database


def has_database(data_dir: str | os.PathLike[str], database: str = DATABASE) -> bool:
    """Whether ``data_dir`` holds a store for ``database`` (imported or created by a server)."""
    return (database_dir(data_dir, database) / "neostore").exists()


def import_files(
    data_dir: str | os.PathLike[str],
    source: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    heap: str = "1g",
    max_off_heap: str = "2g",
    threads: int | None = None,
    timeout: float | None = None,
) -> ImportResult:
    """Bulk-import the files in ``source`` into the default database of ``data_dir``.

    ``source`` is a directory written by ``skiptrace export --format
    neo4j-import`` (its ``neo4j-admin.args`` lists the files and options).
    Runs ``neo4j-admin database import full`` (``org.neo4j.cli.AdminTool``,
    from the launcher's Maven classpath) with ``NEO4J_HOME=data_dir``, so
    the store lands where :func:`start` with the same directory opens it. No
    server may be running on ``data_dir``. An existing database there is an
    error unless ``overwrite``. ``heap`` is the importer's JVM heap,
    ``max_off_heap`` its ``--max-off-heap-memory`` (the id map and caches),
    ``threads`` its ``--threads`` (default: every core). Raises
    :class:`Neo4jServerError` with the importer's output tail on failure.
    The constraints and indexes are not created here: start a server and run
    ``skiptrace schema apply`` (or ``Neo4jStore.apply_schema()``).
    """
    src = Path(source).resolve()
    args_file = src / "neo4j-admin.args"
    if not args_file.is_file():
        raise Neo4jServerError(f"{src} has no neo4j-admin.args: write it with "
                               "`skiptrace export --format neo4j-import -o DIR`")
    home = Path(data_dir).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if has_database(home) and not overwrite:
        raise Neo4jServerError(f"{home} already holds a database; pass overwrite=True "
                               "(--overwrite) to replace it")
    classpath = ensure_built()
    cmd = [_java(), *with_heap(JAVA_OPTS, heap), "-cp", classpath, ADMIN_CLASS,
           "database", "import", "full", f"@{args_file.name}",
           f"--max-off-heap-memory={max_off_heap}"]
    if threads is not None:
        cmd.append(f"--threads={threads}")
    if overwrite:
        cmd.append("--overwrite-destination=true")
    cmd.append(DATABASE)
    env = {**os.environ, "NEO4J_HOME": str(home)}
    env.pop("NEO4J_CONF", None)  # $NEO4J_HOME/conf, which the launcher ignores too
    log.info("importing %s into %s", src, home)
    started = time.monotonic()
    log_path = home / "import.log"
    with open(log_path, "wb") as out:
        try:
            proc = subprocess.run(cmd, cwd=src, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Neo4jServerError(f"neo4j-admin import did not finish within {timeout:.0f}s "
                                   f"(log {log_path})") from None
    seconds = time.monotonic() - started
    output = _ANSI.sub("", log_path.read_text("utf-8", errors="replace"))
    if proc.returncode != 0:
        raise Neo4jServerError(f"neo4j-admin import of {src} failed (exit {proc.returncode}, "
                               f"log {log_path}):\n{_tail(output)}")
    log.info("imported in %.1fs", seconds)
    return ImportResult(home, seconds, output)


# ----------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``build``, ``start [--port N] [--dir D] ...`` or ``import``."""
    parser = argparse.ArgumentParser(prog="neo4j_server.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the launcher (no-op when up to date) and print its classpath")
    p_start = sub.add_parser("start", help="run a server in the foreground until Ctrl-C")
    p_start.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    p_start.add_argument("--dir", default=None, help="data directory (default: a temporary one, removed at exit)")
    p_start.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness")
    p_start.add_argument("--pagecache", default=None, help="page cache size, e.g. 8g (default 256m)")
    p_start.add_argument("--heap", default=None, help="JVM heap, e.g. 4g (default 1g)")
    p_import = sub.add_parser("import", help="bulk-import `skiptrace export --format neo4j-import` "
                                             "files into a data directory (server stopped)")
    p_import.add_argument("--dir", required=True, help="data directory (the one `start --dir` serves)")
    p_import.add_argument("--from", dest="source", required=True, help="directory of import files")
    p_import.add_argument("--overwrite", action="store_true", help="replace an existing database")
    p_import.add_argument("--heap", default="1g", help="importer JVM heap (default 1g)")
    p_import.add_argument("--max-off-heap", default="2g",
                          help="importer --max-off-heap-memory (default 2g)")
    p_import.add_argument("--threads", type=int, default=None, help="importer threads (default: all cores)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        if args.command == "build":
            started = time.monotonic()
            print(ensure_built())
            log.info("up to date after %.1fs", time.monotonic() - started)
            return 0
        if args.command == "import":
            result = import_files(args.dir, args.source, overwrite=args.overwrite, heap=args.heap,
                                  max_off_heap=args.max_off_heap, threads=args.threads)
            print(result.summary())
            log.info("imported into %s in %.1fs; serve it with `start --dir %s`, then run "
                     "`skiptrace schema apply --neo4j URI`", args.dir, result.seconds, args.dir)
            return 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        started = time.monotonic()
        with start(args.dir, args.port, args.timeout, pagecache=args.pagecache,
                   heap=args.heap) as server:
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
