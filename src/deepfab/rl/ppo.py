"""Proximal policy optimization (PPO) with generalized advantage estimation, in one file (lecture 13).

An actor-critic for a Box observation and a Discrete action, trained the way CleanRL's ``ppo.py``
does: ``num_envs`` copies of the environment (``gymnasium.vector.SyncVectorEnv``, env ``i``
reset with seed ``seed + i``) each step ``num_steps`` times, the rollout's advantages come from
GAE, then ``update_epochs`` passes over shuffled minibatches of the clipped surrogate

    L = E[max(-A r, -A clip(r, 1 - eps, 1 + eps))] + c_v L_V - c_e H,   r = pi(a|s) / pi_old(a|s),

with the learning rate annealed linearly to zero. An episode cut by a time limit (truncated, not
terminated) is bootstrapped: its last reward gets ``gamma * V(final observation)`` added, as
stable-baselines3 does. The same seed gives the same numbers; the caller sets torch's threads.

    from deepfab.rl.ppo import PPOConfig, train_ppo
    cfg = PPOConfig(num_envs=4, num_steps=128, lr=2.5e-4)
    result = train_ppo(lambda i: gym.make("CartPole-v1"), total_steps=50_000, config=cfg, seed=0)
    result.policy.act(obs, deterministic=True)      # -> int
    result.history                                  # [{"step", "return", "length"}, ...] per finished episode

An environment that puts a boolean mask of the allowed actions into its info (``info[key]``, shape
(n_actions,)) is trained with ``PPOConfig(action_mask_key=key)``: masked actions get logit -1e8.

References: J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal Policy Optimization
Algorithms", arXiv:1707.06347, 2017; J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel,
"High-Dimensional Continuous Control Using Generalized Advantage Estimation", ICLR 2016; S. Huang,
R. F. J. Dossa, C. Ye, J. Braga, D. Chakraborty, K. Mehta, J. G. M. Araujo, "CleanRL: High-quality
Single-file Implementations of Deep Reinforcement Learning Algorithms", JMLR 23(274), 2022.
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

MASKED = -1e8      # logit of a forbidden action: probability exp(-1e8) = 0, entropy term 0 * finite = 0


def layer_init(layer: nn.Linear, std: float = 2 ** 0.5, bias: float = 0.0) -> nn.Linear:
    """Orthogonal weights with gain ``std`` and constant bias (CleanRL's initialisation)."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


def make_vector_env(thunks):
    """SyncVectorEnv that resets a finished env within the same step (its last observation in
    ``info["final_obs"]``), so every stored transition is (s, a, r, s') of one episode."""
    import gymnasium as gym

    return gym.vector.SyncVectorEnv(thunks, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def check_spaces(envs, algo: str) -> tuple[int, int]:
    """(observation size, number of actions) of a vector env with Box observations and Discrete actions."""
    import gymnasium as gym

    obs_space, act_space = envs.single_observation_space, envs.single_action_space
    if not isinstance(obs_space, gym.spaces.Box) or not isinstance(act_space, gym.spaces.Discrete):
        envs.close()
        raise UsageError(f"{algo} needs a Box observation space and a Discrete action space; got "
                         f"{type(obs_space).__name__} and {type(act_space).__name__}")
    return int(np.prod(obs_space.shape)), int(act_space.n)


@dataclass
class PPOConfig:
    num_envs: int = 4                 # parallel environments (SyncVectorEnv), env i reset with seed + i
    num_steps: int = 128              # steps per environment per rollout; batch = num_envs * num_steps
    lr: float = 2.5e-4                # Adam learning rate (eps 1e-5, as CleanRL)
    gamma: float = 0.99               # discount
    gae_lambda: float = 0.95          # GAE lambda: 0 = one-step TD residual, 1 = Monte-Carlo return
    num_minibatches: int = 4          # minibatches per epoch over the rollout
    update_epochs: int = 4            # passes over each rollout
    clip_coef: float = 0.2            # epsilon of the clipped ratio (and of the value clipping)
    ent_coef: float = 0.01            # entropy bonus weight
    vf_coef: float = 0.5              # value loss weight
    max_grad_norm: float = 0.5        # global gradient-norm clip
    hidden: int = 64                  # width of the two tanh hidden layers of actor and critic
    anneal_lr: bool = True            # learning rate falls linearly to 0 over the run
    norm_adv: bool = True             # normalize advantages per minibatch
    clip_vloss: bool = True           # clip the value update like the ratio (CleanRL default)
    target_kl: float | None = None    # stop an update's epochs early when the approximate KL passes this
    bootstrap_truncated: bool = True  # add gamma * V(final obs) to the last reward of a time-limit cut
    action_mask_key: str | None = None  # info key of a boolean (n_actions,) mask of allowed actions
    device: str = "cpu"               # small MLPs beside CPU environments run fastest on the CPU
    log_every: int = 0                # print one line every this many updates (0: silent)

    def validate(self) -> PPOConfig:
        for name in ("num_envs", "num_steps", "num_minibatches", "update_epochs", "hidden"):
            if not isinstance(getattr(self, name), (int, np.integer)) or getattr(self, name) < 1:
                raise UsageError(f"PPOConfig.{name} must be a positive int; got {getattr(self, name)!r}")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise UsageError(f"num_envs * num_steps must divide into num_minibatches; got "
                             f"{self.num_envs} * {self.num_steps} and {self.num_minibatches}")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= getattr(self, name) <= 1:
                raise UsageError(f"PPOConfig.{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.lr <= 0 or self.clip_coef <= 0:
            raise UsageError(f"PPOConfig.lr and clip_coef must be > 0; got {self.lr}, {self.clip_coef}")
        return self


class ActorCritic(nn.Module):
    """Separate tanh MLPs for the policy logits (obs_dim -> hidden -> hidden -> n_actions) and the value."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.config = {"obs_dim": int(obs_dim), "n_actions": int(n_actions), "hidden": int(hidden)}
        self.critic = nn.Sequential(layer_init(nn.Linear(obs_dim, hidden)), nn.Tanh(),
                                    layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
                                    layer_init(nn.Linear(hidden, 1), std=1.0))
        self.actor = nn.Sequential(layer_init(nn.Linear(obs_dim, hidden)), nn.Tanh(),
                                   layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
                                   layer_init(nn.Linear(hidden, n_actions), std=0.01))  # near-uniform start

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)                       # (B,)

    def logits(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        z = self.actor(x)                                       # (B, A)
        return z if mask is None else z.masked_fill(~mask, MASKED)

    @torch.no_grad()
    def act(self, obs, deterministic: bool = True, action_mask=None, generator: torch.Generator | None = None):
        """An int action for one observation (an int array for a batch); greedy unless not deterministic."""
        dev = next(self.parameters()).device
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=dev)
        single = x.ndim == 1
        x = x.reshape(1 if single else x.shape[0], -1)
        mask = None if action_mask is None else torch.as_tensor(np.asarray(action_mask, bool), device=dev).reshape(
            x.shape[0], -1)
        z = self.logits(x, mask)
        a = z.argmax(-1) if deterministic else torch.multinomial(z.softmax(-1), 1, generator=generator).squeeze(-1)
        return int(a[0]) if single else a.cpu().numpy()


@dataclass
class PPOResult:
    policy: ActorCritic
    history: list = field(default_factory=list)   # one dict per finished episode: step, return, length
    updates: list = field(default_factory=list)   # one dict per update: step, lr, losses, approx_kl, clipfrac
    steps: int = 0                                # environment steps taken (all envs together)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def gae(rewards, values, dones, next_value, gamma: float, lam: float):
    """Generalized advantage estimates and returns of a rollout; all (T, N) except next_value (N,).

    ``dones[t]`` is 1 when the transition at step t ended its episode (the next observation is a
    new episode's first), so the TD residual and the recursion stop there:
        delta_t = r_t + gamma V(s_{t+1}) (1 - d_t) - V(s_t),   A_t = delta_t + gamma lam (1 - d_t) A_{t+1},
    with V(s_T) = next_value. Returns are A + V, the value targets.
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(T)):
        nonterminal = 1.0 - dones[t]
        v_next = next_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + gamma * v_next * nonterminal - values[t]
        last = delta + gamma * lam * nonterminal * last
        adv[t] = last
    return adv, adv + values


def clipped_surrogate(new_logprob, old_logprob, advantages, clip_coef: float) -> torch.Tensor:
    """PPO's policy loss: mean of max(-A r, -A clip(r, 1 - eps, 1 + eps)), r = exp(new - old log-prob)."""
    ratio = (new_logprob - old_logprob).exp()
    return torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean()


def value_loss(new_value, old_value, returns, clip_coef: float, clip: bool = True) -> torch.Tensor:
    """0.5 mean (V - R)^2; clipped: 0.5 mean max((V - R)^2, (V_old + clip(V - V_old, +-eps) - R)^2)."""
    unclipped = (new_value - returns) ** 2
    if not clip:
        return 0.5 * unclipped.mean()
    clipped = (old_value + (new_value - old_value).clamp(-clip_coef, clip_coef) - returns) ** 2
    return 0.5 * torch.max(unclipped, clipped).mean()


def ppo_loss(new_logprob, old_logprob, advantages, entropy, new_value, old_value, returns, cfg: PPOConfig):
    """The scalar minimised per minibatch, and its parts (floats) for the log."""
    pg = clipped_surrogate(new_logprob, old_logprob, advantages, cfg.clip_coef)
    vl = value_loss(new_value, old_value, returns, cfg.clip_coef, cfg.clip_vloss)
    ent = entropy.mean()
    with torch.no_grad():
        logratio = new_logprob - old_logprob
        approx_kl = ((logratio.exp() - 1) - logratio).mean()    # k3 estimator of KL(old || new), >= 0
        clipfrac = ((logratio.exp() - 1).abs() > cfg.clip_coef).float().mean()
    stats = {"policy_loss": pg.item(), "value_loss": vl.item(), "entropy": ent.item(),
             "approx_kl": float(approx_kl), "clipfrac": float(clipfrac)}
    return pg - cfg.ent_coef * ent + cfg.vf_coef * vl, stats


def _mask(info: dict, key: str | None, n: int, n_actions: int) -> np.ndarray | None:
    if key is None:
        return None
    if key not in info:
        raise UsageError(f"PPOConfig.action_mask_key is {key!r} but the environment's info has only {sorted(info)}")
    m = np.asarray(info[key], dtype=bool).reshape(n, n_actions)
    if not m.any(1).all():
        raise UsageError(f"info[{key!r}] must allow at least one action in every environment; got {m.astype(int)}")
    return m


def train_ppo(make_env, total_steps: int, config: PPOConfig | None = None, seed: int = 0) -> PPOResult:
    """Train an actor-critic with PPO for about ``total_steps`` environment steps (whole rollouts).

    ``make_env(i)`` returns the i-th gymnasium environment (Box observations, Discrete actions).
    """
    cfg = (config or PPOConfig()).validate()
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise UsageError(f"total_steps must be a positive int; got {total_steps!r}")
    dev = resolve_device(cfg.device)
    N, T = cfg.num_envs, cfg.num_steps
    envs = make_vector_env([partial(make_env, i) for i in range(N)])
    obs_dim, n_actions = check_spaces(envs, "PPO")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        agent = ActorCritic(obs_dim, n_actions, cfg.hidden).to(dev)
    gen = torch.Generator(device=dev).manual_seed(seed)                 # action draws and minibatch order
    opt = torch.optim.Adam(agent.parameters(), lr=cfg.lr, eps=1e-5)
    batch, mb = N * T, N * T // cfg.num_minibatches
    n_updates = max(1, total_steps // batch)
    buf_obs = torch.zeros(T, N, obs_dim, device=dev)
    buf_act = torch.zeros(T, N, dtype=torch.long, device=dev)
    buf_logp, buf_rew, buf_done, buf_val = (torch.zeros(T, N, device=dev) for _ in range(4))
    buf_mask = torch.ones(T, N, n_actions, dtype=torch.bool, device=dev)
    result = PPOResult(policy=agent, config=asdict(cfg))
    next_obs, info = envs.reset(seed=[seed + i for i in range(N)])
    mask = _mask(info, cfg.action_mask_key, N, n_actions)
    ep_ret, ep_len = np.zeros(N), np.zeros(N, dtype=np.int64)
    step, t0 = 0, time.perf_counter()
    for update in range(n_updates):
        lr_now = cfg.lr * (1 - update / n_updates) if cfg.anneal_lr else cfg.lr
        for g in opt.param_groups:
            g["lr"] = lr_now
        for t in range(T):                                                 # --- rollout
            x = torch.as_tensor(np.asarray(next_obs, np.float32).reshape(N, -1), device=dev)
            m = None if mask is None else torch.as_tensor(mask, device=dev)
            with torch.no_grad():
                logp_all = agent.logits(x, m).log_softmax(-1)               # (N, A)
                a = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(-1)
                buf_val[t] = agent.value(x)
            buf_obs[t], buf_act[t], buf_logp[t] = x, a, logp_all.gather(1, a[:, None]).squeeze(1)
            if m is not None:
                buf_mask[t] = m
            next_obs, reward, term, trunc, info = envs.step(a.cpu().numpy())
            step += N
            ep_ret += reward
            ep_len += 1
            r = np.asarray(reward, np.float32).copy()
            cut = np.flatnonzero(trunc & ~term) if cfg.bootstrap_truncated else []
            if len(cut):                                                   # time limit: the future was not zero
                final = np.stack([np.asarray(info["final_obs"][i], np.float32).reshape(-1) for i in cut])
                with torch.no_grad():
                    r[cut] += cfg.gamma * agent.value(torch.as_tensor(final, device=dev)).cpu().numpy()
            buf_rew[t] = torch.as_tensor(r, device=dev)
            done = term | trunc
            buf_done[t] = torch.as_tensor(done, dtype=torch.float32, device=dev)
            for i in np.flatnonzero(done):
                result.history.append({"step": step, "return": float(ep_ret[i]), "length": int(ep_len[i])})
                ep_ret[i], ep_len[i] = 0.0, 0
            mask = _mask(info, cfg.action_mask_key, N, n_actions)
        with torch.no_grad():
            next_value = agent.value(torch.as_tensor(np.asarray(next_obs, np.float32).reshape(N, -1), device=dev))
        adv, ret = gae(buf_rew, buf_val, buf_done, next_value, cfg.gamma, cfg.gae_lambda)
        b_obs, b_act, b_logp = buf_obs.reshape(batch, -1), buf_act.reshape(-1), buf_logp.reshape(-1)
        b_adv, b_ret, b_val, b_mask = adv.reshape(-1), ret.reshape(-1), buf_val.reshape(-1), buf_mask.reshape(batch, -1)
        for _ in range(cfg.update_epochs):                                 # --- update
            perm = torch.randperm(batch, generator=gen, device=dev)
            for start in range(0, batch, mb):
                idx = perm[start:start + mb]
                logp_all = agent.logits(b_obs[idx], b_mask[idx] if cfg.action_mask_key else None).log_softmax(-1)
                new_logp = logp_all.gather(1, b_act[idx, None]).squeeze(1)
                entropy = -(logp_all.exp() * logp_all).sum(-1)
                a_mb = b_adv[idx]
                if cfg.norm_adv:
                    a_mb = (a_mb - a_mb.mean()) / (a_mb.std() + 1e-8)
                loss, stats = ppo_loss(new_logp, b_logp[idx], a_mb, entropy, agent.value(b_obs[idx]), b_val[idx],
                                       b_ret[idx], cfg)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
                opt.step()
            if cfg.target_kl is not None and stats["approx_kl"] > cfg.target_kl:
                break
        result.updates.append({"step": step, "lr": lr_now, **stats})
        if cfg.log_every and (update + 1) % cfg.log_every == 0:
            recent = np.mean([h["return"] for h in result.history[-20:]]) if result.history else float("nan")
            print(f"update {update + 1}/{n_updates}: step {step}, return {recent:.1f}, entropy {stats['entropy']:.3f}"
                  f", policy {stats['policy_loss']:.4f}, value {stats['value_loss']:.4f}, kl {stats['approx_kl']:.4f}")
    envs.close()
    agent.eval()
    result.steps, result.seconds = step, time.perf_counter() - t0
    return result
