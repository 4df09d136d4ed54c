"""optimum.onnxruntime's image-to-text classes: ORTModelForVision2Seq (VisionEncoderDecoder: ViT / DeiT + GPT-2, TrOCR)
and ORTModelForPix2Struct, with optimum's encoder / decoder file choice, forward with encoder outputs reuse and
past_key_values, and transformers' generate()."""

import numpy as np

from . import _ortformers as _core
from . import modeling_outputs as mo
from ._tensors import import_torch, is_torch_tensor, to_numpy
from .generation import run_generate
from .modeling_seq2seq import ORTModelForConditionalGeneration


def _encoder_state(encoder_outputs):
    if isinstance(encoder_outputs, dict):
        return to_numpy(encoder_outputs["last_hidden_state"])
    if isinstance(encoder_outputs, (tuple, list)):
        return to_numpy(encoder_outputs[0])
    return to_numpy(encoder_outputs)


class _ImageToTextModel(ORTModelForConditionalGeneration):
    _output_class = mo.Seq2SeqLMOutput
    _encoder_inputs = ()  # (name, numpy dtype) the encoder takes

    def _feed(self, values):
        feed = {}
        for name, dtype in self._encoder_inputs:
            v = values.get(name)
            if v is not None:
                feed[name] = np.ascontiguousarray(to_numpy(v).astype(dtype, copy=False))
        return feed

    def get_encoder(self):
        """A callable encoder: get_encoder()(**encoder inputs) -> BaseModelOutput."""
        def encoder(**kwargs):
            use_torch = any(is_torch_tensor(v) for v in kwargs.values())
            state = self._core.encode(self._feed(kwargs))
            if use_torch:
                state = import_torch().from_numpy(state)
            return mo.BaseModelOutput([("last_hidden_state", state)])
        return encoder

    def _forward(self, encoder_values, decoder_input_ids, encoder_outputs, past_key_values, decoder_attention_mask):
        if decoder_input_ids is None:
            raise ValueError(f"{type(self).__name__}.forward needs decoder_input_ids")
        use_torch = any(is_torch_tensor(v) for v in list(encoder_values.values()) + [decoder_input_ids])
        state = None if encoder_outputs is None else _encoder_state(encoder_outputs)
        mask = encoder_values.get("attention_mask")
        past = None if past_key_values is None else [tuple(to_numpy(t) for t in layer) for layer in past_key_values]
        dec = np.ascontiguousarray(to_numpy(decoder_input_ids).astype(np.int64, copy=False))
        dmask = None if decoder_attention_mask is None else to_numpy(decoder_attention_mask).astype(np.int64)
        logits, presents, state = self._core.forward(self._feed(encoder_values), dec, state,
                                                     None if mask is None else to_numpy(mask), past, dmask)
        presents = tuple(tuple(kv) for kv in presents) if self.use_cache else None
        if use_torch:
            torch = import_torch()
            logits, state = torch.from_numpy(logits), torch.from_numpy(state)
            if presents is not None:
                presents = tuple(tuple(torch.from_numpy(t) for t in kv) for kv in presents)
        return self._output_class([("logits", logits), ("past_key_values", presents),
                                   ("encoder_last_hidden_state", state)])

    def generate(self, inputs=None, generation_config=None, streamer=None, **kwargs):
        """transformers' generate(): the encoder's inputs (pixel_values, or flattened_patches + attention_mask) as
        numpy arrays, lists or torch tensors; every GenerationConfig field as a keyword argument. Returns the decoder's
        sequences (decoder start token first; a torch tensor when the inputs were), or with
        return_dict_in_generate=True a ModelOutput with sequences, scores, sequences_scores and beam_indices."""
        values = {}
        if inputs is not None:
            values[self._encoder_inputs[0][0]] = inputs
        for name, _ in self._encoder_inputs:
            if kwargs.get(name) is not None:
                values[name] = kwargs.pop(name)
            else:
                kwargs.pop(name, None)
        decoder_input_ids = kwargs.pop("decoder_input_ids", None)
        if self._encoder_inputs[0][0] not in values:
            raise ValueError(f"{type(self).__name__}.generate needs {self._encoder_inputs[0][0]}")
        use_torch = any(is_torch_tensor(v) for v in values.values())
        feed = self._feed(values)
        if decoder_input_ids is not None:
            feed["decoder_input_ids"] = np.ascontiguousarray(to_numpy(decoder_input_ids).astype(np.int64))
        config = generation_config if generation_config is not None else self.generation_config
        return run_generate(self, feed, config, kwargs, streamer, use_torch)


class ORTModelForVision2Seq(_ImageToTextModel):
    """A VisionEncoderDecoder model exported with optimum (image-to-text-with-past): pixel_values -> captions."""

    _core_class = _core.ORTModelForVision2Seq
    _encoder_inputs = (("pixel_values", np.float32),)

    def forward(self, pixel_values=None, decoder_input_ids=None, encoder_outputs=None, past_key_values=None, **kwargs):
        """optimum's forward: the encoder on pixel_values unless encoder_outputs is given, then the decoder on
        decoder_input_ids with past_key_values ((self key, self value) per layer). Returns a Seq2SeqLMOutput."""
        return self._forward({"pixel_values": pixel_values}, decoder_input_ids, encoder_outputs, past_key_values, None)


class ORTModelForPix2Struct(_ImageToTextModel):
    """Pix2Struct exported with optimum (image-to-text-with-past): flattened_patches + attention_mask -> text."""

    _core_class = _core.ORTModelForPix2Struct
    _encoder_inputs = (("flattened_patches", np.float32), ("attention_mask", np.int64))

    def forward(self, flattened_patches=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, past_key_values=None, **kwargs):
        """optimum's forward: the encoder on flattened_patches + attention_mask (the processor's float mask is fine)
        unless encoder_outputs is given, then the decoder with decoder_attention_mask (default ones) and
        past_key_values ((self key, self value, cross key, cross value) per layer). Returns a Seq2SeqLMOutput."""
        return self._forward({"flattened_patches": flattened_patches, "attention_mask": attention_mask},
                             decoder_input_ids, encoder_outputs, past_key_values, decoder_attention_mask)


__all__ = ["ORTModelForVision2Seq", "ORTModelForPix2Struct"]
