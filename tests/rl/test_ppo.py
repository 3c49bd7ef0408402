"""PPO's pieces against written-out formulas (GAE by brute force, the clipped loss and its gradient by
hand), a short CartPole run against the random policy on the same seeds, masks, seeds and bad input;
the evaluation helpers against scipy."""
from __future__ import annotations

import gymnasium as gym
import matplotlib
import numpy as np
import pytest
import torch
from scipy import stats

from deepfab.errors import UsageError
from deepfab.rl.evaluate import RandomPolicy, curve_on_grid, evaluate_policy, mean_interval
from deepfab.rl.plots import evaluation_figure, learning_curves_figure
from deepfab.rl.ppo import PPOConfig, clipped_surrogate, gae, train_ppo, value_loss

matplotlib.use("Agg")


def cartpole(i: int = 0):
    return gym.make("CartPole-v1")


def brute_force_gae(r, v, d, v_last, gamma, lam):
    """A_t = sum_l (gamma lam)^l delta_{t+l}, summed until the episode or the rollout ends."""
    T, N = r.shape
    values = np.vstack([v, v_last[None]])
    adv = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, w = 0.0, 1.0
            for k in range(t, T):
                delta = r[k, n] + gamma * values[k + 1, n] * (1 - d[k, n]) - values[k, n]
                total += w * delta
                if d[k, n]:
                    break
                w *= gamma * lam
            adv[t, n] = total
    return adv


@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_gae_matches_brute_force_with_episode_ends(lam):
    rng = np.random.default_rng(0)
    T, N, gamma = 17, 3, 0.97
    r, v = rng.normal(size=(T, N)), rng.normal(size=(T, N))
    d = (rng.random((T, N)) < 0.2).astype(float)
    v_last = rng.normal(size=N)
    adv, ret = gae(*(torch.tensor(x) for x in (r, v, d, v_last)), gamma, lam)
    expect = brute_force_gae(r, v, d, v_last, gamma, lam)
    assert np.abs(adv.numpy() - expect).max() < 1e-12
    assert np.abs(ret.numpy() - (expect + v)).max() < 1e-12


def test_gae_lambda_one_gives_monte_carlo_returns():
    r = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    d = torch.tensor([[0.0], [1.0], [0.0], [0.0]])              # the episode ends after step 1
    v = torch.tensor([[0.5], [0.1], [0.2], [0.3]])
    _, ret = gae(r, v, d, torch.tensor([10.0]), 0.9, 1.0)
    # returns: 1 + 0.9 * 2, 2, then 3 + 0.9 * 4 + 0.81 * 10 (bootstrapped from V(s_T) = 10)
    assert ret[:, 0].tolist() == pytest.approx([2.8, 2.0, 3 + 3.6 + 8.1, 4 + 9.0])


def test_clipped_surrogate_and_gradient_match_the_written_formula():
    rng = np.random.default_rng(1)
    n, eps = 64, 0.2
    old = torch.tensor(rng.normal(-1, 0.3, n))
    new = (old + torch.tensor(rng.normal(0, 0.4, n))).requires_grad_(True)  # ratios well inside and outside
    adv = torch.tensor(rng.normal(size=n))
    loss = clipped_surrogate(new, old, adv, eps)
    loss.backward()
    ratio = np.exp(new.detach().numpy() - old.numpy())
    a = adv.numpy()
    # per sample: -A min(r, 1 + eps) for A >= 0, -A max(r, 1 - eps) for A < 0
    per = np.where(a >= 0, -a * np.minimum(ratio, 1 + eps), -a * np.maximum(ratio, 1 - eps))
    assert loss.item() == pytest.approx(per.mean(), abs=1e-12)
    # the gradient w.r.t. the new log-prob is -A r / n where the ratio is not clipped, 0 where it is
    clipped = ((a >= 0) & (ratio > 1 + eps)) | ((a < 0) & (ratio < 1 - eps))
    grad = np.where(clipped, 0.0, -a * ratio / n)
    assert 5 < clipped.sum() < n - 5
    assert np.abs(new.grad.numpy() - grad).max() < 1e-12


def test_value_loss_clipping_formula():
    new, old, ret = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.5, 0.5, 2.1]), torch.tensor([2.0, 0.0, 2.0])
    assert value_loss(new, old, ret, 0.2, clip=False).item() == pytest.approx(0.5 * (1 + 0 + 0) / 3)
    # clipped predictions 0.7, 0.3, 2.0 -> squared errors 1.69, 0.09, 0.0; max with 1, 0, 0 per sample
    assert value_loss(new, old, ret, 0.2).item() == pytest.approx(0.5 * (1.69 + 0.09 + 0.0) / 3)


def test_short_cartpole_run_beats_the_random_policy_on_the_same_seeds():
    torch.set_num_threads(1)
    cfg = PPOConfig(num_envs=4, num_steps=128, lr=1e-3)
    res = train_ppo(cartpole, total_steps=6144, config=cfg, seed=0)
    seeds = range(100, 110)
    trained = evaluate_policy(res.policy, cartpole, seeds)
    rand = evaluate_policy(RandomPolicy(gym.spaces.Discrete(2), seed=0), cartpole, seeds)
    assert trained.low > rand.high, (trained.as_dict(), rand.as_dict())
    assert res.steps == 6144 and len(res.updates) == 12
    steps = [h["step"] for h in res.history]
    assert steps == sorted(steps) and all(h["length"] >= 8 for h in res.history)
    assert sum(h["length"] for h in res.history) <= res.steps


def test_same_seed_same_numbers():
    cfg = PPOConfig(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2)
    a, b = (train_ppo(cartpole, 512, cfg, seed=3) for _ in range(2))
    c = train_ppo(cartpole, 512, cfg, seed=4)
    assert a.history == b.history and a.updates == b.updates
    for p, q in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(p, q)
    assert a.history != c.history


class MaskedChain(gym.Env):
    """Obs (1,): the step count; 3 actions of which one, changing each step, is forbidden (info["mask"])."""

    observation_space = gym.spaces.Box(0, 10, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.violations = 0, 0
        return np.zeros(1, np.float32), {"mask": self._mask()}

    def _mask(self):
        m = np.ones(3, bool)
        m[self.t % 3] = False
        return m

    def step(self, action):
        self.violations += int(not self._mask()[action])
        self.t += 1
        done = self.t >= 10
        return np.array([self.t], np.float32), float(action == 2), done, False, {"mask": self._mask()}


def test_action_mask_is_respected():
    envs = []

    def make(i):
        envs.append(MaskedChain())
        return envs[-1]

    res = train_ppo(make, 1024, PPOConfig(num_envs=2, num_steps=64, action_mask_key="mask"), seed=0)
    assert len(res.history) > 0 and sum(e.violations for e in envs) == 0
    ev = evaluate_policy(res.policy, make, seeds=range(3), mask_key="mask")
    assert envs[-1].violations == 0 and ev.mean > 0
    with pytest.raises(UsageError, match="action_mask_key"):
        train_ppo(lambda i: MaskedChain(), 128, PPOConfig(num_envs=1, num_steps=32, action_mask_key="nope"))


def test_bad_input_raises_usage_error():
    with pytest.raises(UsageError, match="Discrete"):
        train_ppo(lambda i: gym.make("Pendulum-v1"), 128)
    with pytest.raises(UsageError, match="num_minibatches"):
        train_ppo(cartpole, 128, PPOConfig(num_envs=3, num_steps=5, num_minibatches=4))
    with pytest.raises(UsageError, match="total_steps"):
        train_ppo(cartpole, 0)
    with pytest.raises(UsageError, match="device"):
        train_ppo(cartpole, 128, PPOConfig(device="tpu"))


def test_mean_interval_matches_scipy_and_evaluation_is_seeded():
    x = np.array([3.0, 5.0, 4.0, 10.0, 7.0])
    m, lo, hi = mean_interval(x, 0.9)
    ref = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (lo, hi) == pytest.approx(ref, abs=1e-12) and m == pytest.approx(5.8)
    assert mean_interval([2.0]) == (2.0, 2.0, 2.0)
    a = evaluate_policy(lambda obs: int(obs[2] > 0), cartpole, seeds=[5, 6, 7])
    b = evaluate_policy(lambda obs: int(obs[2] > 0), cartpole, seeds=[5, 6, 7])
    assert np.array_equal(a.returns, b.returns) and a.returns.min() > 20      # lean-following beats random
    with pytest.raises(UsageError, match="seed"):
        evaluate_policy(lambda obs: 0, cartpole, seeds=[])


def test_curve_on_grid_and_figures():
    hist = [{"step": 10, "return": 1.0}, {"step": 20, "return": 3.0}, {"step": 55, "return": 5.0}]
    grid, vals = curve_on_grid(hist, total_steps=60, points=6, window=2)
    assert grid.tolist() == [10, 20, 30, 40, 50, 60]
    assert vals.tolist() == [1.0, 2.0, 2.0, 2.0, 2.0, 4.0]
    fig = learning_curves_figure({"PPO": (grid, np.vstack([vals, vals + 1]))}, reference={"CleanRL": (4.0, 1.0)})
    assert len(fig.axes) == 1
    fig = evaluation_figure({"PPO": (3.0, 2.0, 4.0), "random": (1.0, 0.5, 1.5)}, reference={"published": 3.5},
                            points={"PPO": [2.5, 3.5]}, ylim=(0, 5))
    assert len(fig.axes[0].patches) == 2 and fig.axes[0].get_ylim() == (0, 5)
    offsets = [c.get_offsets().tolist() for c in fig.axes[0].collections]
    assert [[0, 2.5], [0, 3.5]] in offsets                                  # the per-seed dots


def test_sb3_trainer_leaves_nothing_in_the_temp_dir(tmp_path, monkeypatch):
    """stable-baselines3 makes an SB3-<date> folder in the temp dir for its default logger; ours is silent."""
    import tempfile

    from deepfab.rl.evaluate import sb3_ppo_trainer

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)          # re-read TMPDIR
    policy, history = sb3_ppo_trainer(PPOConfig(num_envs=2, num_steps=32))(lambda i: gym.make("CartPole-v1"), 128, 0)
    assert policy.num_timesteps == 128 and history and all(h["length"] > 0 for h in history)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3")] == []
