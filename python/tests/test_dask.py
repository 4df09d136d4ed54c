"""examples/dask/embed_corpus.py on the STS-B sentences: 2 worker processes on loopback, one model load per worker,
results in input order equal to a single-process run (<= 1e-6), in bounded time."""
import re
import subprocess
import sys

import pytest

from conftest import REPO, onnx_dir

pytest.importorskip("distributed")


def test_dask_example_matches_single_process(fixtures, stsb):
    script = REPO / "examples" / "dask" / "embed_corpus.py"
    proc = subprocess.run([sys.executable, str(script), "--check", "--workers", "2", "--model", onnx_dir(
        "minilm-tiny-st"), "--data", str(stsb)], capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "dask: 5758 sentences -> (5758, 32)" in proc.stdout
    assert "model loads per worker: [1, 1]" in proc.stdout
    diff = float(re.search(r"max abs difference vs single process: (\S+)", proc.stdout).group(1))
    assert diff <= 1e-6
