"""Smoke tests of deepfab.scratch.bench: the measuring functions run, agree with their oracles and
return positive finite timings (the numbers themselves are reported by benchmarks/bench_autodiff.py).

Run: .venv/bin/python -m pytest tests/scratch/test_bench.py -q
"""
import math

from deepfab.scratch.bench import grad_eval_cost_ratio, micrograd_step_times, mlp_step_times


def _positive_finite(d, keys):
    return all(math.isfinite(d[k]) and d[k] > 0 for k in keys)


def test_grad_eval_cost_ratio_small():
    r = grad_eval_cost_ratio(n=2_000, repeats=1)
    assert r["n"] == 2_000 and r["max_grad_gap"] < 1e-10  # scratch and torch gradients agree
    assert _positive_finite(r, ["numpy_eval_s", "scratch_grad_s", "torch_eval_s", "torch_grad_s",
                                "scratch_ratio", "torch_ratio"])


def test_mlp_and_micrograd_step_times_small():
    r = mlp_step_times(batch=8, sizes=(5, 7, 3), repeats=1)
    assert r["first_loss_gap"] < 1e-12 and _positive_finite(r, ["scratch_s", "torch_s", "ratio"])
    m = micrograd_step_times(batch=4, sizes=(3, 5, 1), repeats=1)
    assert m["first_loss_gap"] < 1e-12 and _positive_finite(m, ["micrograd_s", "scratch_s", "ratio"])
