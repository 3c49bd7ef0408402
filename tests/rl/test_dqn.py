"""DQN's pieces against hand-computed numbers (TD target, Huber loss, epsilon schedule, replay ring),
a short CartPole run against the random policy on the same seeds, seeds and bad input."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from deepfab.errors import UsageError
from deepfab.rl.dqn import DQNConfig, QNetwork, ReplayBuffer, linear_schedule, td_loss, td_target, train_dqn
from deepfab.rl.evaluate import RandomPolicy, evaluate_policy


def cartpole(i: int = 0):
    return gym.make("CartPole-v1")


def test_td_target_by_hand():
    rewards = torch.tensor([1.0, 0.0, -1.0])
    next_q = torch.tensor([[2.0, 5.0], [3.0, -1.0], [7.0, 8.0]])
    terminated = torch.tensor([0.0, 0.0, 1.0])
    # 1 + 0.9 * 5 = 5.5;  0 + 0.9 * 3 = 2.7;  terminal: the reward alone, -1
    assert td_target(rewards, next_q, terminated, 0.9).tolist() == pytest.approx([5.5, 2.7, -1.0])


def test_td_losses_by_hand():
    q, y = torch.tensor([0.0, 1.0, 5.0]), torch.tensor([0.5, 1.0, 2.0])
    assert td_loss(q, y, "mse").item() == pytest.approx((0.25 + 0 + 9) / 3)
    # Huber: 0.5 e^2 for |e| <= 1, |e| - 0.5 beyond
    assert td_loss(q, y, "huber").item() == pytest.approx((0.125 + 0 + 2.5) / 3)


def test_epsilon_schedule_and_replay_ring():
    assert [linear_schedule(1.0, 0.05, 100, t) for t in (0, 50, 100, 500)] == pytest.approx([1.0, 0.525, 0.05, 0.05])
    buf = ReplayBuffer(3, obs_dim=2)
    for i in range(5):
        buf.add([i, i], i % 2, float(i), [i + 1, i + 1], i == 4)
    assert buf.size == 3 and sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0]     # the oldest two overwritten
    batch = buf.sample(100, np.random.default_rng(0))
    assert set(batch["rewards"].tolist()) == {2.0, 3.0, 4.0}
    assert np.array_equal(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)
    assert np.array_equal(batch["terminated"], (batch["rewards"] == 4.0).astype(np.float32))


def test_greedy_action_and_mask():
    net = QNetwork(4, 3, hidden=(8,))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.net[-1].bias.copy_(torch.tensor([0.0, 2.0, 1.0]))
    assert net.act(np.zeros(4)) == 1
    assert net.act(np.zeros(4), action_mask=[True, False, True]) == 2
    assert net.act(np.zeros((5, 4))).tolist() == [1] * 5


def test_short_cartpole_run_beats_the_random_policy_on_the_same_seeds():
    torch.set_num_threads(1)
    cfg = DQNConfig(lr=1e-3, buffer_size=4000, learning_starts=500, train_frequency=4, target_network_frequency=100,
                    batch_size=64, exploration_fraction=0.5)
    res = train_dqn(cartpole, total_steps=4000, config=cfg, seed=0)
    seeds = range(100, 110)
    trained = evaluate_policy(res.policy, cartpole, seeds)
    rand = evaluate_policy(RandomPolicy(gym.spaces.Discrete(2), seed=0), cartpole, seeds)
    assert trained.low > rand.high, (trained.as_dict(), rand.as_dict())
    assert res.steps == 4000 and res.updates and res.updates[-1]["epsilon"] == pytest.approx(0.05)


def test_same_seed_same_numbers():
    cfg = DQNConfig(learning_starts=100, train_frequency=2, target_network_frequency=50, batch_size=16)
    a, b = (train_dqn(cartpole, 600, cfg, seed=1) for _ in range(2))
    assert a.history == b.history and a.updates == b.updates
    assert all(torch.equal(p, q) for p, q in zip(a.policy.parameters(), b.policy.parameters()))


def test_bad_input_raises_usage_error():
    with pytest.raises(UsageError, match="loss"):
        train_dqn(cartpole, 10, DQNConfig(loss="l1"))
    with pytest.raises(UsageError, match="Discrete"):
        train_dqn(lambda i: gym.make("Pendulum-v1"), 10)
    with pytest.raises(UsageError, match="total_steps"):
        train_dqn(cartpole, -1)
    with pytest.raises(UsageError, match="device"):
        train_dqn(cartpole, 10, DQNConfig(device="tpu"))
