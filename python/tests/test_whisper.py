"""ORTModelForSpeechSeq2Seq (Whisper) and WhisperFeatureExtractor against whisper-tiny.json (transformers 4.31), and
pipeline("automatic-speech-recognition") with Whisper."""
import wave

import numpy as np
import pytest

import ortformers as of
from conftest import FIXTURES, onnx_dir, reference


def _wav(path):
    with wave.open(str(FIXTURES / path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1, dtype=np.float32)
        return data, w.getframerate()


def _features(fe, paths):
    return fe([_wav(p)[0] for p in paths], sampling_rate=16000)["input_features"]


def test_feature_extractor_matches_reference(fixtures):
    fe = of.WhisperFeatureExtractor.from_pretrained(onnx_dir("whisper-tiny"))
    for entry in reference("whisper-tiny")["forward"]:
        x = _features(fe, entry["audio"])
        ref = entry["input_features"]
        assert list(x.shape) == ref["shape"]
        flat = x.reshape(-1)
        np.testing.assert_allclose(flat[::ref["step"]], np.array(ref["data"], dtype=np.float32), atol=1e-4)
    with pytest.raises(ValueError, match="was trained using a sampling rate of 16000"):
        fe([np.zeros(100, np.float32)], sampling_rate=8000)


def test_generate_reference_cases(fixtures):
    ref = reference("whisper-tiny")
    model = of.ORTModelForSpeechSeq2Seq.from_pretrained(onnx_dir("whisper-tiny"))
    fe = of.WhisperFeatureExtractor.from_pretrained(onnx_dir("whisper-tiny"))
    for c in ref["generate"]:
        x = _features(fe, ref["generate_inputs"][c["input"]])
        seqs = model.generate(x, **c["kwargs"])
        assert seqs.tolist() == c["sequences"], c["id"]
    with pytest.raises(ValueError, match="Unsupported language: klingon"):
        model.generate(x, language="klingon", max_new_tokens=2)


def test_asr_pipeline_reference_entries(fixtures):
    pipe = of.pipeline("automatic-speech-recognition", model=onnx_dir("whisper-tiny"))
    checked = 0
    for e in reference("whisper-tiny")["pipelines"]["automatic-speech-recognition"]:
        inp = e["input"]
        if isinstance(inp, dict):
            path = inp["raw"].split("'")[1]
            data, sr = _wav(path)
            inp = {"raw": data, "sampling_rate": sr}
        elif isinstance(inp, list):
            inp = [str(FIXTURES / p) for p in inp]
        else:
            inp = str(FIXTURES / inp)
        assert pipe(inp, **e["kwargs"]) == e["output"], e["kwargs"]
        checked += 1
    assert checked == 11
