"""optimum.onnxruntime's ORTModelForSeq2SeqLM (T5, BART, ...): from_pretrained (optimum's encoder / decoder file
choice), forward with encoder outputs reuse and past_key_values, and transformers' generate()."""
import os

import numpy as np

from . import _ortformers as _core
from . import modeling_outputs as mo
from ._tensors import import_torch, is_torch_tensor, to_numpy
from .generation import GenerationConfig, run_generate
from .modeling_ort import ORTModel, model_options


class ORTModelForConditionalGeneration(ORTModel):
    """optimum's encoder-decoder base: from_pretrained with the encoder / decoder file choice (use_cache, use_merged),
    the files it chose, the folder's generation_config. ORTModelForSeq2SeqLM and the image-to-text classes build on
    it."""

    def __init__(self, core, model_id=None):
        super().__init__(core, model_id)
        self.generation_config = GenerationConfig(**core.generation_config)

    @classmethod
    def from_pretrained(cls, model_id, use_cache=True, use_merged=None, **kwargs):
        core = cls._core_class.from_pretrained(os.fspath(model_id), model_options(**kwargs), bool(use_cache),
                                               use_merged)
        return cls(core, os.fspath(model_id))

    @property
    def use_cache(self):
        return self._core.use_cache

    @property
    def use_merged(self):
        return self._core.use_merged

    @property
    def encoder_path(self):
        return str(self._core.encoder_path)

    @property
    def decoder_path(self):
        return str(self._core.decoder_path)

    def can_generate(self):
        return True


class ORTModelForSeq2SeqLM(ORTModelForConditionalGeneration):
    """A text encoder-decoder exported with optimum (encoder_model.onnx + decoder_model_merged.onnx, or
    decoder_model.onnx + decoder_with_past_model.onnx, or decoder_model.onnx alone with use_cache=False)."""

    _core_class = _core.ORTModelForSeq2SeqLM
    _output_class = mo.Seq2SeqLMOutput

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, encoder_outputs=None,
                past_key_values=None, **kwargs):
        """optimum's forward: the encoder on input_ids (+ attention_mask) unless encoder_outputs is given (a
        ModelOutput with last_hidden_state, a tuple whose first item is it, or the array), then the decoder on
        decoder_input_ids with past_key_values (one (self key, self value, cross key, cross value) tuple per
        layer). Returns a Seq2SeqLMOutput: logits, past_key_values, encoder_last_hidden_state."""
        if decoder_input_ids is None:
            raise ValueError("ORTModelForSeq2SeqLM.forward needs decoder_input_ids")
        use_torch = any(is_torch_tensor(v) for v in (input_ids, decoder_input_ids) if v is not None)
        encoder_state = None
        if encoder_outputs is not None:
            if isinstance(encoder_outputs, dict):
                encoder_state = encoder_outputs["last_hidden_state"]
            elif isinstance(encoder_outputs, (tuple, list)):
                encoder_state = encoder_outputs[0]
            else:
                encoder_state = encoder_outputs
            encoder_state = to_numpy(encoder_state)
        past = None
        if past_key_values is not None:
            past = [tuple(to_numpy(t) for t in layer) for layer in past_key_values]
        arr = lambda v: None if v is None else to_numpy(v)  # noqa: E731
        logits, presents, encoder_state = self._core.forward(arr(input_ids), arr(attention_mask),
                                                             arr(decoder_input_ids), encoder_state, past)
        presents = tuple(tuple(kv) for kv in presents) if self.use_cache else None
        if use_torch:
            torch = import_torch()
            logits = torch.from_numpy(logits)
            encoder_state = torch.from_numpy(encoder_state)
            if presents is not None:
                presents = tuple(tuple(torch.from_numpy(t) for t in kv) for kv in presents)
        return self._output_class([("logits", logits), ("past_key_values", presents),
                                   ("encoder_last_hidden_state", encoder_state)])

    def get_encoder(self):
        """A callable encoder: get_encoder()(input_ids=..., attention_mask=...) -> BaseModelOutput."""
        def encoder(input_ids=None, attention_mask=None, **kwargs):
            use_torch = is_torch_tensor(input_ids)
            state = self._core.encode(to_numpy(input_ids), None if attention_mask is None else to_numpy(attention_mask))
            if use_torch:
                state = import_torch().from_numpy(state)
            return mo.BaseModelOutput([("last_hidden_state", state)])
        return encoder

    def generate(self, inputs=None, generation_config=None, streamer=None, **kwargs):
        """transformers' generate(): the encoder's input_ids (+ attention_mask), optionally decoder_input_ids, as numpy
        arrays, lists or torch tensors; every GenerationConfig field as a keyword argument. Returns the decoder's
        sequences (starting with the decoder start token; a torch tensor when the inputs were), or with
        return_dict_in_generate=True a ModelOutput with sequences, scores, sequences_scores and beam_indices."""
        model_inputs = {}
        if inputs is not None:
            model_inputs["input_ids"] = inputs
        for name in ("input_ids", "attention_mask", "decoder_input_ids"):
            if kwargs.get(name) is not None:
                model_inputs[name] = kwargs.pop(name)
            else:
                kwargs.pop(name, None)
        for name in ("token_type_ids", "past_key_values"):
            kwargs.pop(name, None)
        if "input_ids" not in model_inputs:
            raise ValueError("ORTModelForSeq2SeqLM.generate needs the encoder's input_ids")
        use_torch = any(is_torch_tensor(v) for v in model_inputs.values())
        feed = {}
        for k, v in model_inputs.items():
            a = to_numpy(v)
            if a.dtype != np.int64:
                a = a.astype(np.int64)
            feed[k] = np.ascontiguousarray(a)
        config = generation_config if generation_config is not None else self.generation_config
        return run_generate(self, feed, config, kwargs, streamer, use_torch)


__all__ = ["ORTModelForSeq2SeqLM"]
