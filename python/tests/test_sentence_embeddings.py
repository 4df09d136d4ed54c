"""SentenceEmbeddings(path).encode(...) against sentence-transformers' recorded embeddings."""
import numpy as np
import pytest

import ortformers as of
from conftest import FIXTURES, onnx_dir, ref_tensor, reference


@pytest.mark.parametrize("name", ["minilm-tiny-st", "mpnet-tiny-st", "xlm-roberta-tiny-st"])
def test_encode_matches_sentence_transformers(fixtures, name):
    st = reference(name)["pipelines"]["sentence-embeddings"]
    model = of.SentenceEmbeddings(FIXTURES / "models" / name, export=True)
    expected = ref_tensor(st["embeddings"])
    for batch_size in (1, 4, 32):
        out = model.encode(st["inputs"], batch_size=batch_size)
        assert out.dtype == np.float32 and out.shape == expected.shape
        np.testing.assert_allclose(out, expected, atol=1e-4, rtol=0)
    assert model.max_seq_length == st["max_seq_length"]


def test_encode_options(fixtures):
    model = of.SentenceEmbeddings(onnx_dir("minilm-tiny-st"), tokenizer=onnx_dir("minilm-tiny-st"))
    single = model.encode("Hello world!")
    assert single.shape == (32,)
    np.testing.assert_allclose(model.encode(["Hello world!"])[0], single, atol=1e-6)
    norm = model.encode(["Hello world!", "Another one"], normalize_embeddings=True)
    np.testing.assert_allclose(np.linalg.norm(norm, axis=1), 1.0, atol=1e-5)
    cls = model.encode(["Hello world!"], pooling="cls")
    assert cls.shape == (1, 32)
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["x"], batch_size=0)
    with pytest.raises(ValueError, match="pooling"):
        model.encode(["x"], pooling="median")
    with pytest.raises(ValueError, match="strings"):
        model.encode([3])
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='"np"'):
            model.encode(["x"], convert_to_tensor=True)
