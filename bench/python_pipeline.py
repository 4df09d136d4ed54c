"""pipe(sentences, batch_size=32) in Python vs the C++ FeatureExtractionPipeline on the same STS-B sentences,
interleaved in one process (median of BENCH_ROUNDS rounds), MiniLM-L6 shape, BENCH_THREADS intra-op threads.

    build/venv/bin/python bench/python_pipeline.py

Rows: "C++ pipeline": FeatureExtractionPipeline::operator()(batch) on every batch of 32, entered once per batch
through the binding, its outputs kept as tensors (numpy views, no copy) or turned into the nested lists
transformers returns, batch after batch; "Python pipe()": the transformers-style call (lists, the default, or
return_tensors=True), which overlaps the list building of one batch with the next batch's run. Two ratios: wall-clock
throughput, and process CPU time (ONNX Runtime's threads do not spin-wait here), which a busy machine skews less."""
import os
import statistics
import time

import ortformers
from python_common import minilm_onnx, stsb_sentences

N = int(os.environ.get("BENCH_SENTENCES", "512"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
B = 32


def main():
    folder = minilm_onnx()
    sentences = stsb_sentences()[:N]
    so = ortformers.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = THREADS, 1
    # No spin-waiting: the process CPU time is then the work done, which a busy machine does not inflate.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = ortformers.ORTModelForFeatureExtraction.from_pretrained(folder, session_options=so)
    tokenizer = ortformers.AutoTokenizer.from_pretrained(folder)
    pipe = ortformers.pipeline("feature-extraction", model=model, tokenizer=tokenizer)
    core = pipe._core  # the C++ FeatureExtractionPipeline the Python object wraps

    def cpp(as_lists):
        for i in range(0, len(sentences), B):
            core.run(sentences[i:i + B], {}, as_lists)

    variants = {"C++ pipeline, tensors": lambda: cpp(False),
                "C++ pipeline, lists": lambda: cpp(True),
                "Python pipe(), lists": lambda: pipe(sentences, batch_size=B),
                "Python pipe(), numpy": lambda: pipe(sentences, batch_size=B, return_tensors=True)}
    for f in variants.values():  # warm-up
        f()
    names = list(variants)
    times = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for r in range(ROUNDS):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order: no position bias
            t, c = time.perf_counter(), time.process_time()
            variants[name]()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    print(f"{len(sentences)} STS-B sentences, batch {B}, MiniLM-L6 shape, {THREADS} intra-op threads, "
          f"{ROUNDS} interleaved rounds (order rotated)")
    for name, ts in times.items():
        ratios = [c / t for c, t in zip(times["C++ pipeline, tensors"], ts)]  # throughput ratio in one round
        cpu_ratios = [c / t for c, t in zip(cpu["C++ pipeline, tensors"], cpu[name])]
        print(f"  {name:22s} {len(sentences) / statistics.median(ts):7.1f} sentences/s  wall-clock vs C++ tensors: "
              f"median {statistics.median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f})  CPU time vs C++ "
              f"tensors: median {statistics.median(cpu_ratios):.3f} (rounds {min(cpu_ratios):.3f}-"
              f"{max(cpu_ratios):.3f})")


if __name__ == "__main__":
    main()
