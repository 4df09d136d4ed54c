"""transformers' pipeline(task, model=..., tokenizer=...) over the C++ pipelines; results are the Python objects
transformers returns (lists, dicts, floats; numpy arrays where it returns tensors)."""
import os
from concurrent.futures import ThreadPoolExecutor


from . import _ortformers as _core
from ._tensors import as_framework, text_list
from .modeling_ort import ORTModel, ORTModelForFeatureExtraction, model_options
from .tokenization import PreTrainedTokenizer


# Pipelines that batch (pad) their inputs themselves in C++.
_GENERATIVE_TASKS = {"text-generation", "text2text-generation", "summarization", "translation"}


def _location(model):
    """(folder, ModelOptions) that load the same ONNX file as an ORTModel object."""
    path = os.path.abspath(model.model_path)
    folder = os.path.abspath(str(model._core.model_dir))
    o = model_options()
    rel = os.path.relpath(path, folder)
    o.subfolder = os.path.dirname(rel)
    o.file_name = os.path.basename(rel)
    return folder, o


def _pipeline_options(model, tokenizer, model_kwargs, output_dir):
    if isinstance(model, ORTModel) and hasattr(model._core, "encoder_path"):
        # An encoder-decoder: its folder (the encoder / decoder files are chosen as from_pretrained chose them).
        folder, mo = os.path.abspath(str(model._core.model_dir)), model_options()
    elif isinstance(model, ORTModel):
        folder, mo = _location(model)
    else:
        folder, mo = os.fspath(model), model_options(**(model_kwargs or {}))
    o = _core.PipelineOptions()
    o.model = mo
    if isinstance(tokenizer, PreTrainedTokenizer):
        o.tokenizer = tokenizer.name_or_path
    elif tokenizer is not None:
        o.tokenizer = os.fspath(tokenizer)
    if output_dir is not None:
        o.output_dir = os.fspath(output_dir)
    return folder, o


class Pipeline:
    """pipe(inputs, **kwargs): one input gives one result, a list gives a list of results."""

    def __init__(self, task, model, tokenizer, batch_size=None):
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    def _batch_size(self, batch_size):
        b = self.batch_size if batch_size is None else batch_size
        if b is not None and int(b) <= 0:
            raise ValueError(f"batch_size must be positive, got {b}")
        return int(b) if b else 1

    def __repr__(self):
        return f"{type(self).__name__}(task={self.task!r})"


class TaskPipeline(Pipeline):
    """Every task through the C++ pipeline's Python-shaped door (same kwargs as transformers)."""

    def __init__(self, task, core, model, tokenizer, batch_size=None):
        super().__init__(task, model, tokenizer, batch_size)
        self._core = core

    def __call__(self, inputs=None, *args, batch_size=None, num_workers=None, **kwargs):
        if args:
            raise TypeError(f"{self.task} pipeline takes one positional argument (the inputs) and keyword arguments")
        b = self._batch_size(batch_size)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if self.task in _GENERATIVE_TASKS or self.task.startswith("translation"):
            # The C++ pipeline pads and batches itself (left padding on the tokenizer's side).
            if b > 1:
                kwargs["batch_size"] = b
            return self._core.call(inputs, kwargs)
        if isinstance(inputs, list) and b > 1:
            out = []
            for i in range(0, len(inputs), b):
                out.extend(self._core.call(inputs[i:i + b], kwargs))
            return out
        return self._core.call(inputs, kwargs)


class FeatureExtractionPipeline(Pipeline):
    """pipe(text) -> [1][seq][hidden] nested lists (return_tensors=True: a numpy array [1, seq, hidden]).
    batch_size=N runs N texts as one padded batch; each result is cut back to its own length."""

    def __init__(self, core, model, tokenizer, batch_size=None):
        super().__init__("feature-extraction", model, tokenizer, batch_size)
        self._core = core

    def __call__(self, inputs, *args, truncation=None, tokenize_kwargs=None, return_tensors=False, batch_size=None,
                 num_workers=None):
        if args:
            raise TypeError("feature-extraction pipeline takes one positional argument (the inputs)")
        texts, single = text_list(inputs, "feature-extraction inputs")
        kwargs = {}
        if truncation is not None:
            kwargs["truncation"] = truncation
        if tokenize_kwargs:
            kwargs["tokenize_kwargs"] = dict(tokenize_kwargs)
        b = self._batch_size(batch_size)
        as_lists = not return_tensors
        chunks = [texts[i:i + b] for i in range(0, len(texts), b)]
        if len(chunks) <= 1:
            results = self._core.run(texts, kwargs, as_lists)
        else:
            results = self._run_overlapped(chunks, kwargs, as_lists)
        if return_tensors:
            framework = "pt" if return_tensors == "pt" else "np"
            results = [as_framework(a, framework) for a in results]
        return results[0] if single else results

    def _run_overlapped(self, chunks, kwargs, as_lists):
        """Batch k+1 runs in C++ (GIL released) on a helper thread while this thread turns batch k into lists."""
        out = []
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self._core.run, chunks[0], kwargs, False)
            for nxt in chunks[1:] + [None]:
                arrays = pending.result()
                if nxt is not None:
                    pending = pool.submit(self._core.run, nxt, kwargs, False)
                if as_lists:
                    arrays = [_core.to_lists(a) for a in arrays]
                out.extend(arrays)
        return out


def _feature_extraction(model, tokenizer, options, folder):
    if isinstance(model, ORTModelForFeatureExtraction):
        tok = tokenizer if isinstance(tokenizer, PreTrainedTokenizer) else \
            PreTrainedTokenizer.from_pretrained(tokenizer if tokenizer is not None else str(model._core.model_dir))
        return _core.FeatureExtractionPipeline(model._core, tok._core)
    # A path/id, or another ORTModel (e.g. ORTModelForCustomTasks, whose first output is the features): the same
    # ONNX file opened as a feature-extraction model (a second session over the file).
    return _core.FeatureExtractionPipeline.from_pretrained(folder, options)


def supported_tasks():
    return list(_core.supported_tasks())


def pipeline(task=None, model=None, tokenizer=None, batch_size=None, device=None, output_dir=None,
             model_kwargs=None, **kwargs):
    """transformers.pipeline: task name (aliases included, e.g. "sentiment-analysis", "ner"), model as an ORTModel
    object, a folder or a hub id in the Hugging Face cache; tokenizer as an object, folder or None (the model's).
    Pipelines that produce images write PNG files into output_dir (default ".") and return their paths."""
    if kwargs:
        raise TypeError(f"pipeline() got unexpected keyword arguments {sorted(kwargs)}")
    tasks = supported_tasks()
    if task not in tasks and not (isinstance(task, str) and task.startswith("translation_")):
        raise KeyError(f"Unknown task {task}, available tasks are {tasks}")
    if model is None:
        raise ValueError("pipeline(): pass model= (an ORTModel object, a model folder or a hub id); ortformers "
                         "downloads no default model")
    if device is not None and str(device) not in ("cpu", "-1"):
        raise ValueError(f"ortformers runs on the CPU; device={device!r} is not supported")
    folder, options = _pipeline_options(model, tokenizer, model_kwargs, output_dir)
    model_obj = model if isinstance(model, ORTModel) else None
    if task == "feature-extraction":
        core = _feature_extraction(model, tokenizer, options, folder)
        return FeatureExtractionPipeline(core, model_obj, tokenizer, batch_size)
    core = _core.TaskPipeline(task, folder, options)
    return TaskPipeline(task, core, model_obj, tokenizer, batch_size)


__all__ = ["pipeline", "Pipeline", "TaskPipeline", "FeatureExtractionPipeline", "supported_tasks"]
