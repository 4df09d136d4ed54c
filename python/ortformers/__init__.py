"""ortformers: optimum.onnxruntime's ORTModel classes, transformers' AutoTokenizer and pipeline, and a
sentence-transformers encoder, on the ortformers C++ library. numpy in and out; torch is used only if the caller
passes torch tensors or asks for return_tensors="pt"."""
from ._ortformers import (FileFormatError, GraphOptimizationLevel, InvalidArgumentError, NotFoundError,
                          OrtRuntimeError, SessionOptions, UnsupportedError, ort_version)
from .configuration import PretrainedConfig
from .modeling_ort import (MODEL_CLASSES, ORTModel, ORTModelForAudioClassification,
                           ORTModelForAudioFrameClassification, ORTModelForAudioXVector, ORTModelForCTC,
                           ORTModelForCustomTasks, ORTModelForFeatureExtraction, ORTModelForImageClassification,
                           ORTModelForImageToImage, ORTModelForMaskedLM, ORTModelForMultipleChoice,
                           ORTModelForQuestionAnswering, ORTModelForSemanticSegmentation,
                           ORTModelForSequenceClassification, ORTModelForTokenClassification)
from .generation import BaseStreamer, GenerationConfig, TextStreamer
from .modeling_decoder import ORTModelForCausalLM
from .modeling_seq2seq import ORTModelForSeq2SeqLM
from .modeling_vision2seq import ORTModelForPix2Struct, ORTModelForVision2Seq
from .modeling_whisper import ORTModelForSpeechSeq2Seq, WhisperFeatureExtractor
from .modeling_outputs import ModelOutput
from .pipelines import Pipeline, pipeline, supported_tasks
from .sentence_embeddings import SentenceEmbeddings
from .tokenization import AutoTokenizer, BatchEncoding, PreTrainedTokenizer

__version__ = "0.1.0"

__all__ = [c.__name__ for c in MODEL_CLASSES] + [
    "ORTModelForCausalLM", "ORTModelForSeq2SeqLM", "ORTModelForSpeechSeq2Seq", "ORTModelForVision2Seq", "ORTModelForPix2Struct", "WhisperFeatureExtractor", "GenerationConfig", "TextStreamer", "BaseStreamer", "ORTModel", "ModelOutput", "PretrainedConfig", "AutoTokenizer", "PreTrainedTokenizer", "BatchEncoding",
    "pipeline", "Pipeline", "supported_tasks", "SentenceEmbeddings", "SessionOptions", "GraphOptimizationLevel",
    "InvalidArgumentError", "FileFormatError", "NotFoundError", "UnsupportedError", "OrtRuntimeError",
    "ort_version"]
