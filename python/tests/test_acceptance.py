"""The seed document's three optimum examples, run with only their import lines changed to `ortformers`, on the
shared fixtures, against the PyTorch reference outputs (<= 1e-4). The same scripts are README's Python quickstart."""
import os
import re

import numpy as np
import pytest

from conftest import FIXTURES, REPO, ref_tensor, reference

# The examples as written for optimum + transformers (paths point at the shared fixtures, relative to the repo).
FEATURE_EXTRACTION = '''\
from transformers import AutoTokenizer, pipeline
from optimum.onnxruntime import ORTModelForFeatureExtraction

path = "../shared/fixtures/onnx/bert-tiny"
tokenizer = AutoTokenizer.from_pretrained(path)
model = ORTModelForFeatureExtraction.from_pretrained(path)
onnx_extractor = pipeline("feature-extraction", model=model, tokenizer=tokenizer)

text = "Hello world!"
pred = onnx_extractor(text)
'''

FORWARD = '''\
from transformers import AutoTokenizer
from optimum.onnxruntime import ORTModelForFeatureExtraction

path = "../shared/fixtures/onnx/bert-tiny"
tokenizer = AutoTokenizer.from_pretrained(path)
model = ORTModelForFeatureExtraction.from_pretrained(path)

inputs = tokenizer("The quick brown fox jumps over the lazy dog.", return_tensors="pt")
outputs = model(**inputs)
last_hidden_state = outputs.last_hidden_state
list(last_hidden_state.shape)
'''

CUSTOM_TASKS = '''\
from transformers import AutoTokenizer, pipeline
from optimum.onnxruntime import ORTModelForCustomTasks

path = "../shared/fixtures/onnx/minilm-tiny-st"
tokenizer = AutoTokenizer.from_pretrained(path)
model = ORTModelForCustomTasks.from_pretrained(path)
onnx_pipe = pipeline("feature-extraction", model=model, tokenizer=tokenizer)

text = "John Smith works at Google in New York City."
pred = onnx_pipe(text)
'''

IMPORT = re.compile(r"^from (transformers|optimum\.onnxruntime) import (.*)$", re.M)


def ported(script):
    """The script with its import lines (and nothing else) changed to ortformers."""
    return IMPORT.sub(r"from ortformers import \2", script)


def run(script, fixtures):
    # The scripts name the fixtures as README does, beside the repository; a clone elsewhere with
    # ORTFORMERS_FIXTURES set runs them on that folder instead.
    if (REPO / "../shared/fixtures").resolve() != FIXTURES.resolve():
        script = script.replace('"../shared/fixtures/', f'"{FIXTURES.as_posix()}/')
    cwd = os.getcwd()
    os.chdir(REPO)  # the scripts use paths relative to the repository, as README shows them
    try:
        scope = {}
        exec(compile(script, "<example>", "exec"), scope)  # noqa: S102 - the test runs its own example scripts
        return scope
    finally:
        os.chdir(cwd)


def hidden(name, index):
    out = next(m for m in reference(name)["model_outputs"] if m["tokenization_index"] == index)
    return ref_tensor(out["outputs"]["last_hidden_state"])


def test_only_imports_change():
    for script in (FEATURE_EXTRACTION, FORWARD, CUSTOM_TASKS):
        a, b = script.splitlines(), ported(script).splitlines()
        changed = [(x, y) for x, y in zip(a, b) if x != y]
        assert changed and all(x.startswith("from ") and y.startswith("from ortformers import ") for x, y in changed)


def test_readme_shows_the_same_scripts():
    readme = (REPO / "README.md").read_text()
    for script in (FEATURE_EXTRACTION, FORWARD, CUSTOM_TASKS):
        assert ported(script) in readme


def test_feature_extraction_pipeline(fixtures):
    scope = run(ported(FEATURE_EXTRACTION), fixtures)
    pred = np.asarray(scope["pred"], dtype=np.float32)
    expected = reference("bert-tiny")["pipelines"]["feature-extraction"][0]
    assert expected["input"] == scope["text"]
    assert pred.shape == np.asarray(expected["output"]).shape
    np.testing.assert_allclose(pred, np.asarray(expected["output"]), atol=1e-4, rtol=0)
    np.testing.assert_allclose(pred, hidden("bert-tiny", 0), atol=1e-4, rtol=0)
    assert isinstance(scope["pred"], list) and isinstance(scope["pred"][0][0][0], float)


def test_forward_with_numpy_tensors(fixtures):
    # The "pt" example with return_tensors="np": the same code path minus the torch conversion.
    scope = run(ported(FORWARD).replace('return_tensors="pt"', 'return_tensors="np"'), fixtures)
    assert isinstance(scope["last_hidden_state"], np.ndarray)
    np.testing.assert_allclose(scope["last_hidden_state"], hidden("bert-tiny", 1), atol=1e-4, rtol=0)


def test_forward_with_torch_tensors(fixtures):
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='return_tensors="np"'):
            run(ported(FORWARD), fixtures)
        pytest.skip("torch is not installed: the example's return_tensors='pt' raises ImportError suggesting 'np'")
    scope = run(ported(FORWARD), fixtures)
    lhs = scope["last_hidden_state"]
    assert type(lhs).__module__.startswith("torch")
    np.testing.assert_allclose(lhs.numpy(), hidden("bert-tiny", 1), atol=1e-4, rtol=0)


def test_custom_tasks_pipeline(fixtures):
    scope = run(ported(CUSTOM_TASKS), fixtures)
    pred = np.asarray(scope["pred"], dtype=np.float32)
    np.testing.assert_allclose(pred, hidden("minilm-tiny-st", 2), atol=1e-4, rtol=0)
    # The same model's pooled output: the sentence-transformers reference embedding of that text.
    st = reference("minilm-tiny-st")["pipelines"]["sentence-embeddings"]
    row = st["inputs"].index(scope["text"])
    outputs = scope["model"](**scope["tokenizer"](scope["text"], return_tensors="np"))
    assert list(outputs.keys()) == ["token_embeddings", "sentence_embedding"]
    np.testing.assert_allclose(outputs.sentence_embedding[0], ref_tensor(st["embeddings"])[row], atol=1e-4, rtol=0)
