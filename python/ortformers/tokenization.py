"""transformers' AutoTokenizer / PreTrainedTokenizerFast call surface over the C++ tokenizer."""
import os
from collections import UserDict

import numpy as np

from . import _ortformers as _core
from ._tensors import as_framework, to_numpy

_SPECIAL = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token")
_TRUNCATION = {"longest_first": _core.TruncationStrategy.LONGEST_FIRST,
               "only_first": _core.TruncationStrategy.ONLY_FIRST,
               "only_second": _core.TruncationStrategy.ONLY_SECOND}


class BatchEncoding(UserDict):
    """The tokenizer's output: a mapping (model(**encoding) works), attribute access (encoding.input_ids), and the
    per-row alignment helpers word_ids / sequence_ids / tokens."""

    def __init__(self, data=None, encodings=None, n_sequences=None):
        super().__init__(data or {})
        self._encodings = encodings
        self._n_sequences = n_sequences

    def __getattr__(self, name):
        if name.startswith("_") or name == "data":
            raise AttributeError(name)
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.data[key]
        if isinstance(key, int):
            raise KeyError("indexing a BatchEncoding by int needs the fast tokenizer's Encoding objects, which "
                           "ortformers does not expose; use word_ids(i), tokens(i), sequence_ids(i)")
        raise KeyError(key)

    def _check(self):
        if self._encodings is None:
            raise ValueError("this BatchEncoding was not produced by a tokenizer call")

    def word_ids(self, batch_index=0):
        self._check()
        return self._encodings.word_ids(batch_index)

    def sequence_ids(self, batch_index=0):
        self._check()
        return self._encodings.sequence_ids(batch_index)

    def tokens(self, batch_index=0):
        self._check()
        return self._encodings.tokens(batch_index)

    @property
    def n_sequences(self):
        return self._n_sequences

    def to(self, device):
        if str(device) != "cpu":
            raise ValueError(f"ortformers runs on the CPU; cannot move inputs to {device!r}")
        return self

    def convert_to_tensors(self, tensor_type=None):
        for k, v in self.data.items():
            self.data[k] = as_framework(np.asarray(v), tensor_type)
        return self


def _padding(padding):
    if padding is True or padding == "longest":
        return _core.Padding.LONGEST
    if padding is False or padding is None or padding == "do_not_pad":
        return _core.Padding.NONE
    if padding == "max_length":
        return _core.Padding.MAX_LENGTH
    raise ValueError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}")


def _is_batched(text):
    return isinstance(text, (list, tuple))


class PreTrainedTokenizer:
    """Returned by AutoTokenizer.from_pretrained. Call it like a transformers fast tokenizer."""

    def __init__(self, core, name_or_path):
        self._core = core
        self.name_or_path = name_or_path
        self.model_max_length = core.model_max_length
        self.model_input_names = list(core.model_input_names)
        self.padding_side = core.padding_side
        self.truncation_side = core.truncation_side
        self.is_fast = True
        for name in _SPECIAL:
            object.__setattr__(self, name, core.special_token(name))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """A model folder, a tokenizer.json file or a hub id in the Hugging Face cache."""
        ignored = {"use_fast", "trust_remote_code", "revision", "local_files_only", "cache_dir", "token",
                   "use_auth_token", "subfolder"}
        unknown = set(kwargs) - ignored
        if unknown:
            raise TypeError(f"from_pretrained() got unexpected keyword arguments {sorted(unknown)}")
        path = os.fspath(pretrained_model_name_or_path)
        sub = kwargs.get("subfolder")
        if sub and os.path.isdir(path):
            path = os.path.join(path, sub)
        return cls(_core.PreTrainedTokenizer.from_pretrained(path), path)

    # --- special tokens -------------------------------------------------------------------------------------
    def _special_id(self, name):
        return self._core.special_token_id(name)

    unk_token_id = property(lambda self: self._special_id("unk_token"))
    sep_token_id = property(lambda self: self._special_id("sep_token"))
    pad_token_id = property(lambda self: self._special_id("pad_token"))
    cls_token_id = property(lambda self: self._special_id("cls_token"))
    mask_token_id = property(lambda self: self._special_id("mask_token"))
    bos_token_id = property(lambda self: self._special_id("bos_token"))
    eos_token_id = property(lambda self: self._special_id("eos_token"))

    @property
    def all_special_ids(self):
        return list(self._core.all_special_ids)

    @property
    def all_special_tokens(self):
        return self.convert_ids_to_tokens(self.all_special_ids)

    @property
    def vocab_size(self):
        return self._core.vocab_size

    def __len__(self):
        return len(self._core)

    def num_special_tokens_to_add(self, pair=False):
        return self._core.num_special_tokens_to_add(pair)

    # --- encoding -------------------------------------------------------------------------------------------
    def __call__(self, text=None, text_pair=None, add_special_tokens=True, padding=False, truncation=None,
                 max_length=None, stride=0, is_split_into_words=False, pad_to_multiple_of=None, return_tensors=None,
                 return_token_type_ids=None, return_attention_mask=None, return_overflowing_tokens=False,
                 return_special_tokens_mask=False, return_offsets_mapping=False, return_length=False, verbose=True,
                 **kwargs):
        if kwargs:
            raise TypeError(f"tokenizer call got unexpected keyword arguments {sorted(kwargs)}")
        if text is None:
            raise ValueError("You need to specify `text` (a string or a list of strings)")
        if is_split_into_words:
            raise ValueError("is_split_into_words=True is not supported by ortformers; pass whole strings")
        batched = _is_batched(text)
        texts = list(text) if batched else [text]
        pairs = None
        if text_pair is not None:
            pairs = list(text_pair) if _is_batched(text_pair) else [text_pair]
            if len(pairs) != len(texts):
                raise ValueError(f"text and text_pair have different lengths ({len(texts)} vs {len(pairs)})")
        for t in texts + (pairs or []):
            if not isinstance(t, str):
                raise ValueError(f"text input must be of type `str` (single example) or a list of `str` (batch), "
                                 f"got {type(t).__name__}")
        o = _core.TokenizeOptions()
        o.add_special_tokens = bool(add_special_tokens)
        o.padding = _padding(padding)
        if truncation is None:
            truncation = max_length is not None  # transformers: max_length alone means longest_first
        if truncation is True:
            truncation = "longest_first"
        if truncation in (False, "do_not_truncate"):
            o.truncation = False
        elif truncation in _TRUNCATION:
            o.truncation = True
            o.truncation_strategy = _TRUNCATION[truncation]
        else:
            raise ValueError(f"truncation must be True, False, 'longest_first', 'only_first', 'only_second' or "
                             f"'do_not_truncate', got {truncation!r}")
        if max_length is not None:
            if int(max_length) <= 0:
                raise ValueError(f"max_length must be positive, got {max_length}")
            o.max_length = int(max_length)
        o.stride = int(stride)
        if pad_to_multiple_of is not None:
            o.pad_to_multiple_of = int(pad_to_multiple_of)
        o.return_overflowing_tokens = bool(return_overflowing_tokens)
        enc = self._core.encode_batch(texts, pairs, o)

        as_array = return_tensors is not None
        names = ["input_ids"]
        if return_token_type_ids or (return_token_type_ids is None and "token_type_ids" in self.model_input_names):
            names.append("token_type_ids")
        if return_attention_mask or (return_attention_mask is None and "attention_mask" in self.model_input_names):
            names.append("attention_mask")
        if return_special_tokens_mask:
            names.append("special_tokens_mask")
        data = {name: enc.column(name, as_array) for name in names}
        if return_offsets_mapping:
            data["offset_mapping"] = enc.offsets(as_array)
        if return_length:
            data["length"] = np.asarray(enc.lengths(), dtype=np.int64) if as_array else list(enc.lengths())
        if return_overflowing_tokens:
            mapping = list(enc.overflow_to_sample_mapping)
            data["overflow_to_sample_mapping"] = np.asarray(mapping, dtype=np.int64) if as_array else mapping
        elif not batched and not as_array:
            data = {k: v[0] for k, v in data.items()}  # a single text gives unbatched lists, as transformers
        if as_array:
            data = {k: as_framework(v, return_tensors) for k, v in data.items()}
        return BatchEncoding(data, enc, 2 if pairs else 1)

    def encode(self, text, text_pair=None, add_special_tokens=True, padding=False, truncation=None, max_length=None,
               stride=0, return_tensors=None, **kwargs):
        enc = self(text, text_pair=text_pair, add_special_tokens=add_special_tokens, padding=padding,
                   truncation=truncation, max_length=max_length, stride=stride, return_tensors=return_tensors,
                   **kwargs)
        return enc["input_ids"]

    # --- decoding -------------------------------------------------------------------------------------------
    @staticmethod
    def _ids(token_ids):
        arr = to_numpy(token_ids)
        if arr.ndim > 1:
            raise ValueError(f"expected a sequence of token ids, got an array of shape {arr.shape}")
        return [int(i) for i in arr.reshape(-1)]

    def decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        return self._core.decode(self._ids(token_ids), skip_special_tokens, clean_up_tokenization_spaces)

    def batch_decode(self, sequences, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces) for s in sequences]

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        if isinstance(ids, (int, np.integer)):
            return self._core.convert_ids_to_tokens([int(ids)])[0]
        ids = self._ids(ids)
        if skip_special_tokens:
            special = set(self.all_special_ids)
            ids = [i for i in ids if i not in special]
        return self._core.convert_ids_to_tokens(ids)

    def convert_tokens_to_ids(self, tokens):
        if isinstance(tokens, str):
            found = self._core.convert_token_to_id(tokens)
            return found if found is not None else self.unk_token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def tokenize(self, text, text_pair=None, add_special_tokens=False):
        enc = self._core.encode_batch([text], None if text_pair is None else [text_pair], _options(add_special_tokens))
        return enc.tokens(0)

    def __repr__(self):
        return f"PreTrainedTokenizer(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size})"


def _options(add_special_tokens):
    o = _core.TokenizeOptions()
    o.add_special_tokens = add_special_tokens
    return o


class AutoTokenizer:
    """AutoTokenizer.from_pretrained(folder | tokenizer.json | hub id)."""

    def __init__(self):
        raise OSError("AutoTokenizer is designed to be instantiated with AutoTokenizer.from_pretrained(...)")

    @staticmethod
    def from_pretrained(pretrained_model_name_or_path, **kwargs):
        return PreTrainedTokenizer.from_pretrained(pretrained_model_name_or_path, **kwargs)
