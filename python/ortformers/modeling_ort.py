"""optimum.onnxruntime's ORTModel classes over the C++ models: from_pretrained, save_pretrained, forward/__call__."""
import os

from . import _ortformers as _core
from . import modeling_outputs as mo
from ._tensors import is_torch_tensor, import_torch, to_numpy
from .configuration import PretrainedConfig

# Tokenizer outputs that optimum's forward() drops when the graph does not take them.
_TOKENIZER_EXTRAS = {"token_type_ids", "attention_mask", "position_ids", "special_tokens_mask", "offset_mapping",
                     "overflow_to_sample_mapping", "length"}

# Arguments optimum accepts that have no effect here (CPU, no IO binding, no remote code).
_IGNORED_KWARGS = {"use_io_binding", "provider_options", "trust_remote_code", "use_cache", "force_download",
                   "from_transformers", "config", "cache_dir"}

_OPT_LEVELS = {0: _core.GraphOptimizationLevel.ORT_DISABLE_ALL, 1: _core.GraphOptimizationLevel.ORT_ENABLE_BASIC,
               2: _core.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, 99: _core.GraphOptimizationLevel.ORT_ENABLE_ALL}
_SESSION_FIELDS = ("intra_op_num_threads", "inter_op_num_threads", "graph_optimization_level", "enable_cpu_mem_arena",
                   "enable_mem_pattern", "optimized_model_filepath",
                   "ort_format_cache_dir")  # ortformers' own: keep the optimised graph in ORT format there


def session_options_from(session_options, provider="CPUExecutionProvider"):
    """Our SessionOptions from None, a dict, or an object with onnxruntime.SessionOptions' attribute names."""
    if isinstance(session_options, _core.SessionOptions):
        out = session_options
    else:
        out = _core.SessionOptions()
        source = session_options or {}
        get = source.get if isinstance(source, dict) else (lambda k, d=None: getattr(source, k, d))
        if isinstance(source, dict):
            unknown = set(source) - set(_SESSION_FIELDS)
            if unknown:
                raise ValueError(f"unknown session_options keys {sorted(unknown)}; known: {list(_SESSION_FIELDS)}")
        for field in _SESSION_FIELDS:
            value = get(field, None)
            if value is None:
                continue
            if field == "graph_optimization_level" and not isinstance(value, _core.GraphOptimizationLevel):
                level = int(value)
                if level not in _OPT_LEVELS:
                    raise ValueError(f"graph_optimization_level must be one of {sorted(_OPT_LEVELS)}, got {value!r}")
                value = _OPT_LEVELS[level]
            setattr(out, field, value)
    if provider:
        providers = [provider] if isinstance(provider, str) else list(provider)
        out.execution_providers = providers
    return out


def model_options(export=False, file_name=None, subfolder="", revision=None, local_files_only=False,
                  provider="CPUExecutionProvider", session_options=None, token=None, use_auth_token=None, **kwargs):
    unknown = set(kwargs) - _IGNORED_KWARGS
    if unknown:
        raise TypeError(f"from_pretrained() got unexpected keyword arguments {sorted(unknown)}")
    o = _core.ModelOptions()
    o.export = bool(export or kwargs.get("from_transformers", False))
    o.file_name = file_name or ""
    o.subfolder = subfolder or ""
    o.revision = revision or "main"
    o.local_files_only = bool(local_files_only)
    tok = token if token is not None else use_auth_token
    if isinstance(tok, str):
        o.token = tok
    o.session = session_options_from(session_options, provider)
    return o


class ORTModel:
    """Base of the ORTModelFor* classes. model(**inputs) == model.forward(**inputs); inputs are numpy arrays, lists or
    torch tensors (outputs are then torch tensors too, as optimum does); outputs are ModelOutput objects."""

    _core_class = None
    _output_class = mo.ModelOutput

    def __init__(self, core, model_id=None):
        self._core = core
        self.config = PretrainedConfig(core.config)
        self.model_save_dir = str(core.model_dir)
        self.name_or_path = model_id if model_id is not None else str(core.model_dir)

    @classmethod
    def from_pretrained(cls, model_id, **kwargs):
        """model_id: a folder (optimum export, or a PyTorch checkpoint with export=True) or a hub id in the
        Hugging Face cache. Keyword arguments: export, file_name, subfolder, revision, local_files_only, provider,
        session_options (dict or onnxruntime-style object), token."""
        return cls(cls._core_class.from_pretrained(os.fspath(model_id), model_options(**kwargs)), os.fspath(model_id))

    def save_pretrained(self, save_directory):
        os.makedirs(save_directory, exist_ok=True)
        self._core.save_pretrained(os.fspath(save_directory))

    @property
    def model_path(self):
        return str(self._core.model_path)

    @property
    def input_names(self):
        return {name: i for i, name in enumerate(self._core.input_names)}

    @property
    def output_names(self):
        return {name: i for i, name in enumerate(self._core.output_names)}

    @property
    def device(self):
        return "cpu"

    def to(self, device):
        if str(device) != "cpu":
            raise ValueError(f"ortformers runs on the CPU; cannot move the model to {device!r}")
        return self

    def forward(self, *args, **inputs):
        if args:
            raise TypeError(f"{type(self).__name__}.forward takes named inputs (input_ids=..., attention_mask=...)")
        graph_inputs = set(self._core.input_names)
        inputs = {k: v for k, v in inputs.items()
                  if v is not None and k != "return_dict" and (k in graph_inputs or k not in _TOKENIZER_EXTRAS)}
        use_torch = any(is_torch_tensor(v) for v in inputs.values())
        outputs = self._core.forward({k: to_numpy(v) for k, v in inputs.items()})
        if use_torch:
            torch = import_torch()
            outputs = [(k, torch.from_numpy(v)) for k, v in outputs]
        return self._output_class(outputs)

    def __call__(self, *args, **inputs):
        return self.forward(*args, **inputs)

    def __repr__(self):
        return f"{type(self).__name__}({self.model_path!r})"


def _model_class(name, output_class, doc):
    core = getattr(_core, name)
    return type(name, (ORTModel,), {"_core_class": core, "_output_class": output_class, "__doc__": doc,
                                    "__module__": __name__})


ORTModelForFeatureExtraction = _model_class("ORTModelForFeatureExtraction", mo.BaseModelOutput,
                                            "last_hidden_state (token_embeddings for sentence-transformers graphs).")
ORTModelForCustomTasks = _model_class("ORTModelForCustomTasks", mo.ModelOutput,
                                      "Any graph: every graph output by name, in the graph's order.")
ORTModelForSequenceClassification = _model_class("ORTModelForSequenceClassification", mo.SequenceClassifierOutput,
                                                 "logits [batch, num_labels].")
ORTModelForTokenClassification = _model_class("ORTModelForTokenClassification", mo.TokenClassifierOutput,
                                              "logits [batch, seq, num_labels].")
ORTModelForQuestionAnswering = _model_class("ORTModelForQuestionAnswering", mo.QuestionAnsweringModelOutput,
                                            "start_logits, end_logits [batch, seq].")
ORTModelForMaskedLM = _model_class("ORTModelForMaskedLM", mo.MaskedLMOutput, "logits [batch, seq, vocab].")
ORTModelForMultipleChoice = _model_class("ORTModelForMultipleChoice", mo.MultipleChoiceModelOutput,
                                         "inputs [batch, num_choices, seq] -> logits [batch, num_choices].")
ORTModelForImageClassification = _model_class("ORTModelForImageClassification", mo.ImageClassifierOutput,
                                              "pixel_values -> logits [batch, num_labels].")
ORTModelForSemanticSegmentation = _model_class("ORTModelForSemanticSegmentation", mo.SemanticSegmenterOutput,
                                               "pixel_values -> logits [batch, num_labels, h, w].")
ORTModelForImageToImage = _model_class("ORTModelForImageToImage", mo.ImageSuperResolutionOutput,
                                       "pixel_values -> reconstruction.")
ORTModelForAudioClassification = _model_class("ORTModelForAudioClassification", mo.SequenceClassifierOutput,
                                              "input_values -> logits [batch, num_labels].")
ORTModelForAudioFrameClassification = _model_class("ORTModelForAudioFrameClassification", mo.TokenClassifierOutput,
                                                   "input_values -> logits [batch, frames, num_labels].")
ORTModelForAudioXVector = _model_class("ORTModelForAudioXVector", mo.XVectorOutput,
                                       "input_values -> logits, embeddings.")
ORTModelForCTC = _model_class("ORTModelForCTC", mo.CausalLMOutput, "input_values -> logits [batch, frames, vocab].")

MODEL_CLASSES = [ORTModelForFeatureExtraction, ORTModelForCustomTasks, ORTModelForSequenceClassification,
                 ORTModelForTokenClassification, ORTModelForQuestionAnswering, ORTModelForMaskedLM,
                 ORTModelForMultipleChoice, ORTModelForImageClassification, ORTModelForSemanticSegmentation,
                 ORTModelForImageToImage, ORTModelForAudioClassification, ORTModelForAudioFrameClassification,
                 ORTModelForAudioXVector, ORTModelForCTC]
