"""The torch path (issue 23 item 7): the seed's three optimum examples with torch tensors in and out, pipeline(...)
with torch inputs, and the package importing and working with torch hidden.

scripts/setup.sh installs Debian's python3-torch, so under CI=true a missing torch fails these tests instead of
skipping them. Without torch the package must still work: test_works_without_torch runs a child interpreter in which
`import torch` fails (a sys.meta_path blocker: a venv without system site packages would lack numpy too, and numpy
cannot be installed there offline)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import assert_json_near, onnx_dir, ref_tensor, reference
from test_acceptance import CUSTOM_TASKS, FEATURE_EXTRACTION, FORWARD, hidden, ported, run
from test_pipelines import audio_cases

import ortformers as of


@pytest.fixture(scope="module")
def torch():
    try:
        import torch as t  # noqa: PLC0415
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but torch is not installed (scripts/setup.sh installs python3-torch)")
        pytest.skip("torch is not installed")
    return t


def assert_torch_near(tensor, expected, torch, dtype=None):
    assert isinstance(tensor, torch.Tensor), type(tensor)
    assert dtype is None or tensor.dtype == dtype, tensor.dtype
    np.testing.assert_allclose(tensor.numpy(), expected, atol=1e-4, rtol=0)


def test_feature_extraction_example_with_torch(fixtures, torch):
    scope = run(ported(FEATURE_EXTRACTION), fixtures)
    tokenizer, model, pipe, text = scope["tokenizer"], scope["model"], scope["onnx_extractor"], scope["text"]
    inputs = tokenizer(text, return_tensors="pt")
    assert all(isinstance(v, torch.Tensor) and v.dtype == torch.int64 for v in inputs.values())
    out = model(**inputs)
    assert_torch_near(out.last_hidden_state, hidden("bert-tiny", 0), torch, torch.float32)
    assert_torch_near(out["last_hidden_state"], hidden("bert-tiny", 0), torch)
    # The pipeline as transformers' with a torch framework: return_tensors gives a tensor [1, seq, hidden].
    feats = pipe(text, return_tensors="pt")
    assert_torch_near(feats, hidden("bert-tiny", 0), torch, torch.float32)


def test_forward_example_with_torch(fixtures, torch):
    scope = run(ported(FORWARD), fixtures)
    lhs = scope["last_hidden_state"]
    assert_torch_near(lhs, hidden("bert-tiny", 1), torch, torch.float32)
    assert list(lhs.shape) == list(hidden("bert-tiny", 1).shape)
    # Tensors built by hand (not by the tokenizer), the ids as a non-contiguous view: the same numbers.
    ids = scope["inputs"]["input_ids"]
    strided = torch.stack([ids[0], ids[0]], dim=1)[:, 0].unsqueeze(0)  # a strided view of the same ids
    assert not strided.is_contiguous() and torch.equal(strided, ids)
    out = scope["model"](input_ids=strided, attention_mask=torch.ones_like(strided))
    assert_torch_near(out.last_hidden_state, hidden("bert-tiny", 1), torch)


def test_custom_tasks_example_with_torch(fixtures, torch):
    scope = run(ported(CUSTOM_TASKS), fixtures)
    out = scope["model"](**scope["tokenizer"](scope["text"], return_tensors="pt"))
    assert list(out.keys()) == ["token_embeddings", "sentence_embedding"]
    assert_torch_near(out.token_embeddings, hidden("minilm-tiny-st", 2), torch, torch.float32)
    st = reference("minilm-tiny-st")["pipelines"]["sentence-embeddings"]
    row = st["inputs"].index(scope["text"])
    assert_torch_near(out.sentence_embedding[0], ref_tensor(st["embeddings"])[row], torch)


def test_pipelines_take_torch_inputs(fixtures, torch):
    """Audio pipelines given torch waveforms (bare, or in {"raw", "sampling_rate"}) answer as with numpy."""
    for task, name, tol in (("audio-classification", "wav2vec2-tiny-audiocls", 1e-4),
                            ("automatic-speech-recognition", "wav2vec2-tiny-ctc", 1e-9)):
        pipe = of.pipeline(task, model=onnx_dir(name))
        raw = [(x, kw, exp) for x, kw, exp in audio_cases(name, task) if isinstance(x, dict)]
        assert raw, f"no raw-waveform cases for {name}"
        for inputs, kwargs, expected in raw:
            wave = torch.from_numpy(inputs["raw"])
            assert_json_near(pipe({"raw": wave, "sampling_rate": inputs["sampling_rate"]}, **kwargs), expected, tol)
            if inputs["sampling_rate"] == 16000:
                assert_json_near(pipe(wave, **kwargs), expected, tol)


def test_works_without_torch(fixtures, tmp_path):
    """A child interpreter where `import torch` fails: the package imports, numpy in and out works, and
    return_tensors="pt" raises ImportError suggesting "np"."""
    code = textwrap.dedent(f"""
        import importlib.abc, sys

        class NoTorch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is hidden by the test")
                return None

        sys.meta_path.insert(0, NoTorch())
        for m in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
            del sys.modules[m]
        try:
            import torch  # noqa
            sys.exit("the blocker did not hide torch")
        except ImportError:
            pass
        import numpy as np
        import ortformers
        from ortformers import AutoTokenizer, ORTModelForFeatureExtraction, pipeline
        path = {onnx_dir("bert-tiny")!r}
        tok = AutoTokenizer.from_pretrained(path)
        model = ORTModelForFeatureExtraction.from_pretrained(path)
        out = model(**tok("The quick brown fox jumps over the lazy dog.", return_tensors="np"))
        assert isinstance(out.last_hidden_state, np.ndarray)
        np.save(sys.argv[1], out.last_hidden_state)
        pred = pipeline("feature-extraction", model=model, tokenizer=tok)("Hello world!")
        assert isinstance(pred, list) and isinstance(pred[0][0][0], float)
        try:
            tok("Hello", return_tensors="pt")
            sys.exit("return_tensors='pt' worked without torch")
        except ImportError as e:
            assert 'return_tensors="np"' in str(e), e
        assert "torch" not in sys.modules
        print("ok")
    """)
    out_file = tmp_path / "last_hidden_state.npy"
    r = subprocess.run([sys.executable, "-c", code, str(out_file)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr
    np.testing.assert_allclose(np.load(out_file), hidden("bert-tiny", 1), atol=1e-4, rtol=0)
