"""How fast is the scratch autodiff? Three ratios measured in one process (lecture 0).

1. One Adam training step of a 64-256-256-10 ReLU MLP on a batch of 256, float64, scratch vs
   torch (same initial weights): scratch_time / torch_time, goal within 3x.
2. One SGD step of a small MLP (4-16-16-1, batch 16) in micrograd, a scalar engine with one graph
   node per number, vs the scratch Tensor with one node per array: micrograd_time / scratch_time.
3. Cost of value + gradient over cost of the value alone for the seed's
   f(x, y, z) = sin((cosh(y^2 + x/z) + tanh(xyz)) / log(1 + e^x)) over n points, for the scratch
   Tensor (against plain numpy evaluation) and for torch.autograd; the seed says "roughly 5x".

Everything runs single-threaded and reports the best of several timings, so the ratios compare
the engines; absolute times depend on the machine and its load.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_autodiff.py [--n 1000000] [--repeats 5] [--json out.json]

Takes about 30 s on a 2-core CPU. References: A. Karpathy, micrograd; Griewank & Walther,
"Evaluating Derivatives", 2008 (the cheap gradient principle); PyTorch autograd.
"""
from __future__ import annotations

import argparse
import json

from deepfab.scratch.bench import grad_eval_cost_ratio, micrograd_step_times, mlp_step_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="points for the f(x, y, z) gradient cost")
    parser.add_argument("--repeats", type=int, default=5, help="timings per measurement; the best is kept")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()

    mlp = mlp_step_times(repeats=args.repeats)
    print(f"mlp step {mlp['sizes']} batch {mlp['batch']}: scratch {mlp['scratch_s'] * 1e3:.2f} ms, "
          f"torch {mlp['torch_s'] * 1e3:.2f} ms, scratch/torch {mlp['ratio']:.2f}x (goal <= 3x), "
          f"first-step loss gap {mlp['first_loss_gap']:.1e}")
    micro = micrograd_step_times(repeats=max(2, args.repeats // 2))
    print(f"mlp step {micro['sizes']} batch {micro['batch']}: micrograd {micro['micrograd_s'] * 1e3:.1f} ms, "
          f"scratch {micro['scratch_s'] * 1e3:.3f} ms, micrograd/scratch {micro['ratio']:.0f}x, "
          f"first-step loss gap {micro['first_loss_gap']:.1e}")
    cost = grad_eval_cost_ratio(n=args.n, repeats=args.repeats)
    print(f"f(x,y,z) at n={cost['n']}: eval {cost['numpy_eval_s'] * 1e3:.1f} ms (numpy), "
          f"value+grad {cost['scratch_grad_s'] * 1e3:.1f} ms (scratch) -> ratio {cost['scratch_ratio']:.2f}x; "
          f"torch eval {cost['torch_eval_s'] * 1e3:.1f} ms, value+grad {cost['torch_grad_s'] * 1e3:.1f} ms "
          f"-> ratio {cost['torch_ratio']:.2f}x (seed: roughly 5x); max |grad gap| {cost['max_grad_gap']:.1e}")
    print("summary ratio  mlp_scratch/torch {:.2f}  micrograd/scratch {:.0f}  grad/eval scratch {:.2f}  "
          "grad/eval torch {:.2f}".format(mlp["ratio"], micro["ratio"], cost["scratch_ratio"], cost["torch_ratio"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"mlp": mlp, "micrograd": micro, "grad_eval": cost}, fh, indent=2)


if __name__ == "__main__":
    main()
