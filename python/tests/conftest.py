"""Shared fixtures: the reference models under ../shared/fixtures (ORTFORMERS_FIXTURES overrides). Without them the
tests that need them are skipped, and under CI=true they fail."""
import json
import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(os.environ.get("ORTFORMERS_FIXTURES", REPO.parent / "shared" / "fixtures"))
STSB = pathlib.Path(os.environ.get("ORTFORMERS_STSB", FIXTURES.parent / "data" / "stsb"))  # next to the fixtures


def _require(path):
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {path} is missing (set ORTFORMERS_FIXTURES)")
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def fixtures():
    return _require(FIXTURES)


@pytest.fixture(scope="session")
def stsb():
    return _require(STSB)


_refs = {}


def reference(name):
    if name not in _refs:
        _refs[name] = json.loads((FIXTURES / "reference" / f"{name}.json").read_text())
    return _refs[name]


def onnx_dir(name):
    return str(FIXTURES / "onnx" / name)


def ref_tensor(t, fixtures_root=None):
    """A reference tensor {"shape", "data"} (or {"same_as": "reference/x.json#/json/pointer"}) as a numpy array."""
    if "same_as" in t:
        file, pointer = t["same_as"].split("#")
        node = reference(pathlib.Path(file).stem)
        for part in pointer.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return ref_tensor(node)
    return np.asarray(t["data"], dtype=np.float32).reshape(t["shape"])


def assert_json_near(actual, expected, tol=1e-4, path="", lenient_offsets=False):
    """Same structure and keys; strings/ints identical; floats within tol."""
    if isinstance(expected, float):
        assert isinstance(actual, (int, float)), f"{path}: expected a number, got {actual!r}"
        assert abs(actual - expected) <= tol, f"{path}: {actual} vs {expected}"
    elif isinstance(expected, bool) or isinstance(expected, int) or isinstance(expected, str) or expected is None:
        assert actual == expected, f"{path}: {actual!r} vs {expected!r}"
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"[:300]
        assert len(actual) == len(expected), f"{path}: length {len(actual)} vs {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_json_near(a, e, tol, f"{path}[{i}]", lenient_offsets)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a dict, got {actual!r}"[:300]
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} vs {sorted(expected)}"
        for k, e in expected.items():
            if lenient_offsets and k in ("start", "end") and e is None:
                continue
            assert_json_near(actual[k], e, tol, f"{path}.{k}", lenient_offsets)
    else:
        raise AssertionError(f"{path}: unexpected reference value {expected!r}")
