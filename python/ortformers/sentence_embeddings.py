"""sentence-transformers' SentenceTransformer(path).encode(...) over the C++ sentence-embeddings pipeline (Pooling
and Normalize from the folder's modules.json, 1_Pooling/, sentence_bert_config.json)."""
import os

from . import _ortformers as _core
from ._tensors import as_framework, text_list
from .modeling_ort import model_options


class SentenceEmbeddings:
    def __init__(self, model_name_or_path, tokenizer=None, device=None, **model_kwargs):
        if device is not None and str(device) != "cpu":
            raise ValueError(f"ortformers runs on the CPU; device={device!r} is not supported")
        o = _core.PipelineOptions()
        o.model = model_options(**model_kwargs)
        if tokenizer is not None:
            o.tokenizer = os.fspath(tokenizer)
        self.model_name_or_path = os.fspath(model_name_or_path)
        self._core = _core.SentenceEmbeddingsPipeline.from_pretrained(self.model_name_or_path, o)

    @property
    def max_seq_length(self):
        return self._core.max_seq_length

    def encode(self, sentences, batch_size=32, show_progress_bar=None, output_value="sentence_embedding",
               convert_to_numpy=True, convert_to_tensor=False, device=None, normalize_embeddings=False, pooling=None):
        """[len(sentences), dim] float32 (a single string gives [dim]). normalize_embeddings=True L2-normalises on
        top of the folder's own Normalize module; pooling= overrides the folder's Pooling ("mean", "cls", ...)."""
        if output_value != "sentence_embedding":
            raise ValueError("only output_value='sentence_embedding' is supported")
        texts, single = text_list(sentences, "sentences")
        out = self._core.encode(texts, int(batch_size), True if normalize_embeddings else None, pooling)
        if single:
            out = out[0]
        return as_framework(out, "pt") if convert_to_tensor else out
