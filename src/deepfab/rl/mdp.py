"""Finite Markov decision processes solved exactly: Bellman equations, value and policy iteration,
and tabular Q-learning (lecture 13).

A ``FiniteMDP`` holds the transition tensor ``P[s, a, s']`` and the reward ``reward[s, a, s']``;
``R[s, a]`` is the expected reward. For a policy pi (an action per state, or probabilities (S, A))

    V_pi = R_pi + gamma P_pi V_pi            (Bellman expectation: a linear system, solved exactly)
    V*   = max_a [R(., a) + gamma P(., a) V*] (Bellman optimality: a gamma-contraction, iterated)

Value iteration applies the optimality operator until the sup-norm change is below ``tol`` (the
error then is at most tol * gamma / (1 - gamma)); policy iteration alternates exact evaluation and
greedy improvement and stops when the policy is stable (finitely many steps). Both give V*.
Q-learning finds Q* from sampled transitions alone, with a step size 1 / n(s, a)^omega.

    from deepfab.rl.mdp import tool_mdp, value_iteration, policy_iteration, q_learning
    mdp = tool_mdp()                         # a tool: up / degraded / down, run or maintain
    vi, pi = value_iteration(mdp), policy_iteration(mdp)
    abs(vi.V - pi.V).max()                   # < 1e-8
    q = q_learning(mdp, steps=200_000, seed=0, q_star=vi.Q)

``frozenlake_mdp`` reads gymnasium's FrozenLake transition table into the same form.

References: R. S. Sutton, A. G. Barto, "Reinforcement Learning: An Introduction", 2nd ed., MIT Press
2018 (chapters 3, 4, 6); R. Bellman, "Dynamic Programming", Princeton University Press 1957;
R. A. Howard, "Dynamic Programming and Markov Processes", MIT Press 1960 (policy iteration);
C. J. C. H. Watkins, P. Dayan, "Q-learning", Machine Learning 8, 279-292, 1992; E. Even-Dar,
Y. Mansour, "Learning Rates for Q-learning", JMLR 5, 2003 (polynomial step sizes).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError


@dataclass(frozen=True)
class FiniteMDP:
    P: np.ndarray                 # (S, A, S) transition probabilities, rows sum to 1
    reward: np.ndarray            # (S, A, S) reward of the transition s -a-> s'
    gamma: float
    states: tuple = ()            # names, for tables
    actions: tuple = ()
    start: np.ndarray | None = None   # (S,) initial distribution (episodic tasks); None: uniform
    terminal: np.ndarray | None = None  # (S,) bool, absorbing zero-reward states that end an episode
    shape: tuple | None = None    # grid shape of the states, for heatmaps

    def __post_init__(self):
        P, r = np.asarray(self.P, float), np.asarray(self.reward, float)
        if P.ndim != 3 or P.shape[0] != P.shape[2] or r.shape != P.shape:
            raise UsageError(f"P and reward must both be (S, A, S); got {P.shape} and {r.shape}")
        if (P < 0).any() or not np.allclose(P.sum(-1), 1.0):
            raise UsageError(f"each P[s, a] must be a probability vector; row sums range "
                             f"{P.sum(-1).min():.4f}..{P.sum(-1).max():.4f}")
        if not 0 <= self.gamma < 1:
            raise UsageError(f"gamma must be in [0, 1) for a finite discounted MDP; got {self.gamma}")

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def R(self) -> np.ndarray:
        """(S, A) expected immediate reward sum_s' P[s, a, s'] reward[s, a, s']."""
        return (self.P * self.reward).sum(-1)


def tool_mdp(gamma: float = 0.9) -> FiniteMDP:
    """One process tool, checked once a shift: up, degraded or down; run it or maintain it.

    Running an up tool earns 1 (a shift of good lots) and degrades it with probability 0.1; a
    degraded tool earns 0.6 (lower yield) and breaks down with probability 0.4; a down tool earns
    nothing. Maintenance earns nothing for the shift; on a down tool it is a repair that costs 0.5
    and succeeds with probability 0.6.
    """
    up, deg, down = 0, 1, 2
    P, r = np.zeros((3, 2, 3)), np.zeros((3, 2, 3))
    P[up, 0] = [0.9, 0.1, 0.0]
    r[up, 0] = 1.0
    P[deg, 0] = [0.0, 0.6, 0.4]
    r[deg, 0] = 0.6
    P[down, 0] = [0.0, 0.0, 1.0]
    P[up, 1] = [1.0, 0.0, 0.0]
    P[deg, 1] = [0.9, 0.1, 0.0]
    P[down, 1] = [0.6, 0.0, 0.4]
    r[down, 1] = -0.5
    return FiniteMDP(P, r, gamma, states=("up", "degraded", "down"), actions=("run", "maintain"))


def frozenlake_mdp(map_name: str = "4x4", is_slippery: bool = True, gamma: float = 0.99) -> FiniteMDP:
    """gymnasium's FrozenLake-v1 as a FiniteMDP (reward 1 on reaching the goal; holes and goal absorb)."""
    import gymnasium as gym

    if map_name not in ("4x4", "8x8"):
        raise UsageError(f"map_name must be '4x4' or '8x8'; got {map_name!r}")
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=is_slippery).unwrapped
    S, A = env.observation_space.n, env.action_space.n
    P, r = np.zeros((S, A, S)), np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            for prob, s2, rew, _ in env.P[s][a]:
                P[s, a, s2] += prob
                r[s, a, s2] = rew
    desc = env.desc.astype(str)
    flat = desc.ravel()
    env.close()
    return FiniteMDP(P, r, gamma, states=tuple(flat), actions=("left", "down", "right", "up"),
                     start=(flat == "S").astype(float), terminal=np.isin(flat, ["H", "G"]), shape=desc.shape)


def policy_matrix(mdp: FiniteMDP, policy) -> np.ndarray:
    """(S, A) action probabilities from an action per state (S,) or probabilities (S, A)."""
    pi = np.asarray(policy)
    if pi.shape == (mdp.n_states,):
        if not np.issubdtype(pi.dtype, np.integer) or pi.min() < 0 or pi.max() >= mdp.n_actions:
            raise UsageError(f"a deterministic policy is an action index in [0, {mdp.n_actions}) per state; got {pi}")
        return np.eye(mdp.n_actions)[pi]
    if pi.shape != (mdp.n_states, mdp.n_actions) or not np.allclose(pi.sum(1), 1.0) or (pi < 0).any():
        raise UsageError(f"a policy is (S,) actions or (S, A) probabilities with S={mdp.n_states}, "
                         f"A={mdp.n_actions}; got shape {pi.shape}")
    return pi.astype(float)


def q_from_v(mdp: FiniteMDP, V: np.ndarray) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma sum_s' P[s, a, s'] V[s']."""
    return mdp.R + mdp.gamma * mdp.P @ V                       # (S, A)


def bellman_expectation(mdp: FiniteMDP, V: np.ndarray, policy) -> np.ndarray:
    """The operator T_pi V = sum_a pi(a|s) Q_V(s, a); V_pi is its fixed point."""
    return (policy_matrix(mdp, policy) * q_from_v(mdp, V)).sum(1)


def bellman_optimality(mdp: FiniteMDP, V: np.ndarray) -> np.ndarray:
    """The operator T V = max_a Q_V(s, a); V* is its fixed point."""
    return q_from_v(mdp, V).max(1)


def policy_evaluation(mdp: FiniteMDP, policy) -> np.ndarray:
    """V_pi exactly: solve (I - gamma P_pi) V = R_pi."""
    pi = policy_matrix(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)                  # (S, S)
    R_pi = (pi * mdp.R).sum(1)                                 # (S,)
    return np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi, R_pi)


def greedy(Q: np.ndarray) -> np.ndarray:
    """argmax_a Q[s, a], ties to the lowest action index (so results are reproducible)."""
    return Q.argmax(1)


@dataclass
class Solution:
    V: np.ndarray                 # (S,) state values
    Q: np.ndarray                 # (S, A) action values
    policy: np.ndarray            # (S,) greedy action per state
    iterations: int
    history: list = field(default_factory=list)   # value iteration: sup-norm change per sweep; PI: states changed


def value_iteration(mdp: FiniteMDP, tol: float = 1e-12, max_iter: int = 100_000, V0=None) -> Solution:
    """Iterate V <- T V from V0 (zeros) until max |V_new - V| < tol."""
    V = np.zeros(mdp.n_states) if V0 is None else np.asarray(V0, float).copy()
    history = []
    k = 0
    for k in range(1, max_iter + 1):  # noqa: B007 (k is the count returned)
        V_new = bellman_optimality(mdp, V)
        history.append(float(np.abs(V_new - V).max()))
        V = V_new
        if history[-1] < tol:
            break
    Q = q_from_v(mdp, V)
    return Solution(V, Q, greedy(Q), k, history)


def policy_iteration(mdp: FiniteMDP, policy0=None, max_iter: int = 1000) -> Solution:
    """Exact evaluation, greedy improvement, until no state changes its action (keep ties: no cycling)."""
    pi = np.zeros(mdp.n_states, dtype=np.int64) if policy0 is None else np.asarray(policy0, np.int64).copy()
    history = []
    k = 0
    for k in range(1, max_iter + 1):  # noqa: B007 (k is the count returned)
        V = policy_evaluation(mdp, pi)
        Q = q_from_v(mdp, V)
        best = Q.max(1)
        keep = Q[np.arange(mdp.n_states), pi] >= best - 1e-12 * (1 + np.abs(best))   # current action still optimal
        new = np.where(keep, pi, greedy(Q))
        history.append(int((new != pi).sum()))
        if history[-1] == 0:
            break
        pi = new
    return Solution(V, Q, pi, k, history)


def q_learning(mdp: FiniteMDP, steps: int, seed: int = 0, epsilon: float = 0.5, omega: float = 0.7,
               q_star: np.ndarray | None = None, record_every: int = 1000) -> Solution:
    """Tabular Q-learning on transitions sampled from ``mdp``: epsilon-greedy behaviour,
    Q(s, a) += alpha (r + gamma (1 - terminal') max_a' Q(s', a') - Q(s, a)), alpha = 1 / n(s, a)^omega.

    Episodic MDPs (with ``terminal``) restart from ``start`` on reaching a terminal state; continuing
    ones run one long trajectory. With ``q_star``, ``history`` holds max |Q - Q*| every ``record_every`` steps.
    """
    if steps < 1 or not 0 <= epsilon <= 1 or not 0.5 < omega <= 1:
        raise UsageError(f"q_learning needs steps >= 1, epsilon in [0, 1], omega in (0.5, 1]; got "
                         f"{steps}, {epsilon}, {omega}")
    rng = np.random.default_rng(seed)
    S, A = mdp.n_states, mdp.n_actions
    start = np.full(S, 1.0 / S) if mdp.start is None else np.asarray(mdp.start, float) / np.sum(mdp.start)
    terminal = np.zeros(S, bool) if mdp.terminal is None else np.asarray(mdp.terminal, bool)
    cum = np.cumsum(mdp.P, axis=-1)                             # (S, A, S) for inverse-CDF sampling
    explore, random_a, u = rng.random(steps) < epsilon, rng.integers(A, size=steps), rng.random(steps)
    restarts = rng.choice(S, size=steps, p=start)               # drawn up front: one vector call, same numbers
    next_s = [[np.minimum(np.searchsorted(cum[s, a], u, side="right"), S - 1) for a in range(A)] for s in range(S)]
    Q, n = np.zeros((S, A)), np.zeros((S, A))
    history = []
    s = int(restarts[-1])
    for t in range(steps):
        a = int(random_a[t]) if explore[t] else int(Q[s].argmax())
        s2 = int(next_s[s][a][t])                               # s' ~ P[s, a, .] from the t-th uniform
        target = mdp.reward[s, a, s2] + (0.0 if terminal[s2] else mdp.gamma * Q[s2].max())
        n[s, a] += 1
        Q[s, a] += (target - Q[s, a]) / n[s, a] ** omega
        s = int(restarts[t]) if terminal[s2] else s2
        if q_star is not None and (t + 1) % record_every == 0:
            history.append(float(np.abs(Q - q_star).max()))
    V = Q.max(1)
    return Solution(V, Q, greedy(Q), steps, history)
