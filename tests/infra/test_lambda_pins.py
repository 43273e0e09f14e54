"""The Lambda's third-party code is tested at the versions it pins: the Polygon client, run
from the unzipped Lambda package alone (requests, urllib3, idna, certifi, charset-normalizer
from the wheelhouse, nothing from this venv), fetches two pages from a loopback server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components import packaging

BAR = {"t": 1_795_014_000_000, "o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 10, "vw": 1.2,
       "n": 3}


@pytest.fixture
def two_pages():
    """Page 1 holds one bar and a next_url; page 2 the last bar. Records each request."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("Authorization")))
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            if "cursor=" in self.path:
                body = {"status": "OK", "request_id": "p2", "results": [dict(BAR, t=BAR["t"]
                                                                             + 3_600_000)]}
            else:
                body = {"status": "OK", "request_id": "p1", "results": [BAR],
                        "next_url": f"{host}{self.path.split('?')[0]}?cursor=abc"}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_polygon_client_works_with_the_pinned_lambda_libraries(tmp_path, two_pages):
    wheelhouse = packaging.DEFAULT_WHEELHOUSE
    assert sorted(wheelhouse.glob("*.whl")), (
        f"{wheelhouse} has no wheels: run `components/fetch_wheels.sh` (the install step) first"
    )
    path, _ = packaging.build_lambda_zip(tmp_path / "zip", wheelhouse)
    task = tmp_path / "task"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(task)
    url, seen = two_pages
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(task)!r}]\n"
        "from datetime import date\n"
        "from importlib.metadata import version\n"
        "import requests\n"
        "from runtime.polygon import PolygonClient\n"
        f"client = PolygonClient('pk-test-key', {url!r}, rate_limit_per_min=6000)\n"
        "result = client.fetch_aggregates('AAPL', date(2026, 11, 18), date(2026, 11, 18))\n"
        "names = ('requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer')\n"
        "print(json.dumps({'versions': {n: version(n) for n in names},\n"
        "                  'from_task': requests.__file__.startswith(sys.path[0]),\n"
        "                  'bars': [b['t'] for b in result.bars]}))\n"
    )
    # -I: no user site, no PYTHONPATH; -S: not even the venv's site-packages.
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    pinned = dict(packaging.pinned_requirements(packaging.LAMBDA_REQUIREMENTS))
    assert data["versions"] == pinned
    assert data["from_task"] is True
    assert data["bars"] == [BAR["t"], BAR["t"] + 3_600_000]
    assert [auth for _, auth in seen] == ["Bearer pk-test-key"] * 2
