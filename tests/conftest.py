import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
import torch

# Tests use small networks: one thread is fastest and keeps parallel runs from oversubscribing.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real data folder of ../shared/data; tests needing it skip with a reason if absent."""
    path = Path(os.environ.get("SIGEST_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"real data folder not found at {path} (set SIGEST_DATA)")
    return path


@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    """Keep the user's download cache and $SIGEST_DATA out of the search path."""
    from sigest.datasets import _base

    monkeypatch.delenv(_base.ENV_VAR, raising=False)
    monkeypatch.setattr(_base, "_cache_dir", lambda: tmp_path / "cache")
    return tmp_path / "cache"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dir(tmp_path):
    """(folder, base URL) of a local HTTP server on 127.0.0.1 serving a fresh tmp folder."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
