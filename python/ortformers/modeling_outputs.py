"""transformers' ModelOutput: an ordered mapping whose fields are also attributes and tuple positions."""
from collections import OrderedDict


class ModelOutput(OrderedDict):
    """outputs.logits, outputs["logits"] and outputs[0] all give the first field; to_tuple() gives them all."""

    def __getitem__(self, key):
        if isinstance(key, str):
            return super().__getitem__(key)
        return self.to_tuple()[key]

    def __getattr__(self, name):
        try:
            return super().__getitem__(name)
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r} (fields: {list(self.keys())})") from None

    def __setattr__(self, name, value):
        self[name] = value

    def to_tuple(self):
        return tuple(self.values())


class BaseModelOutput(ModelOutput):
    """last_hidden_state [batch, seq, hidden] (+ any other graph output, e.g. pooler_output)."""


class SequenceClassifierOutput(ModelOutput):
    """logits [batch, num_labels]."""


class TokenClassifierOutput(ModelOutput):
    """logits [batch, seq, num_labels]."""


class QuestionAnsweringModelOutput(ModelOutput):
    """start_logits, end_logits [batch, seq]."""


class MaskedLMOutput(ModelOutput):
    """logits [batch, seq, vocab_size]."""


class MultipleChoiceModelOutput(ModelOutput):
    """logits [batch, num_choices]."""


class ImageClassifierOutput(ModelOutput):
    """logits [batch, num_labels]."""


class SemanticSegmenterOutput(ModelOutput):
    """logits [batch, num_labels, height, width]."""


class ImageSuperResolutionOutput(ModelOutput):
    """reconstruction [batch, 3, height * upscale, width * upscale]."""


class XVectorOutput(ModelOutput):
    """logits, embeddings [batch, xvector_output_dim]."""


class CausalLMOutput(ModelOutput):
    """logits [batch, frames, vocab_size] (ORTModelForCTC)."""


class CausalLMOutputWithPast(ModelOutput):
    """logits [batch, seq, vocab_size], past_key_values (one (key, value) pair per layer; None without cache)."""


class Seq2SeqLMOutput(ModelOutput):
    """logits [batch, decoder_seq, vocab_size], past_key_values (one (self key, self value, cross key, cross value)
    tuple per layer; None without cache), encoder_last_hidden_state."""


class GenerateOutput(ModelOutput):
    """generate(return_dict_in_generate=True): sequences, scores (output_scores), sequences_scores, beam_indices."""
