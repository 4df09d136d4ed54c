"""ORTModelForCausalLM (forward, generate with numpy / torch tensors, streamers, GenerationConfig) and
pipeline("text-generation") against the gpt2-tiny / llama-tiny references of transformers 4.31."""
import numpy as np
import pytest

import ortformers as of
from conftest import onnx_dir, reference

NAMES = ["gpt2-tiny", "llama-tiny"]


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_reference_entries(fixtures, name):
    pipe = of.pipeline("text-generation", model=onnx_dir(name))
    for e in reference(name)["pipelines"]["text-generation"]:
        assert pipe(e["input"], **e["kwargs"]) == e["output"], (e["input"], e["kwargs"])


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_with_model_object(fixtures, name):
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir(name))
    pipe = of.pipeline("text-generation", model=model)
    e = reference(name)["pipelines"]["text-generation"][2]  # beams + num_return_sequences
    assert pipe(e["input"], **e["kwargs"]) == e["output"]
    prompts = ["Hello, my dog is cute and", "The capital of France is"]
    assert pipe(prompts, max_new_tokens=4, batch_size=2) == pipe(prompts, max_new_tokens=4)
    with pytest.raises(ValueError, match="not used by the model"):
        pipe("Hello", max_new_tokens=2, no_such_argument=1)


def _cases(name, ids):
    ref = reference(name)
    for c in ref["generate"]:
        if c["id"] in ids:
            yield c, ref["generate_inputs"][c["input"]]


@pytest.mark.parametrize("name", NAMES)
def test_generate_reference_cases(fixtures, name):
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir(name))
    for case, inputs in _cases(name, {"greedy", "greedy_extra_eos", "beam4", "beam3_never", "group_beam4",
                                      "greedy_max_length"}):
        feed = {k: np.asarray(v, dtype=np.int64) for k, v in inputs.items()}
        seqs = model.generate(**feed, **case["kwargs"])
        assert isinstance(seqs, np.ndarray)
        assert seqs.tolist() == case["sequences"], (case["id"], case["input"])
        out = model.generate(**feed, **case["kwargs"], output_scores=True, return_dict_in_generate=True)
        assert out.sequences.tolist() == case["sequences"]
        assert len(out.scores) == len(case["scores"])
        for step, ref_step in zip(out.scores, case["scores"]):
            for row, (ids, values) in enumerate(zip(ref_step["topk_indices"], ref_step["topk_values"])):
                got = step[row, ids]
                want = np.array([float(v) for v in values], dtype=np.float64)
                finite = np.isfinite(want)
                np.testing.assert_allclose(got[finite], want[finite], atol=1e-4, rtol=0)
                assert int(np.isfinite(step[row]).sum()) == ref_step["finite_count"][row]
        if "sequences_scores" in case:
            np.testing.assert_allclose(out.sequences_scores, case["sequences_scores"], atol=1e-4, rtol=0)


def test_forward_with_past_matches_full(fixtures):
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir("gpt2-tiny"))
    ids = np.array([[15496, 11, 616, 3290, 318, 13779, 290]], dtype=np.int64)
    full = model(input_ids=ids, attention_mask=np.ones_like(ids))
    assert full.logits.shape[:2] == (1, 7)
    assert len(full.past_key_values) == 2
    head = model(input_ids=ids[:, :5], attention_mask=np.ones((1, 5), dtype=np.int64))
    tail = model(input_ids=ids[:, 5:], attention_mask=np.ones((1, 7), dtype=np.int64),
                 past_key_values=head.past_key_values)
    np.testing.assert_allclose(tail.logits, full.logits[:, 5:], atol=1e-4, rtol=0)
    ref = next(f for f in reference("gpt2-tiny")["forward"] if f["id"] == "full")
    assert ref["inputs"]["input_ids"] == ids.tolist()
    cols = ref["logits"]["columns"]
    want = np.asarray(ref["logits"]["data"], dtype=np.float32).reshape(1, 7, len(cols))
    np.testing.assert_allclose(full.logits[..., cols], want, atol=1e-4, rtol=0)
    assert [[list(k.shape), list(v.shape)] for k, v in full.past_key_values] == ref["present_shapes"]


def test_generation_config_and_errors(fixtures):
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir("gpt2-tiny"))
    assert model.generation_config.pad_token_id == 50256
    gc = of.GenerationConfig.from_pretrained(onnx_dir("gpt2-tiny"), max_new_tokens=3)
    assert gc.max_new_tokens == 3 and gc.eos_token_id == 50256
    assert gc.update(num_beams=2, foo=1) == {"foo": 1} and gc.num_beams == 2
    ids = np.array([[15496, 11, 616]], dtype=np.int64)
    out = model.generate(input_ids=ids, generation_config=of.GenerationConfig(max_new_tokens=3, pad_token_id=50256))
    assert out.shape == (1, 6)
    with pytest.raises(ValueError, match="not used by the model"):
        model.generate(input_ids=ids, max_new_tokens=2, foo=1)
    with pytest.raises(ValueError):
        model.generate(input_ids=ids, max_new_tokens=2, num_beams=2, num_return_sequences=3)


def test_streamers(fixtures, capsys):
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir("gpt2-tiny"))
    tok = of.AutoTokenizer.from_pretrained(onnx_dir("gpt2-tiny"))
    ids = np.array([[15496, 11, 616, 3290, 318, 13779, 290]], dtype=np.int64)

    class Collect:
        def __init__(self):
            self.calls, self.ended = [], 0

        def put(self, value):
            self.calls.append(np.asarray(value).tolist())

        def end(self):
            self.ended += 1

    c = Collect()
    seqs = model.generate(input_ids=ids, max_new_tokens=6, streamer=c)
    assert c.ended == 1 and c.calls[0] == ids[0].tolist()
    assert [t for call in c.calls[1:] for t in call] == seqs[0, 7:].tolist()

    streamer = of.TextStreamer(tok, skip_prompt=True)
    seqs = model.generate(input_ids=ids, max_new_tokens=6, streamer=streamer)
    assert capsys.readouterr().out == tok.decode(seqs[0, 7:].tolist()) + "\n"

    class Pieces(of.TextStreamer):
        def __init__(self, tokenizer):
            super().__init__(tokenizer)
            self.text = ""

        def on_finalized_text(self, text, stream_end=False):
            self.text += text

    p = Pieces(tok)
    seqs = model.generate(input_ids=ids, max_new_tokens=6, streamer=p)
    assert p.text == tok.decode(seqs[0].tolist())


def test_torch_tensors(fixtures):
    torch = pytest.importorskip("torch")
    model = of.ORTModelForCausalLM.from_pretrained(onnx_dir("gpt2-tiny"))
    case, inputs = next(_cases("gpt2-tiny", {"greedy"}))
    feed = {k: torch.tensor(v) for k, v in inputs.items()}
    seqs = model.generate(**feed, **case["kwargs"])
    assert isinstance(seqs, torch.Tensor) and seqs.tolist() == case["sequences"]
    out = model(input_ids=feed["input_ids"])
    assert isinstance(out.logits, torch.Tensor)
