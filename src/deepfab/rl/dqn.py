"""Deep Q-network (DQN) in one file, CleanRL style (lecture 13).

Q-learning with a neural network needs two stabilisers (Mnih et al. 2015). A **replay buffer**
stores transitions (s, a, r, s', terminated) and trains on uniform random minibatches of them, which
breaks the correlation of consecutive steps and reuses each transition many times. A **target
network** Q' (a copy of Q refreshed every ``target_network_frequency`` steps, or moved towards Q by
``tau``) gives the regression target

    y = r + gamma (1 - terminated) max_a' Q'(s', a'),

so the target does not move with every gradient step of Q. The loss is the squared (``"mse"``, as
CleanRL) or Huber (``"huber"``, as the Nature paper's error clipping) TD error Q(s, a) - y.
Actions are epsilon-greedy with epsilon falling linearly from ``start_e`` to ``end_e`` over
``exploration_fraction`` of the run. A time-limit cut (truncated) is not terminal: the target still
bootstraps from the true last observation (``info["final_obs"]``).

    from deepfab.rl.dqn import DQNConfig, train_dqn
    result = train_dqn(lambda i: gym.make("CartPole-v1"), total_steps=50_000, config=DQNConfig(), seed=0)
    result.policy.act(obs)        # greedy action, int
    result.history                # [{"step", "return", "length"}, ...]

References: V. Mnih et al., "Human-level control through deep reinforcement learning", Nature 518,
529-533, 2015; C. J. C. H. Watkins, P. Dayan, "Q-learning", Machine Learning 8, 279-292, 1992;
S. Huang et al., "CleanRL: High-quality Single-file Implementations of Deep Reinforcement Learning
Algorithms", JMLR 23(274), 2022.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import torch
from torch import nn

from ..device import resolve_device
from ..errors import UsageError
from .ppo import check_spaces, make_vector_env


@dataclass
class DQNConfig:
    lr: float = 2.5e-4                  # Adam learning rate
    buffer_size: int = 10_000           # replay capacity (oldest transitions overwritten)
    gamma: float = 0.99                 # discount
    tau: float = 1.0                    # target update: Q' <- tau Q + (1 - tau) Q' (1 = hard copy)
    target_network_frequency: int = 500  # steps between target updates
    batch_size: int = 128               # transitions per gradient step
    start_e: float = 1.0                # epsilon at the start
    end_e: float = 0.05                 # epsilon after exploration_fraction of the run
    exploration_fraction: float = 0.5   # share of total_steps over which epsilon falls
    learning_starts: int = 10_000       # random-ish steps before the first gradient step
    train_frequency: int = 10           # env steps per gradient step
    hidden: tuple = (120, 84)           # ReLU hidden widths of the Q-network (CleanRL's)
    loss: str = "mse"                   # "mse" (CleanRL) or "huber" (Mnih et al. 2015)
    device: str = "cpu"
    log_every: int = 0                  # print one line every this many env steps (0: silent)

    def validate(self) -> DQNConfig:
        if self.loss not in ("mse", "huber"):
            raise UsageError(f"DQNConfig.loss must be 'mse' or 'huber'; got {self.loss!r}")
        for name in ("buffer_size", "batch_size", "target_network_frequency", "train_frequency"):
            if not isinstance(getattr(self, name), (int, np.integer)) or getattr(self, name) < 1:
                raise UsageError(f"DQNConfig.{name} must be a positive int; got {getattr(self, name)!r}")
        if not 0 < self.tau <= 1 or not 0 <= self.gamma <= 1 or not 0 < self.exploration_fraction <= 1:
            raise UsageError(f"DQNConfig needs tau in (0, 1], gamma in [0, 1], exploration_fraction in (0, 1]; got "
                             f"{self.tau}, {self.gamma}, {self.exploration_fraction}")
        return self


class QNetwork(nn.Module):
    """obs_dim -> hidden ReLU layers -> one Q-value per action."""

    def __init__(self, obs_dim: int, n_actions: int, hidden=(120, 84)):
        super().__init__()
        self.config = {"obs_dim": int(obs_dim), "n_actions": int(n_actions), "hidden": [int(h) for h in hidden]}
        layers, width = [], obs_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, n_actions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)                                        # (B, A)

    @torch.no_grad()
    def act(self, obs, deterministic: bool = True, action_mask=None):
        """The greedy action (int) for one observation, an int array for a batch."""
        x = torch.as_tensor(np.asarray(obs, np.float32), device=next(self.parameters()).device)
        single = x.ndim == 1
        q = self(x.reshape(1 if single else x.shape[0], -1))
        if action_mask is not None:
            q = q.masked_fill(~torch.as_tensor(np.asarray(action_mask, bool)).reshape(q.shape), -torch.inf)
        a = q.argmax(-1)
        return int(a[0]) if single else a.cpu().numpy()


class ReplayBuffer:
    """A ring of the last ``capacity`` transitions in numpy arrays; uniform sampling with a Generator."""

    def __init__(self, capacity: int, obs_dim: int):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.capacity, self.pos, self.size = capacity, 0, 0

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        idx = rng.integers(0, self.size, batch_size)
        return {"obs": self.obs[idx], "actions": self.actions[idx], "rewards": self.rewards[idx],
                "next_obs": self.next_obs[idx], "terminated": self.terminated[idx]}


def linear_schedule(start: float, end: float, duration: int, t: int) -> float:
    """Straight line from ``start`` at t = 0 to ``end`` at t = duration, flat after."""
    return start + (end - start) * min(t / max(duration, 1), 1.0)


def td_target(rewards, next_q, terminated, gamma: float) -> torch.Tensor:
    """y = r + gamma (1 - terminated) max_a' Q'(s', a'); rewards, terminated (B,), next_q (B, A)."""
    return rewards + gamma * (1.0 - terminated) * next_q.max(-1).values


def td_loss(q_taken, target, kind: str = "mse") -> torch.Tensor:
    """Mean squared TD error, or the Huber loss (quadratic within 1, linear outside)."""
    if kind == "huber":
        return nn.functional.smooth_l1_loss(q_taken, target)
    return nn.functional.mse_loss(q_taken, target)


@dataclass
class DQNResult:
    policy: QNetwork
    history: list = field(default_factory=list)   # one dict per finished episode: step, return, length
    updates: list = field(default_factory=list)   # every 100th gradient step: step, loss, q, epsilon
    steps: int = 0
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def train_dqn(make_env, total_steps: int, config: DQNConfig | None = None, seed: int = 0) -> DQNResult:
    """Train a Q-network with DQN for ``total_steps`` steps of one environment ``make_env(0)``."""
    cfg = (config or DQNConfig()).validate()
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise UsageError(f"total_steps must be a positive int; got {total_steps!r}")
    dev = resolve_device(cfg.device)
    envs = make_vector_env([partial(make_env, 0)])
    obs_dim, n_actions = check_spaces(envs, "DQN")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        q_net = QNetwork(obs_dim, n_actions, cfg.hidden).to(dev)
    target = QNetwork(obs_dim, n_actions, cfg.hidden).to(dev)
    target.load_state_dict(q_net.state_dict())
    opt = torch.optim.Adam(q_net.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(seed)                          # exploration and replay sampling
    envs.action_space.seed(seed)
    buffer = ReplayBuffer(cfg.buffer_size, obs_dim)
    result = DQNResult(policy=q_net, config=asdict(cfg))
    obs, _ = envs.reset(seed=[seed])
    ep_ret, ep_len, n_grad, t0 = 0.0, 0, 0, time.perf_counter()
    for step in range(1, total_steps + 1):
        eps = linear_schedule(cfg.start_e, cfg.end_e, int(cfg.exploration_fraction * total_steps), step - 1)
        if rng.random() < eps:
            action = int(rng.integers(n_actions))
        else:
            action = q_net.act(np.asarray(obs[0], np.float32).reshape(-1))
        next_obs, reward, term, trunc, info = envs.step(np.array([action]))
        real_next = info["final_obs"][0] if (term[0] or trunc[0]) else next_obs[0]   # s' of this episode
        buffer.add(np.asarray(obs[0]).reshape(-1), action, reward[0], np.asarray(real_next).reshape(-1), term[0])
        ep_ret, ep_len = ep_ret + float(reward[0]), ep_len + 1
        if term[0] or trunc[0]:
            result.history.append({"step": step, "return": ep_ret, "length": ep_len})
            ep_ret, ep_len = 0.0, 0
        obs = next_obs
        if step > cfg.learning_starts:
            if step % cfg.train_frequency == 0:
                b = {k: torch.as_tensor(v, device=dev) for k, v in buffer.sample(cfg.batch_size, rng).items()}
                with torch.no_grad():
                    y = td_target(b["rewards"], target(b["next_obs"]), b["terminated"], cfg.gamma)   # (B,)
                q_taken = q_net(b["obs"]).gather(1, b["actions"][:, None]).squeeze(1)             # (B,)
                loss = td_loss(q_taken, y, cfg.loss)
                opt.zero_grad()
                loss.backward()
                opt.step()
                n_grad += 1
                if n_grad % 100 == 0:
                    result.updates.append({"step": step, "loss": loss.item(), "q": q_taken.mean().item(),
                                           "epsilon": eps})
            if step % cfg.target_network_frequency == 0:
                with torch.no_grad():
                    for p_t, p in zip(target.parameters(), q_net.parameters()):
                        p_t.copy_(cfg.tau * p + (1.0 - cfg.tau) * p_t)
        if cfg.log_every and step % cfg.log_every == 0:
            recent = np.mean([h["return"] for h in result.history[-20:]]) if result.history else float("nan")
            print(f"step {step}/{total_steps}: return {recent:.1f}, epsilon {eps:.3f}, gradient steps {n_grad}")
    envs.close()
    q_net.eval()
    result.steps, result.seconds = total_steps, time.perf_counter() - t0
    return result
