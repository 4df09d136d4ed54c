"""Embed a corpus with ortformers on Dask: a LocalCluster of worker processes on loopback, the model loaded once per
worker (a WorkerPlugin), partitions of the corpus mapped through SentenceEmbeddings.encode, results gathered in
input order. With --check, also embeds the corpus in this process and compares (max abs difference <= 1e-6).

    build/venv/bin/python examples/dask/embed_corpus.py --check
    build/venv/bin/python examples/dask/embed_corpus.py --model ../shared/fixtures/onnx/minilm-tiny-st \
        --data ../shared/data/stsb --workers 2 --partition-size 256 --out embeddings.npy

The same code runs on a real cluster: pass --scheduler tcp://host:8786 instead of starting a LocalCluster (every
worker needs the package and the model folder at the same path, or a hub id in its Hugging Face cache)."""
import argparse
import csv
import pathlib
import sys
import time

import numpy as np
from distributed import Client, LocalCluster, WorkerPlugin, get_worker

import ortformers

REPO = pathlib.Path(__file__).resolve().parents[2]


class LoadModel(WorkerPlugin):
    """Runs once in every worker process (and in any worker that joins later): loads the model there."""

    name = "ortformers-model"

    def __init__(self, model, batch_size):
        self.model, self.batch_size = model, batch_size

    def setup(self, worker):
        worker.ortformers_model = ortformers.SentenceEmbeddings(self.model)
        worker.ortformers_batch_size = self.batch_size
        worker.ortformers_loads = getattr(worker, "ortformers_loads", 0) + 1


def embed_partition(sentences):
    worker = get_worker()
    return worker.ortformers_model.encode(sentences, batch_size=worker.ortformers_batch_size)


def read_stsb(folder):
    """Every sentence of the STS-B CSV files (sentence1, sentence2 of each row), in file order."""
    sentences = []
    for name in ("stsb-en-dev.csv", "stsb-en-test.csv"):
        with open(pathlib.Path(folder) / name, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if len(row) != 3:
                    raise ValueError(f"{name}: expected sentence1,sentence2,score, got {row!r}")
                sentences.extend(row[:2])
    return sentences


def embed_on_dask(client, sentences, model, batch_size, partition_size):
    client.register_worker_plugin(LoadModel(model, batch_size))
    # Partition sizes are a multiple of batch_size, so every batch is the one a single-process run would form.
    parts = [sentences[i:i + partition_size] for i in range(0, len(sentences), partition_size)]
    futures = client.map(embed_partition, parts, pure=False)
    emb = np.concatenate(client.gather(futures), axis=0)  # gather keeps the order of `parts`
    loads = client.run(lambda dask_worker: getattr(dask_worker, "ortformers_loads", 0))
    print(f"model loads per worker: {sorted(loads.values())}")
    return emb


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(REPO.parent / "shared" / "fixtures" / "onnx" / "minilm-tiny-st"))
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "stsb"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--partition-size", type=int, default=256)
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster)")
    p.add_argument("--out", help="write the embeddings here (.npy)")
    p.add_argument("--check", action="store_true", help="compare with a single-process run (<= 1e-6)")
    args = p.parse_args(argv)
    if args.partition_size % args.batch_size:
        p.error("--partition-size must be a multiple of --batch-size")

    sentences = read_stsb(args.data)
    t0 = time.perf_counter()
    if args.scheduler:
        with Client(args.scheduler) as client:
            emb = embed_on_dask(client, sentences, args.model, args.batch_size, args.partition_size)
    else:
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, scheduler_port=0) as cluster, Client(cluster) as client:
            emb = embed_on_dask(client, sentences, args.model, args.batch_size, args.partition_size)
    elapsed = time.perf_counter() - t0
    print(f"dask: {len(sentences)} sentences -> {emb.shape} in {elapsed:.1f} s ({args.workers} workers)")
    if args.out:
        np.save(args.out, emb)
    if args.check:
        single = ortformers.SentenceEmbeddings(args.model).encode(sentences, batch_size=args.batch_size)
        diff = float(np.abs(single - emb).max())
        print(f"max abs difference vs single process: {diff:.3g}")
        if emb.shape != single.shape or diff > 1e-6:
            print("MISMATCH", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
