"""numpy in and out; torch only when the caller uses it (the package never imports torch on its own)."""
import sys

import numpy as np

_NO_TORCH = ('return_tensors="pt" needs PyTorch, which is not installed; use return_tensors="np" '
             "(ortformers returns numpy arrays without torch)")


def is_torch_tensor(value):
    """True for a torch.Tensor, decided without importing torch (it is loaded already if the value is one)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def import_torch():
    try:
        import torch  # noqa: PLC0415 - optional dependency, imported on demand only
    except ImportError as e:
        raise ImportError(_NO_TORCH) from e
    return torch


def to_numpy(value):
    """A torch tensor (zero-copy for a CPU tensor), numpy array or nested list as a numpy array."""
    if is_torch_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def as_framework(array, return_tensors):
    """A numpy array as return_tensors asks: "np" (or None) -> numpy, "pt" -> torch (zero-copy)."""
    if return_tensors in (None, "np"):
        return array
    if return_tensors == "pt":
        return import_torch().from_numpy(np.ascontiguousarray(array))
    raise ValueError(f'return_tensors must be "np", "pt" or None, got {return_tensors!r}')


def text_list(inputs, what):
    """(texts, single): a string or an iterable of strings as a list; ValueError naming `what` otherwise."""
    single = isinstance(inputs, str)
    texts = [inputs] if single else list(inputs)
    for t in texts:
        if not isinstance(t, str):
            raise ValueError(f"{what} must be strings, got {type(t).__name__}")
    return texts, single
