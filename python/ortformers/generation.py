"""transformers' GenerationConfig and TextStreamer over the C++ generation stage."""
import copy
import json
import os
import warnings

from . import _ortformers as _core


class GenerationConfig:
    """The generate() settings: GenerationConfig(**kwargs), from_pretrained(folder) (generation_config.json, else
    config.json), update(**kwargs) (returns the unused ones), to_dict(); fields are attributes. Only the fields set
    (the non-default ones and the special token ids) are stored; the C++ side fills in transformers' defaults."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_fields", {})
        self._fields.update(kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name, config_file_name=None, **kwargs):
        path = os.fspath(pretrained_model_name)
        if config_file_name is not None:
            with open(os.path.join(path, config_file_name), encoding="utf-8") as f:
                config = cls(**json.load(f))
        else:
            config = cls(**_core.generation_config_from_pretrained(path))
        config.update(**kwargs)
        return config

    @classmethod
    def from_dict(cls, config_dict, **kwargs):
        config = cls(**config_dict)
        config.update(**kwargs)
        return config

    def update(self, **kwargs):
        known = set(_core.generation_config_keys())
        unused = {}
        for k, v in kwargs.items():
            if k in known or k in self._fields:
                self._fields[k] = v
            else:
                unused[k] = v
        return unused

    def to_dict(self):
        return copy.deepcopy(self._fields)

    def __getattr__(self, name):
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        if name in _core.generation_config_keys():
            return None
        raise AttributeError(f"GenerationConfig has no attribute {name!r}")

    def __setattr__(self, name, value):
        self._fields[name] = value

    def __eq__(self, other):
        return isinstance(other, GenerationConfig) and self._fields == other._fields

    def __repr__(self):
        return f"GenerationConfig {json.dumps(self._fields, indent=2, sort_keys=True)}"


class BaseStreamer:
    """generate() calls put(ids) with the prompt first, then with each new token, and end() once."""

    def put(self, value):
        raise NotImplementedError()

    def end(self):
        raise NotImplementedError()


class TextStreamer(BaseStreamer):
    """transformers' TextStreamer: prints the text as it becomes final (whole words; held back while a UTF-8
    sequence is incomplete), then a newline at the end. skip_prompt skips the prompt; decode_kwargs may set
    skip_special_tokens. Subclasses may override on_finalized_text(text, stream_end)."""

    def __init__(self, tokenizer, skip_prompt=False, **decode_kwargs):
        core_tokenizer = getattr(tokenizer, "_core", tokenizer)
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self._core = _core.TextStreamer(core_tokenizer, bool(skip_prompt),
                                        bool(decode_kwargs.get("skip_special_tokens", False)),
                                        lambda text, stream_end: self.on_finalized_text(text, stream_end))

    def put(self, value):
        from ._tensors import to_numpy
        self._core.put(to_numpy(value).reshape(-1))

    def end(self):
        self._core.end()

    def on_finalized_text(self, text, stream_end=False):
        print(text, flush=True, end="" if not stream_end else None)


__all__ = ["GenerationConfig", "BaseStreamer", "TextStreamer"]


def run_generate(model, feed, config, kwargs, streamer, use_torch):
    """The shared end of the generative classes' generate(): the C++ generate (GIL released) on `feed` (int64 / float
    arrays by name) with the GenerationConfig `config` and per-call `kwargs`, generate()'s warnings as UserWarnings,
    torch tensors back when the inputs were, and transformers' result: the sequences, or with
    return_dict_in_generate a GenerateOutput (sequences, scores, sequences_scores, beam_indices)."""
    from . import modeling_outputs as mo
    from ._tensors import import_torch
    core_streamer = None
    if streamer is not None:
        core_streamer = streamer._core if isinstance(streamer, TextStreamer) else streamer
    out = model._core.generate(feed, config.to_dict(), kwargs, core_streamer)
    for w in out.pop("warnings"):
        warnings.warn(w)
    if use_torch:
        torch = import_torch()
        out = {k: tuple(torch.from_numpy(s) for s in v) if k == "scores" else torch.from_numpy(v)
               for k, v in out.items()}
    if dict(config.to_dict(), **kwargs).get("return_dict_in_generate"):
        return mo.GenerateOutput(list(out.items()))
    return out["sequences"]

