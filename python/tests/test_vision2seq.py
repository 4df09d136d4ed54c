"""ORTModelForVision2Seq / ORTModelForPix2Struct (forward with and without past, encoder outputs reuse, generate) and
pipeline("image-to-text") against the vit-gpt2-tiny / pix2struct-tiny references of transformers 4.31."""
import numpy as np
import pytest

import ortformers as of
from conftest import FIXTURES, onnx_dir, reference


def _logits_close(got, ref, atol=1e-4):
    got = np.asarray(got)
    assert list(got.shape[:2]) == ref["shape"][:2]
    if "columns" in ref:
        data = np.array(ref["data"], dtype=np.float64).reshape(ref["shape"][:2] + [len(ref["columns"])])
        np.testing.assert_allclose(got[:, :, ref["columns"]], data, atol=atol, rtol=0)
    else:
        np.testing.assert_allclose(got, np.array(ref["data"]).reshape(ref["shape"]), atol=atol, rtol=0)


def _patches(key):
    """The processor outputs recorded for the images of a generate_inputs key (Pix2Struct stores them whole)."""
    ref = reference("pix2struct-tiny")
    by_image = {e["image"]: e for e in ref["preprocessing"]}
    rows = [by_image[p] for p in ref["generate_inputs"][key]]
    patches = np.concatenate([np.array(e["flattened_patches"]["data"], dtype=np.float32).reshape(
        e["flattened_patches"]["shape"]) for e in rows])
    mask = np.concatenate([np.array(e["attention_mask"]["data"], dtype=np.float32).reshape(
        e["attention_mask"]["shape"]) for e in rows])
    return patches, mask


@pytest.mark.parametrize("use_merged", [None, False])
def test_pix2struct_forward_steps(fixtures, use_merged):
    model = of.ORTModelForPix2Struct.from_pretrained(onnx_dir("pix2struct-tiny"), use_merged=use_merged)
    assert model.use_merged == (use_merged is None)
    for entry in reference("pix2struct-tiny")["forward"]:
        patches, mask = _patches(entry["input"])
        enc = model.get_encoder()(flattened_patches=patches, attention_mask=mask)
        ref_enc = entry["encoder_last_hidden_state"]
        np.testing.assert_allclose(enc.last_hidden_state, np.array(ref_enc["data"]).reshape(ref_enc["shape"]),
                                   atol=1e-4, rtol=0)
        past = None
        for s, step in enumerate(entry["steps"]):
            dec = np.array(step["decoder_input_ids"], dtype=np.int64)
            if s == 0:
                out = model(flattened_patches=patches, attention_mask=mask, decoder_input_ids=dec)
            else:
                out = model(attention_mask=mask, decoder_input_ids=dec, encoder_outputs=enc, past_key_values=past,
                            decoder_attention_mask=np.ones((dec.shape[0], s + 1), dtype=np.int64))
            _logits_close(out.logits, step["logits"])
            past = out.past_key_values
        assert [[list(t.shape) for t in layer] for layer in past] == entry["present_shapes"]


def test_pix2struct_generate_reference_cases(fixtures):
    model = of.ORTModelForPix2Struct.from_pretrained(onnx_dir("pix2struct-tiny"))
    for case in reference("pix2struct-tiny")["generate"]:
        patches, mask = _patches(case["input"])
        seqs = model.generate(flattened_patches=patches, attention_mask=mask, **case["kwargs"])
        assert seqs.tolist() == case["sequences"], (case["id"], case["input"])
        if "sequences_scores" in case:
            out = model.generate(patches, attention_mask=mask, **case["kwargs"], output_scores=True,
                                 return_dict_in_generate=True)
            np.testing.assert_allclose(out.sequences_scores, case["sequences_scores"], atol=1e-4, rtol=0)


def test_vision2seq_forward_and_errors(fixtures):
    model = of.ORTModelForVision2Seq.from_pretrained(onnx_dir("vit-gpt2-tiny"))
    pixels = np.zeros((2, 3, 32, 32), dtype=np.float32)
    start = np.full((2, 1), 50256, dtype=np.int64)
    out = model(pixel_values=pixels, decoder_input_ids=start)
    assert out.logits.shape == (2, 1, 50257)
    assert [list(t.shape) for t in out.past_key_values[0]] == [[2, 4, 1, 8], [2, 4, 1, 8]]
    nxt = model(decoder_input_ids=start, encoder_outputs=out.encoder_last_hidden_state,
                past_key_values=out.past_key_values)
    assert nxt.logits.shape == (2, 1, 50257)
    full = model(pixel_values=pixels, decoder_input_ids=np.concatenate([start, start], axis=1))
    np.testing.assert_allclose(full.logits[:, 1], nxt.logits[:, 0], atol=1e-4, rtol=0)
    seqs = model.generate(pixels, max_new_tokens=3)
    assert seqs.shape == (2, 4) and (seqs[:, 0] == 50256).all()
    with pytest.raises(ValueError, match="image_size"):
        model.generate(np.zeros((1, 3, 16, 16), dtype=np.float32), max_new_tokens=2)
    with pytest.raises(ValueError, match="not used by the model"):
        model.generate(pixels, max_new_tokens=2, no_such_argument=1)


@pytest.mark.parametrize("name", ["vit-gpt2-tiny", "pix2struct-tiny"])
def test_image_to_text_pipeline_reference_entries(fixtures, name):
    pipe = of.pipeline("image-to-text", model=onnx_dir(name))
    for e in reference(name)["pipelines"]["image-to-text"]:
        inputs = e["input"]
        inputs = [str(FIXTURES / p) for p in inputs] if isinstance(inputs, list) else str(FIXTURES / inputs)
        if isinstance(e["output"], dict) and "error" in e["output"]:
            with pytest.raises(ValueError) as err:
                pipe(inputs, **e["kwargs"])
            assert "ValueError: " + str(err.value) == e["output"]["error"]
        else:
            assert pipe(inputs, **e["kwargs"]) == e["output"], (inputs, e["kwargs"])


def test_image_to_text_pipeline_with_model_object(fixtures):
    model = of.ORTModelForPix2Struct.from_pretrained(onnx_dir("pix2struct-tiny"), use_merged=False)
    pipe = of.pipeline("image-to-text", model=model)
    e = reference("pix2struct-tiny")["pipelines"]["image-to-text"][0]
    assert pipe(str(FIXTURES / e["input"]), **e["kwargs"]) == e["output"]
