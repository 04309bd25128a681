"""A real HTTP server on 127.0.0.1 that serves files with byte ranges and counts what it sent.

The standard library's SimpleHTTPRequestHandler ignores ``Range``; GDAL's
/vsicurl/ needs it to read a Cloud-Optimized GeoTIFF a few tiles at a time.

Two ways to run it: :func:`range_server` in a thread of the test process
(enough when railcount runs in a subprocess), or as a process of its own,
``python tests/rangeserver.py ROOT`` (it prints its port), for tests that
read URLs with GDAL in the test process itself: GDAL holds the GIL while it
waits for a URL, so a server thread in that process would never answer.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class Served:
    """What the server sent: body bytes, requests and the ranges asked for."""

    bytes_sent: int = 0
    requests: int = 0
    ranges: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Every path asked for (GET or HEAD), found or not."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.bytes_sent, self.requests, self.ranges, self.paths = 0, 0, [], []


def _handler(root: Path, served: Served) -> type[BaseHTTPRequestHandler]:
    class RangeHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _file(self) -> Path | None:
            with served.lock:
                served.paths.append(self.path)
            path = (root / self.path.split("?", 1)[0].lstrip("/")).resolve()
            return path if path.is_file() and root in path.parents else None

        def do_HEAD(self) -> None:
            path = self._file()
            if path is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def do_GET(self) -> None:
            path = self._file()
            if path is None:
                self.send_error(404)
                return
            size = path.stat().st_size
            start, end = 0, size - 1
            rng = self.headers.get("Range")
            match = _RANGE.match(rng.strip()) if rng else None
            if match:
                a, b = match.groups()
                if a:
                    start, end = int(a), min(int(b), size - 1) if b else size - 1
                else:  # suffix range: the last N bytes
                    start = max(0, size - int(b))
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            length = end - start + 1
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            with path.open("rb") as f:
                f.seek(start)
                body = f.read(length)
            self.wfile.write(body)
            with served.lock:
                served.bytes_sent += len(body)
                served.requests += 1
                served.ranges.append(rng or "all")

    return RangeHandler


@contextmanager
def held_server(greeting: bytes | None = None) -> Iterator[int]:
    """A real TCP server on 127.0.0.1 that takes every connection, sends ``greeting`` (or nothing)
    and never answers more: a stalled scene server, or a port where no Dask scheduler listens.
    Yields its port; closes it and the connections it holds on leaving."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)  # never answered
            if greeting:
                conn.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for conn in held:
            conn.close()


@contextmanager
def range_server(root: Path) -> Iterator[tuple[str, Served]]:
    """Serve ``root`` on a free port of 127.0.0.1; yields the base URL and the byte counter."""
    served = Served()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root.resolve(), served))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    """Serve the folder given as the first argument until killed; print the port first."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Path(sys.argv[1]).resolve(), Served()))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
