import os
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
