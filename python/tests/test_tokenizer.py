"""AutoTokenizer: the reference tokenizations of every text fixture, the call options (padding, truncation,
max_length, stride + overflow, offsets, special-tokens mask, return_tensors), BatchEncoding, decoding."""
import numpy as np
import pytest

from conftest import FIXTURES, onnx_dir, reference
from ortformers import AutoTokenizer, BatchEncoding

# Every text fixture: tokenizer.json folders, and the SentencePiece-only DeBERTa-v3 / XLM-R / MPNet ones (slow rules).
TEXT_FIXTURES = ["albert-tiny", "bert-tiny", "bert-tiny-mlm", "bert-tiny-multiple-choice", "bert-tiny-ner",
                 "bert-tiny-nli", "bert-tiny-qa", "bert-tiny-seqcls", "distilbert-tiny", "distilbert-tiny-qa",
                 "electra-tiny-ner", "minilm-tiny-st", "roberta-tiny", "roberta-tiny-seqcls", "deberta-v3-tiny",
                 "deberta-v3-tiny-nli", "xlm-roberta-tiny", "xlm-roberta-tiny-st", "mpnet-tiny-st"]
# Known differences between the slow AlbertTokenizer of the reference and the fast pipeline (see
# tests/tokenizers/reference_tokenization_test.cpp): (fixture, tokenization index).
KNOWN_SLOW_FAST = {("albert-tiny", 8), ("albert-tiny", 11)}


@pytest.fixture(scope="module")
def bert(fixtures):
    return AutoTokenizer.from_pretrained(onnx_dir("bert-tiny"))


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_reference_tokenization(fixtures, name):
    ref = reference(name)
    tok = AutoTokenizer.from_pretrained(str(FIXTURES / ref["model_dir"]))
    assert tok.model_input_names == ref["tokenizer"]["model_input_names"]
    checked = 0
    for i, entry in enumerate(ref["tokenization"]):
        enc = tok(entry["text"], entry.get("text_pair"), truncation=True, max_length=ref["tokenizer_max_length"])
        if (name, i) in KNOWN_SLOW_FAST:
            assert enc["input_ids"] != entry["input_ids"], f"{name}[{i}] is listed as a known difference"
            checked += 1
            continue
        assert enc["input_ids"] == entry["input_ids"], entry["text"][:80]
        assert enc.attention_mask == entry["attention_mask"]
        if "token_type_ids" in entry:
            assert enc["token_type_ids"] == entry["token_type_ids"]
        assert tok.convert_ids_to_tokens(enc["input_ids"]) == entry["tokens"]
        checked += 1
    assert checked == len(ref["tokenization"]) > 0


def test_batch_padding_matches_reference(fixtures):
    ref = reference("bert-tiny")["batch"]
    tok = AutoTokenizer.from_pretrained(onnx_dir("bert-tiny"))
    texts = [e["text"] for e in reference("bert-tiny")["tokenization"][:5]]
    enc = tok(texts, padding=True, return_tensors="np")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        expected = np.asarray(ref["inputs"][key]["data"] if isinstance(ref["inputs"][key], dict) else ref["inputs"][key])
        assert enc[key].dtype == np.int64
        np.testing.assert_array_equal(enc[key], expected.reshape(enc[key].shape))


def test_batch_encoding_is_a_mapping(bert):
    enc = bert(["Hello world!", "A much longer second sentence here."], padding=True, return_tensors="np")
    assert isinstance(enc, BatchEncoding)
    assert list(enc.keys()) == ["input_ids", "token_type_ids", "attention_mask"]
    assert enc.input_ids is enc["input_ids"] and enc.input_ids.shape == enc.attention_mask.shape
    assert dict(**enc).keys() == enc.keys()
    assert enc.word_ids(0)[0] is None and enc.word_ids(0)[1] == 0
    assert enc.sequence_ids(1)[1] == 0 and enc.tokens(0)[0] == "[CLS]"
    assert enc.tokens(0)[-1] == "[PAD]"
    with pytest.raises(ValueError, match="out of range"):
        enc.word_ids(2)


def test_single_vs_batched_shapes(bert):
    single = bert("Hello world!")
    assert isinstance(single["input_ids"], list) and isinstance(single["input_ids"][0], int)
    batched = bert(["Hello world!"])
    assert batched["input_ids"] == [single["input_ids"]]
    arr = bert("Hello world!", return_tensors="np")
    assert arr["input_ids"].shape == (1, len(single["input_ids"]))


def test_padding_and_truncation_options(bert):
    texts = ["short", "a somewhat longer sentence with many more words in it than twelve tokens"]
    ml = bert(texts, padding="max_length", max_length=12, truncation=True)
    assert [len(r) for r in ml["input_ids"]] == [12, 12]
    assert ml["input_ids"][1][-1] == bert.sep_token_id
    multiple = bert(texts, padding=True, pad_to_multiple_of=8, return_tensors="np")
    assert multiple["input_ids"].shape[1] % 8 == 0
    truncated = bert(texts[1], max_length=5)  # max_length alone truncates (longest_first), as transformers
    assert len(truncated["input_ids"]) == 5
    untruncated = bert(texts[1], truncation=False)
    assert len(untruncated["input_ids"]) > 5
    only_second = bert("a b c d e f g", "h i j k", truncation="only_second", max_length=13)
    assert len(only_second["input_ids"]) == 13 and only_second["input_ids"][:9] == bert("a b c d e f g", "h i j k")[
        "input_ids"][:9]
    with pytest.raises(ValueError, match="different lengths"):
        bert(texts, return_tensors="np")
    with pytest.raises(ValueError, match="padding"):
        bert(texts, padding="sideways")
    with pytest.raises(ValueError, match="truncation"):
        bert(texts, truncation="middle")


def test_overflow_stride_offsets_and_special_mask(bert):
    text = "John Smith works at Google in New York City and likes it there"
    enc = bert(text, max_length=8, truncation=True, stride=2, return_overflowing_tokens=True,
               return_offsets_mapping=True, return_special_tokens_mask=True)
    rows = enc["input_ids"]
    assert len(rows) > 1 and all(len(r) <= 8 for r in rows)
    assert enc["overflow_to_sample_mapping"] == [0] * len(rows)
    # stride: each window repeats the last 2 content tokens of the previous one
    assert rows[1][1:3] == rows[0][-3:-1]
    offsets = enc["offset_mapping"][0]
    assert offsets[0] == (0, 0) and text[offsets[1][0]:offsets[1][1]].lower() == "john"
    assert enc["special_tokens_mask"][0][0] == 1 and enc["special_tokens_mask"][0][1] == 0
    arr = bert(["a b", "c d"], return_offsets_mapping=True, return_tensors="np")
    assert arr["offset_mapping"].shape == (2, 4, 2)


def test_decode_and_vocabulary(bert):
    ids = bert("Hello world!")["input_ids"]
    assert bert.decode(ids) == "[CLS] hello world! [SEP]"
    assert bert.decode(ids, skip_special_tokens=True) == "hello world!"
    assert bert.decode(np.asarray(ids)) == bert.decode(ids)
    assert bert.batch_decode([ids, ids[1:3]], skip_special_tokens=True) == ["hello world!", "hello world"]
    assert bert.encode("Hello world!") == ids
    assert bert.convert_ids_to_tokens(ids[1]) == "hello"
    assert bert.convert_tokens_to_ids(["hello", "world"]) == ids[1:3]
    assert bert.convert_tokens_to_ids("no-such-token-xyz") == bert.unk_token_id
    assert bert.tokenize("Hello world!") == ["hello", "world", "!"]
    assert (bert.cls_token, bert.sep_token, bert.pad_token, bert.mask_token, bert.unk_token) == \
        ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]")
    assert (bert.cls_token_id, bert.sep_token_id, bert.pad_token_id) == (101, 102, 0)
    assert set(bert.all_special_ids) >= {100, 101, 102, 103, 0}
    assert bert.vocab_size == len(bert) == 30522
    assert bert.model_max_length == 512 and bert.padding_side == "right"


def test_return_tensors_pt_without_torch(bert):
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='"np"'):
            bert("Hello", return_tensors="pt")
        return
    out = bert("Hello", return_tensors="pt")
    assert type(out["input_ids"]).__module__.startswith("torch")


def test_errors(fixtures, bert):
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        AutoTokenizer.from_pretrained(str(fixtures / "no-such-folder"))
    with pytest.raises(ValueError, match="str"):
        bert([1, 2])
    with pytest.raises(TypeError, match="bogus"):
        bert("x", bogus=True)
    with pytest.raises(OSError):
        AutoTokenizer()
