"""ORTModelForSeq2SeqLM (forward with and without past, encoder outputs reuse, generate with numpy / torch-free
inputs) and pipeline("text2text-generation" / "summarization" / "translation_xx_to_yy") against the t5-tiny /
bart-tiny references of transformers 4.31."""
import numpy as np
import pytest

import ortformers as of
from conftest import onnx_dir, reference

NAMES = ["t5-tiny", "bart-tiny"]


def _logits_close(got, ref, atol=1e-4):
    """got [b, s, V] vs a reference logits entry (whole, or columns + topk)."""
    got = np.asarray(got)
    assert list(got.shape[:2]) == ref["shape"][:2]
    if "columns" in ref:
        data = np.array(ref["data"], dtype=np.float64).reshape(ref["shape"][:2] + [len(ref["columns"])])
        np.testing.assert_allclose(got[:, :, ref["columns"]], data, atol=atol, rtol=0)
    else:
        np.testing.assert_allclose(got, np.array(ref["data"]).reshape(ref["shape"]), atol=atol, rtol=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("use_merged", [None, False])
def test_forward_steps(fixtures, name, use_merged):
    model = of.ORTModelForSeq2SeqLM.from_pretrained(onnx_dir(name), use_merged=use_merged)
    assert model.use_merged == (use_merged is None)
    for entry in reference(name)["forward"]:
        ids = np.array(entry["inputs"]["input_ids"], dtype=np.int64)
        mask = np.array(entry["inputs"]["attention_mask"], dtype=np.int64)
        enc = model.get_encoder()(input_ids=ids, attention_mask=mask)
        ref_enc = entry["encoder_last_hidden_state"]
        np.testing.assert_allclose(enc.last_hidden_state, np.array(ref_enc["data"]).reshape(ref_enc["shape"]),
                                   atol=1e-4, rtol=0)
        past = None
        for s, step in enumerate(entry["steps"]):
            dec = np.array(step["decoder_input_ids"], dtype=np.int64)
            if s == 0:
                out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec)
            else:
                out = model(attention_mask=mask, decoder_input_ids=dec, encoder_outputs=enc, past_key_values=past)
            _logits_close(out.logits, step["logits"])
            past = out.past_key_values
        assert [[list(t.shape) for t in layer] for layer in past] == entry["present_shapes"]
        full = model(decoder_input_ids=np.array(entry["decoder_full"]["decoder_input_ids"]), encoder_outputs=enc,
                     attention_mask=mask)
        _logits_close(full.logits, entry["decoder_full"]["logits"])


@pytest.mark.parametrize("name", NAMES)
def test_generate_reference_cases(fixtures, name):
    model = of.ORTModelForSeq2SeqLM.from_pretrained(onnx_dir(name))
    ref = reference(name)
    for case in ref["generate"]:
        feed = {k: np.asarray(v, dtype=np.int64) for k, v in ref["generate_inputs"][case["input"]].items()}
        seqs = model.generate(**feed, **case["kwargs"])
        assert isinstance(seqs, np.ndarray)
        assert seqs.tolist() == case["sequences"], (case["id"], case["input"])
        if "sequences_scores" in case:
            out = model.generate(**feed, **case["kwargs"], output_scores=True, return_dict_in_generate=True)
            np.testing.assert_allclose(out.sequences_scores, case["sequences_scores"], atol=1e-4, rtol=0)
            assert len(out.scores) == len(case["scores"])


def test_generate_errors(fixtures):
    model = of.ORTModelForSeq2SeqLM.from_pretrained(onnx_dir("t5-tiny"))
    with pytest.raises(ValueError, match="not used by the model"):
        model.generate(np.array([[5, 6, 2]]), max_new_tokens=2, no_such_argument=1)
    with pytest.raises(ValueError, match="out of range"):
        model.generate(np.array([[5, 99999]]), max_new_tokens=2)
    with pytest.raises(ValueError, match="use_cache=False, use_merged=True"):
        of.ORTModelForSeq2SeqLM.from_pretrained(onnx_dir("t5-tiny"), use_cache=False, use_merged=True)


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_reference_entries(fixtures, name):
    for task, entries in reference(name)["pipelines"].items():
        pipe = of.pipeline(task, model=onnx_dir(name))
        for e in entries:
            assert pipe(e["input"], **e["kwargs"]) == e["output"], (task, e["input"], e["kwargs"])
            assert pipe(e["input"], batch_size=2, **e["kwargs"]) == e["output"], (task, e["input"], e["kwargs"])


def test_pipeline_with_model_object(fixtures):
    model = of.ORTModelForSeq2SeqLM.from_pretrained(onnx_dir("t5-tiny"), use_merged=False)
    pipe = of.pipeline("translation_en_to_de", model=model)
    e = reference("t5-tiny")["pipelines"]["translation_en_to_de"][0]
    assert pipe(e["input"], **e["kwargs"]) == e["output"]
    ids = pipe(e["input"], return_tensors=True, max_new_tokens=3)
    assert ids[0]["translation_token_ids"][0] == 1100
    with pytest.raises(ValueError, match="Invalid translation task"):
        of.pipeline("translation_en_de", model=onnx_dir("t5-tiny"))
