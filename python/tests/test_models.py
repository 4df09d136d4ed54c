"""Every ORTModelFor* class on its fixture against the PyTorch reference outputs (<= 1e-4), fed the recorded inputs
(token ids, pixel values, waveforms); ModelOutput access, config, save_pretrained, input types."""
import numpy as np
import pytest

import ortformers as of
from conftest import FIXTURES, onnx_dir, ref_tensor, reference

TOL = 1e-4

# class, fixture, the output fields optimum's class returns
TEXT_CASES = [
    (of.ORTModelForFeatureExtraction, "bert-tiny", ["last_hidden_state"]),
    (of.ORTModelForFeatureExtraction, "roberta-tiny", ["last_hidden_state"]),
    (of.ORTModelForSequenceClassification, "bert-tiny-seqcls", ["logits"]),
    (of.ORTModelForTokenClassification, "bert-tiny-ner", ["logits"]),
    (of.ORTModelForQuestionAnswering, "bert-tiny-qa", ["start_logits", "end_logits"]),
    (of.ORTModelForMaskedLM, "bert-tiny-mlm", ["logits"]),
]
MEDIA_CASES = [
    (of.ORTModelForImageClassification, "vit-tiny-cls", "pixel_values", ["logits"]),
    (of.ORTModelForSemanticSegmentation, "segformer-tiny", "pixel_values", ["logits"]),
    (of.ORTModelForImageToImage, "swin2sr-tiny", "pixel_values", ["reconstruction"]),
    (of.ORTModelForAudioClassification, "wav2vec2-tiny-audiocls", "input_values", ["logits"]),
    (of.ORTModelForAudioFrameClassification, "wav2vec2-tiny-frames", "input_values", ["logits"]),
    (of.ORTModelForAudioXVector, "wav2vec2-tiny-xvector", "input_values", ["logits", "embeddings"]),
    (of.ORTModelForCTC, "wav2vec2-tiny-ctc", "input_values", ["logits"]),
]


def compare(actual, expected_ref):
    if "columns" in expected_ref:  # masked-LM logits are stored for some vocabulary columns only
        actual = actual[..., expected_ref["columns"]]
        expected_ref = dict(expected_ref, shape=list(actual.shape))
    expected = ref_tensor(expected_ref)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=TOL, rtol=0)


@pytest.mark.parametrize("cls,name,fields", TEXT_CASES, ids=[c[1] for c in TEXT_CASES])
def test_text_models_match_pytorch(fixtures, cls, name, fields):
    ref = reference(name)
    model = cls.from_pretrained(onnx_dir(name))
    for out in ref["model_outputs"][:6]:
        enc = ref["tokenization"][out["tokenization_index"]]
        inputs = {k: np.asarray([enc[k]], dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")
                  if k in enc}
        result = model(**inputs)
        assert isinstance(result, of.ModelOutput) and list(result.keys())[:len(fields)] == fields
        for field in fields:
            compare(getattr(result, field), out["outputs"][field])
            assert result[field] is getattr(result, field)
        assert result[0] is result[fields[0]] and result.to_tuple()[0] is result[0]


@pytest.mark.parametrize("cls,name,input_name,fields", MEDIA_CASES, ids=[c[1] for c in MEDIA_CASES])
def test_media_models_match_pytorch(fixtures, cls, name, input_name, fields):
    ref = reference(name)
    model = cls.from_pretrained(onnx_dir(name))
    out = ref["model_outputs"][0]
    pre = ref["preprocessing"][out["preprocessing_index"]]
    result = model(**{input_name: ref_tensor(pre[input_name])})
    assert list(result.keys()) == fields
    for field in fields:
        compare(result[field], out["outputs"][field])


def test_multiple_choice_as_transformers_documents_it(fixtures):
    ref = reference("bert-tiny-multiple-choice")
    model = of.ORTModelForMultipleChoice.from_pretrained(onnx_dir("bert-tiny-multiple-choice"))
    tok = of.AutoTokenizer.from_pretrained(onnx_dir("bert-tiny-multiple-choice"))
    for case in ref["multiple_choice"]:
        n = len(case["choices"])
        enc = tok([case["prompt"]] * n, case["choices"], return_tensors="np", padding=True)
        outputs = model(**{k: v[None] for k, v in enc.items()})
        np.testing.assert_array_equal(enc["input_ids"][None], np.asarray(case["inputs"]["input_ids"]))
        compare(outputs.logits, case["outputs"]["logits"])


def test_custom_tasks_returns_every_output_in_graph_order(fixtures):
    model = of.ORTModelForCustomTasks.from_pretrained(onnx_dir("minilm-tiny-st"))
    out = model(input_ids=np.array([[101, 7592, 102]]), attention_mask=np.ones((1, 3), dtype=np.int64))
    assert list(out.keys()) == ["token_embeddings", "sentence_embedding"] == list(model.output_names)
    assert out.sentence_embedding.shape == (1, 32)


def test_input_types_and_padded_batch(fixtures):
    ref = reference("bert-tiny")
    model = of.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"))
    batch = ref["batch"]
    feeds = {k: ref_tensor(v).astype(np.int64) if isinstance(v, dict) else np.asarray(v)
             for k, v in batch["inputs"].items()}
    expected = ref_tensor(batch["outputs"]["last_hidden_state"])
    np.testing.assert_allclose(model(**feeds).last_hidden_state, expected, atol=TOL, rtol=0)
    as_int32 = model(**{k: v.astype(np.int32) for k, v in feeds.items()}).last_hidden_state
    as_lists = model(**{k: v.tolist() for k, v in feeds.items()}).last_hidden_state
    fortran = model(**{k: np.asfortranarray(v) for k, v in feeds.items()}).last_hidden_state
    for other in (as_int32, as_lists, fortran):
        np.testing.assert_array_equal(other, model(**feeds).last_hidden_state)
    # token_type_ids is filled with zeros when omitted, and dropped for graphs without it (as optimum does)
    no_types = {k: v for k, v in feeds.items() if k != "token_type_ids"}
    np.testing.assert_array_equal(model(**no_types).last_hidden_state, model(**feeds).last_hidden_state)
    distil = of.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("distilbert-tiny"))
    assert distil(**feeds).last_hidden_state.shape == expected.shape


def test_config_is_dict_like(fixtures):
    model = of.ORTModelForSequenceClassification.from_pretrained(onnx_dir("bert-tiny-seqcls"))
    cfg = model.config
    assert cfg.model_type == cfg["model_type"] == "bert" and "hidden_size" in cfg
    assert cfg.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    assert cfg.label2id["positive"] == 2 and cfg.num_labels == 3
    assert cfg.to_dict()["hidden_size"] == cfg.get("hidden_size") == 32
    with pytest.raises(AttributeError):
        _ = cfg.no_such_field


def test_save_pretrained_round_trip(fixtures, tmp_path):
    model = of.ORTModelForQuestionAnswering.from_pretrained(onnx_dir("bert-tiny-qa"))
    model.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "model.onnx").is_file() and (tmp_path / "saved" / "config.json").is_file()
    again = of.ORTModelForQuestionAnswering.from_pretrained(tmp_path / "saved")
    ids = {"input_ids": [[101, 2040, 102, 2198, 102]], "attention_mask": [[1] * 5]}
    np.testing.assert_array_equal(again(**ids).start_logits, model(**ids).start_logits)


def test_file_name_subfolder_and_export(fixtures, tmp_path):
    (tmp_path / "onnx").mkdir()
    src = FIXTURES / "onnx" / "bert-tiny"
    for f in ("config.json", "model.onnx"):
        (tmp_path / "onnx" / ("renamed.onnx" if f == "model.onnx" else f)).write_bytes((src / f).read_bytes())
    m = of.ORTModelForFeatureExtraction.from_pretrained(tmp_path, subfolder="onnx", file_name="renamed.onnx")
    assert m.model_path.endswith("renamed.onnx")
    exported = of.ORTModelForFeatureExtraction.from_pretrained(FIXTURES / "models" / "bert-tiny", export=True)
    ids = {"input_ids": [[101, 7592, 2088, 999, 102]], "attention_mask": [[1] * 5]}
    np.testing.assert_allclose(exported(**ids).last_hidden_state, m(**ids).last_hidden_state, atol=TOL, rtol=0)


def test_torch_inputs_give_torch_outputs(fixtures):
    torch = pytest.importorskip("torch", reason="torch is not installed (half feature: untested here)")
    model = of.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"))
    out = model(input_ids=torch.tensor([[101, 7592, 102]]), attention_mask=torch.ones(1, 3, dtype=torch.long))
    assert isinstance(out.last_hidden_state, torch.Tensor)
