"""optimum.onnxruntime's ORTModelForSpeechSeq2Seq (Whisper) and transformers' WhisperFeatureExtractor: from_pretrained,
forward (no past) and WhisperForConditionalGeneration.generate of transformers 4.31 (language, task,
return_timestamps, every generate kwarg)."""
import os
import warnings

import numpy as np

from . import _ortformers as _core
from . import modeling_outputs as mo
from ._tensors import import_torch, is_torch_tensor, to_numpy
from .generation import GenerationConfig
from .modeling_ort import ORTModel, model_options


class WhisperFeatureExtractor:
    """Log-mel input features [batch, 80, 3000] as transformers 4.31 computes them (30 s padding / truncation)."""

    def __init__(self, core):
        self._core = core

    @classmethod
    def from_pretrained(cls, path):
        return cls(_core.WhisperFeatureExtractor.from_pretrained(os.fspath(path)))

    @property
    def sampling_rate(self):
        return self._core.sampling_rate

    def __call__(self, raw_speech, sampling_rate=None, return_tensors=None, **kwargs):
        single = isinstance(raw_speech, np.ndarray) and raw_speech.ndim == 1 or (
            isinstance(raw_speech, list) and raw_speech and not hasattr(raw_speech[0], "__len__"))
        waves = [raw_speech] if single else list(raw_speech)
        waves = [np.ascontiguousarray(to_numpy(w), dtype=np.float32) for w in waves]
        features = self._core(waves, sampling_rate)
        if return_tensors == "pt":
            features = import_torch().from_numpy(features)
        return {"input_features": features}


class ORTModelForSpeechSeq2Seq(ORTModel):
    """A Whisper model exported by optimum (encoder_model.onnx + decoder_model_merged.onnx or decoder_model.onnx +
    decoder_with_past_model.onnx)."""

    _core_class = _core.ORTModelForSpeechSeq2Seq
    _output_class = mo.ModelOutput

    def __init__(self, core, model_id=None):
        super().__init__(core, model_id)
        self.generation_config = GenerationConfig(**core.generation_config)

    @classmethod
    def from_pretrained(cls, model_id, use_cache=True, use_merged=None, **kwargs):
        core = _core.ORTModelForSpeechSeq2Seq.from_pretrained(os.fspath(model_id), model_options(**kwargs),
                                                              bool(use_cache), use_merged)
        return cls(core, os.fspath(model_id))

    def can_generate(self):
        return True

    def forward(self, input_features=None, decoder_input_ids=None, **kwargs):
        if input_features is None or decoder_input_ids is None:
            raise ValueError("ORTModelForSpeechSeq2Seq.forward needs input_features and decoder_input_ids")
        use_torch = is_torch_tensor(input_features)
        logits, encoder_last_hidden_state = self._core.forward(
            np.ascontiguousarray(to_numpy(input_features), dtype=np.float32),
            np.ascontiguousarray(to_numpy(decoder_input_ids), dtype=np.int64))
        if use_torch:
            torch = import_torch()
            logits, encoder_last_hidden_state = torch.from_numpy(logits), torch.from_numpy(encoder_last_hidden_state)
        return self._output_class([("logits", logits), ("encoder_last_hidden_state", encoder_last_hidden_state)])

    def generate(self, input_features=None, language=None, task=None, return_timestamps=None, **kwargs):
        """WhisperForConditionalGeneration.generate (4.31): sequences start with <|startoftranscript|> and the forced
        tokens; return_dict_in_generate=True gives sequences, scores (output_scores=True), sequences_scores."""
        if input_features is None:
            input_features = kwargs.pop("inputs", None)
        if input_features is None:
            raise ValueError("generate needs input_features")
        use_torch = is_torch_tensor(input_features)
        for name, value in (("language", language), ("task", task), ("return_timestamps", return_timestamps)):
            if value is not None:
                kwargs[name] = value
        feats = np.ascontiguousarray(to_numpy(input_features), dtype=np.float32)
        out = self._core.generate(feats, kwargs)
        for w in out.pop("warnings"):
            warnings.warn(w)
        if use_torch:
            torch = import_torch()
            out = {k: tuple(torch.from_numpy(s) for s in v) if k == "scores" else torch.from_numpy(v)
                   for k, v in out.items()}
        if kwargs.get("return_dict_in_generate"):
            return mo.GenerateOutput(list(out.items()))
        return out["sequences"]


__all__ = ["ORTModelForSpeechSeq2Seq", "WhisperFeatureExtractor"]
