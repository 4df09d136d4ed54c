"""optimum.onnxruntime's ORTModelForCausalLM: from_pretrained (optimum's file choice), forward with past_key_values,
and transformers' generate() (every decoding strategy of the C++ generation stage)."""
import os

import numpy as np

from . import _ortformers as _core
from . import modeling_outputs as mo
from ._tensors import import_torch, is_torch_tensor, to_numpy
from .generation import GenerationConfig, run_generate
from .modeling_ort import ORTModel, model_options


class ORTModelForCausalLM(ORTModel):
    """A decoder-only language model exported with its key/value cache (model.onnx with past_key_values inputs,
    decoder_model_merged.onnx, or decoder_model.onnx + decoder_with_past_model.onnx)."""

    _core_class = _core.ORTModelForCausalLM
    _output_class = mo.CausalLMOutputWithPast

    def __init__(self, core, model_id=None):
        super().__init__(core, model_id)
        self.generation_config = GenerationConfig(**core.generation_config)

    @classmethod
    def from_pretrained(cls, model_id, use_cache=True, use_merged=None, **kwargs):
        core = _core.ORTModelForCausalLM.from_pretrained(os.fspath(model_id), model_options(**kwargs), bool(use_cache),
                                                         use_merged)
        return cls(core, os.fspath(model_id))

    @property
    def use_cache(self):
        return self._core.use_cache

    @property
    def use_merged(self):
        return self._core.use_merged

    def can_generate(self):
        return True

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, **kwargs):
        if input_ids is None:
            raise ValueError("ORTModelForCausalLM.forward needs input_ids")
        use_torch = is_torch_tensor(input_ids)
        past = None
        if past_key_values is not None:
            past = [(to_numpy(k), to_numpy(v)) for k, v in past_key_values]
        logits, presents = self._core.forward(
            to_numpy(input_ids), None if attention_mask is None else to_numpy(attention_mask),
            None if position_ids is None else to_numpy(position_ids), past)
        presents = tuple(tuple(kv) for kv in presents) if self.use_cache else None
        if use_torch:
            torch = import_torch()
            logits = torch.from_numpy(logits)
            if presents is not None:
                presents = tuple(tuple(torch.from_numpy(t) for t in kv) for kv in presents)
        return self._output_class([("logits", logits), ("past_key_values", presents)])

    def generate(self, inputs=None, generation_config=None, streamer=None, **kwargs):
        """transformers' generate(): input_ids (+ attention_mask) as numpy arrays, lists or torch tensors; every
        GenerationConfig field as a keyword argument; streamer: a TextStreamer or any object with put(ids) / end().
        Returns the sequences (a torch tensor when the inputs were), or with return_dict_in_generate=True a
        ModelOutput with sequences, scores (output_scores=True), sequences_scores and beam_indices for beams."""
        model_inputs = {}
        if inputs is not None:
            model_inputs["input_ids"] = inputs
        for name in ("input_ids", "attention_mask"):
            if kwargs.get(name) is not None:
                model_inputs[name] = kwargs.pop(name)
            else:
                kwargs.pop(name, None)
        for name in ("position_ids", "token_type_ids", "past_key_values", "use_cache"):
            if name == "use_cache" and name in kwargs:
                continue
            kwargs.pop(name, None)
        if "input_ids" not in model_inputs:
            bos = kwargs.get("bos_token_id", self.generation_config.bos_token_id)
            if bos is None:
                raise ValueError("`bos_token_id` has to be defined when no `input_ids` are provided.")
            model_inputs["input_ids"] = np.full((1, 1), bos, dtype=np.int64)
        use_torch = any(is_torch_tensor(v) for v in model_inputs.values())
        feed = {}
        for k, v in model_inputs.items():
            a = to_numpy(v)
            if a.dtype != np.int64:
                a = a.astype(np.int64)
            feed[k] = np.ascontiguousarray(a)
        config = generation_config if generation_config is not None else self.generation_config
        return run_generate(self, feed, config, kwargs, streamer, use_torch)


__all__ = ["ORTModelForCausalLM"]
