"""Importing the package (no torch), the exception classes, the model options."""
import subprocess
import sys

import pytest

import ortformers
from conftest import onnx_dir


def test_import_does_not_import_torch():
    code = "import sys, ortformers; from ortformers import *; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_exception_classes_subclass_the_builtins():
    assert issubclass(ortformers.InvalidArgumentError, ValueError)
    assert issubclass(ortformers.FileFormatError, ValueError)
    assert issubclass(ortformers.UnsupportedError, ValueError)
    assert issubclass(ortformers.NotFoundError, FileNotFoundError)
    assert issubclass(ortformers.OrtRuntimeError, RuntimeError)


def test_errors_carry_the_cpp_message(fixtures, tmp_path):
    with pytest.raises(FileNotFoundError, match="model folder not found: .*nowhere"):
        ortformers.ORTModelForFeatureExtraction.from_pretrained(str(tmp_path / "nowhere"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    (bad / "model.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="config.json"):
        ortformers.ORTModelForFeatureExtraction.from_pretrained(str(bad))
    (bad / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises((RuntimeError, ValueError), match="model.onnx"):
        ortformers.ORTModelForFeatureExtraction.from_pretrained(str(bad))
    model = ortformers.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"))
    with pytest.raises(ValueError, match="input_ids"):
        model(attention_mask=[[1, 1]])
    # An input the graph does not take is ignored, as optimum's forward(**kwargs) ignores it.
    with_extra = model(input_ids=[[101, 102]], attention_mask=[[1, 1]], bogus=[[1]]).last_hidden_state
    without = model(input_ids=[[101, 102]], attention_mask=[[1, 1]]).last_hidden_state
    assert (with_extra == without).all()
    with pytest.raises(ValueError, match="not numeric"):
        model(input_ids=[["a", "b"]], attention_mask=[[1, 1]])
    with pytest.raises(RuntimeError):  # ONNX Runtime's own error, wrapped: token id beyond the vocabulary
        model(input_ids=[[101, 10**9, 102]], attention_mask=[[1, 1, 1]])
    with pytest.raises(TypeError, match="unexpected keyword"):
        ortformers.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"), bogus_option=1)
    with pytest.raises(ValueError, match="session_options"):
        ortformers.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"), session_options={"x": 1})


def test_session_options_and_provider(fixtures, tmp_path):
    class OrtStyleOptions:  # what onnxruntime.SessionOptions exposes
        intra_op_num_threads = 1
        graph_optimization_level = 1

    m = ortformers.ORTModelForFeatureExtraction.from_pretrained(
        onnx_dir("bert-tiny"), session_options=OrtStyleOptions(), provider="CPUExecutionProvider")
    assert m(input_ids=[[101, 102]], attention_mask=[[1, 1]]).last_hidden_state.shape == (1, 2, 32)
    m = ortformers.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"),
                                                               session_options={"intra_op_num_threads": 1})
    assert m.device == "cpu" and m.to("cpu") is m
    cached = ortformers.ORTModelForFeatureExtraction.from_pretrained(
        onnx_dir("bert-tiny"), session_options={"ort_format_cache_dir": str(tmp_path / "ort")})
    assert any((tmp_path / "ort").iterdir())  # the optimised graph was kept in ONNX Runtime's format
    ids = {"input_ids": [[101, 7592, 102]], "attention_mask": [[1, 1, 1]]}
    again = ortformers.ORTModelForFeatureExtraction.from_pretrained(
        onnx_dir("bert-tiny"), session_options={"ort_format_cache_dir": str(tmp_path / "ort")})
    assert (again(**ids).last_hidden_state == cached(**ids).last_hidden_state).all()
