"""Shared by the Python benchmarks: a MiniLM-L6-shaped BERT (6 layers, hidden 384, random weights, bert-base-uncased
vocabulary) exported natively by ortformers, and the STS-B sentences. Mirrors bench/support/minilm_checkpoint.cpp."""
import csv
import json
import os
import pathlib
import shutil
import struct

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("ORTFORMERS_SHARED", REPO.parent / "shared"))
WORK = pathlib.Path(os.environ.get("BENCH_DIR", REPO / "build" / "bench-python"))
VOCAB = SHARED / "realmodels" / "bert-base-uncased-tokenizer"


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for b in blobs:
            f.write(b)


def minilm_checkpoint(folder):
    L, H, I, V, P, T = 6, 384, 1536, 30522, 512, 2
    rng = np.random.default_rng(1234)
    w = {}

    def rand(name, *shape):
        w[name] = rng.normal(0.0, 0.05, shape).astype(np.float32)

    def ln(prefix):
        w[prefix + ".weight"], w[prefix + ".bias"] = np.ones(H, np.float32), np.zeros(H, np.float32)

    rand("embeddings.word_embeddings.weight", V, H)
    rand("embeddings.position_embeddings.weight", P, H)
    rand("embeddings.token_type_embeddings.weight", T, H)
    ln("embeddings.LayerNorm")
    for layer in range(L):
        p = f"encoder.layer.{layer}."
        for q in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            rand(p + q + ".weight", H, H)
            rand(p + q + ".bias", H)
        ln(p + "attention.output.LayerNorm")
        rand(p + "intermediate.dense.weight", I, H)
        rand(p + "intermediate.dense.bias", I)
        rand(p + "output.dense.weight", H, I)
        rand(p + "output.dense.bias", H)
        ln(p + "output.LayerNorm")
    rand("pooler.dense.weight", H, H)
    rand("pooler.dense.bias", H)
    folder.mkdir(parents=True, exist_ok=True)
    write_safetensors(folder / "model.safetensors", w)
    (folder / "config.json").write_text(json.dumps({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": H, "num_hidden_layers": L,
        "num_attention_heads": 12, "intermediate_size": I, "vocab_size": V, "max_position_embeddings": P,
        "type_vocab_size": T, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0}))
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(VOCAB / f, folder / f)
    return folder


def minilm_onnx():
    """The exported model folder (made once, kept in build/bench-python/minilm-onnx)."""
    out = WORK / "minilm-onnx"
    if not (out / "model.onnx").is_file():
        import ortformers
        ckpt = minilm_checkpoint(WORK / "minilm-ckpt")
        ortformers.ORTModelForFeatureExtraction.from_pretrained(ckpt, export=True).save_pretrained(out)
        for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(ckpt / f, out / f)
    return out


def stsb_sentences():
    out = []
    for name in ("stsb-en-dev.csv", "stsb-en-test.csv"):
        with open(SHARED / "data" / "stsb" / name, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                out.extend(row[:2])
    return out
