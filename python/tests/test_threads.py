"""One model / pipeline object called from many Python threads: results equal to the serial ones, and the GIL is
released while ONNX Runtime runs (another Python thread keeps running during a long forward)."""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import ortformers as of
from conftest import onnx_dir

TEXTS = [f"sentence number {i} about {w}" for i, w in enumerate(["cats", "dogs", "the sea", "Paris", "music"] * 8)]


def test_one_model_many_threads(fixtures):
    model = of.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"))
    tok = of.AutoTokenizer.from_pretrained(onnx_dir("bert-tiny"))

    def run(text):
        return model(**tok(text, return_tensors="np")).last_hidden_state

    serial = [run(t) for t in TEXTS]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(run, TEXTS))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_pipelines_many_threads(fixtures):
    fe = of.pipeline("feature-extraction", model=onnx_dir("bert-tiny"))
    cls = of.pipeline("text-classification", model=onnx_dir("bert-tiny-seqcls"))
    serial = [(fe(t), cls(t)) for t in TEXTS]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda t: (fe(t), cls(t)), TEXTS))
    assert threaded == serial


def test_gil_is_released_during_run(fixtures):
    model = of.ORTModelForFeatureExtraction.from_pretrained(onnx_dir("bert-tiny"),
                                                            session_options={"intra_op_num_threads": 1})
    feeds = {"input_ids": np.full((16, 256), 1000, dtype=np.int64), "attention_mask": np.ones((16, 256), np.int64)}
    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)  # a thread holding the GIL keeps it for 30 s unless it releases it itself
    try:
        entered, done = threading.Event(), threading.Event()

        def work():
            entered.set()
            model(**feeds)
            done.set()

        worker = threading.Thread(target=work)
        worker.start()
        entered.wait()
        # This loop can only run while the worker is inside forward() with the GIL released: had forward kept the
        # GIL, the worker would finish the run (done set) before the main thread got it back.
        ticks = 0
        while ticks < 20000 and not done.is_set():
            ticks += 1
        finished_first = done.is_set()
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert not finished_first and ticks == 20000
