"""Cold start, whole process (the harness-free measure): `python -c "import ortformers; load; embed one sentence"`
vs the C++ CLI `ortformers run feature-extraction` on the same model and sentence, interleaved, median of
BENCH_RUNS runs each. MiniLM-L6 shape (bench/python_common.py) and the bert-tiny fixture.

    build/venv/bin/python bench/python_cold_start.py

optimum + transformers + torch cannot be installed on the development machine (no PyPI; Debian has no optimum), so
the issue's comparison with that stack is not measured here."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from python_common import REPO, SHARED, minilm_onnx

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
THREADS = os.environ.get("BENCH_THREADS", "2")
CLI = os.environ.get("BENCH_CLI", str(REPO / "build" / "ortformers"))
SENTENCE = "This is an example sentence."

PY_EMBED = """
import ortformers
opts = {{"intra_op_num_threads": {threads}{cache}}}
model = ortformers.ORTModelForFeatureExtraction.from_pretrained({model!r}, session_options=opts)
tok = ortformers.AutoTokenizer.from_pretrained({model!r})
pipe = ortformers.pipeline("feature-extraction", model=model, tokenizer=tok)
assert len(pipe({sentence!r})[0]) > 0
"""


def py(code):
    return [sys.executable, "-c", code]


def variants(model, cache_dir):
    embed = PY_EMBED.format(threads=THREADS, model=str(model), sentence=SENTENCE, cache="")
    embed_cached = PY_EMBED.format(threads=THREADS, model=str(model), sentence=SENTENCE,
                                   cache=f", 'ort_format_cache_dir': {cache_dir!r}")
    cli = [CLI, "run", "feature-extraction", "--model", str(model), "--threads", THREADS, SENTENCE]
    return {
        "python: interpreter only": py("pass"),
        "python: import ortformers": py("import ortformers"),
        "python: import + load + embed": py(embed),
        "python: same, ORT-format cache": py(embed_cached),
        "C++ CLI run (--no-ort-cache)": cli[:2] + ["--no-ort-cache"] + cli[2:],
        "C++ CLI run (ORT-format cache)": cli,
    }


def measure(name, model):
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, ORTFORMERS_CACHE=cache_dir)
        vs = variants(model, os.path.join(cache_dir, "ort-py"))
        for cmd in vs.values():  # warm-up: page cache, and the ORT-format caches get written
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times = {k: [] for k in vs}
        for _ in range(RUNS):
            for label, cmd in vs.items():
                t = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
                times[label].append(time.perf_counter() - t)
    print(f"{name}: whole process, median of {RUNS} interleaved runs, {THREADS} intra-op threads")
    for label, ts in times.items():
        print(f"  {label:32s} {1000 * statistics.median(ts):7.0f} ms")


def main():
    measure("MiniLM-L6 shape (86 MB of weights)", minilm_onnx())
    measure("bert-tiny fixture", SHARED / "fixtures" / "onnx" / "bert-tiny")


if __name__ == "__main__":
    main()
