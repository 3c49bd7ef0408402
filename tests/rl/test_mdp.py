"""Exact MDP solvers against each other and against independent oracles (numpy power series, gymnasium
rollouts), and tabular Q-learning against Q*."""
from __future__ import annotations

import gymnasium as gym
import matplotlib
import numpy as np
import pytest

from deepfab.errors import UsageError
from deepfab.rl import mdp as M
from deepfab.rl.plots import convergence_figure, value_heatmap_figure

matplotlib.use("Agg")

MDPS = {"tool": lambda: M.tool_mdp(), "lake4": lambda: M.frozenlake_mdp("4x4"),
        "lake8": lambda: M.frozenlake_mdp("8x8", gamma=0.95), "lake4_det": lambda: M.frozenlake_mdp("4x4", False)}


@pytest.mark.parametrize("name", MDPS)
def test_value_iteration_policy_iteration_and_linear_solve_agree(name):
    mdp = MDPS[name]()
    vi, pi = M.value_iteration(mdp), M.policy_iteration(mdp)
    exact = M.policy_evaluation(mdp, vi.policy)                 # V of VI's greedy policy by a linear solve
    assert np.abs(vi.V - pi.V).max() < 1e-8
    assert np.abs(exact - pi.V).max() < 1e-8
    assert np.abs(M.policy_evaluation(mdp, pi.policy) - pi.V).max() < 1e-12
    # both greedy policies reach V*: equal actions wherever the best action is unique
    gap = np.sort(vi.Q, 1)
    unique = gap[:, -1] - gap[:, -2] > 1e-6
    assert (vi.policy[unique] == pi.policy[unique]).all()
    assert pi.iterations <= vi.iterations                       # PI: few exact steps; VI: as many sweeps or more


def test_tool_mdp_optimal_values_by_hand():
    mdp = M.tool_mdp(gamma=0.9)
    sol = M.policy_iteration(mdp)
    # run when up, maintain when degraded, repair when down: three linear equations solved by hand
    # V_u = 1 + 0.9 (0.9 V_u + 0.1 V_d);  V_d = 0.9 (0.9 V_u + 0.1 V_d);  V_x = -0.5 + 0.9 (0.6 V_u + 0.4 V_x)
    # subtracting the first two: V_u - V_d = 1, so V_d = 0.9 (V_u - 0.1), V_u = 0.9 V_u + 0.91, V_u = 9.1
    assert sol.policy.tolist() == [0, 1, 1]
    assert sol.V[0] == pytest.approx(9.1, abs=1e-10)
    assert sol.V[1] == pytest.approx(8.1, abs=1e-10)
    assert sol.V[2] == pytest.approx((-0.5 + 0.54 * 9.1) / (1 - 0.36), abs=1e-10)


def test_policy_evaluation_matches_power_series():
    mdp = M.frozenlake_mdp("4x4", gamma=0.9)
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)    # a random stochastic policy
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    R_pi = (pi * mdp.R).sum(1)
    series, term = np.zeros(mdp.n_states), R_pi.copy()
    for _ in range(400):                                        # sum_k gamma^k P_pi^k R_pi; 0.9^400 ~ 5e-19
        series += term
        term = mdp.gamma * P_pi @ term
    V = M.policy_evaluation(mdp, pi)
    assert np.abs(V - series).max() < 1e-12
    assert np.abs(M.bellman_expectation(mdp, V, pi) - V).max() < 1e-12     # V_pi is T_pi's fixed point


def test_bellman_optimality_is_a_gamma_contraction_with_fixed_point_v_star():
    mdp = M.tool_mdp(gamma=0.8)
    rng = np.random.default_rng(1)
    for _ in range(50):
        U, V = rng.normal(0, 10, (2, mdp.n_states))
        lhs = np.abs(M.bellman_optimality(mdp, U) - M.bellman_optimality(mdp, V)).max()
        assert lhs <= mdp.gamma * np.abs(U - V).max() + 1e-12
    v_star = M.value_iteration(mdp).V
    assert np.abs(M.bellman_optimality(mdp, v_star) - v_star).max() < 1e-11
    d = M.value_iteration(mdp, tol=1e-10).history
    assert all(d[k + 1] <= mdp.gamma * d[k] + 1e-12 for k in range(len(d) - 1))


def test_frozenlake_optimal_value_matches_gymnasium_rollouts():
    mdp = M.frozenlake_mdp("4x4", gamma=0.95)
    sol = M.value_iteration(mdp)
    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
    returns = []
    for seed in range(1500):
        s, _ = env.reset(seed=seed)
        g, t, done = 0.0, 0, False
        while not done:
            s, r, term, trunc, _ = env.step(int(sol.policy[s]))
            g += mdp.gamma ** t * r
            t += 1
            done = term or trunc
        returns.append(g)
    returns = np.array(returns)
    se = returns.std(ddof=1) / np.sqrt(returns.size)
    # gymnasium's 100-step time limit cuts a few long episodes, so the rollouts can only fall short of V*
    assert sol.V[0] - 4 * se < returns.mean() < sol.V[0] + 4 * se


def test_q_learning_converges_to_q_star():
    mdp = M.tool_mdp()
    q_star = M.value_iteration(mdp).Q
    q = M.q_learning(mdp, steps=60_000, seed=0, q_star=q_star, record_every=1000)
    assert q.history[-1] < 0.3 < q.history[0]                   # Q* values are 6 to 9
    assert q.history[-1] < q.history[0] / 10
    assert (q.policy == M.policy_iteration(mdp).policy).all()
    again = M.q_learning(mdp, steps=60_000, seed=0)
    assert np.array_equal(again.Q, q.Q)                         # same seed, same numbers


def test_q_learning_episodic_restarts_and_learns_a_good_lake_policy():
    mdp = M.frozenlake_mdp("4x4", is_slippery=False, gamma=0.9)
    q = M.q_learning(mdp, steps=20_000, seed=0, epsilon=0.5)
    v_pi = M.policy_evaluation(mdp, q.policy)
    assert v_pi[0] == pytest.approx(M.value_iteration(mdp).V[0], abs=1e-9)   # the greedy policy is optimal
    assert np.all(q.Q[mdp.terminal] == 0)                       # terminal states are never updated


def test_bad_input_raises_usage_error():
    P = np.full((2, 1, 2), 0.4)
    with pytest.raises(UsageError, match="probability"):
        M.FiniteMDP(P, np.zeros_like(P), 0.9)
    with pytest.raises(UsageError, match="gamma"):
        M.FiniteMDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1, 2)), 1.0)
    mdp = M.tool_mdp()
    with pytest.raises(UsageError, match="policy"):
        M.policy_evaluation(mdp, np.array([0, 1, 5]))
    with pytest.raises(UsageError, match="omega"):
        M.q_learning(mdp, steps=10, omega=0.3)
    with pytest.raises(UsageError, match="map_name"):
        M.frozenlake_mdp("3x3")


def test_figures_draw():
    mdp = M.frozenlake_mdp("4x4")
    vi = M.value_iteration(mdp)
    fig = value_heatmap_figure(mdp, {"value iteration": vi.V, "policy iteration": M.policy_iteration(mdp).V},
                               vi.policy)
    assert len(fig.axes) == 3                                   # two panels and a colour bar
    tool = M.tool_mdp()
    fig2 = convergence_figure(M.value_iteration(tool).history, tool.gamma, [1.0, 0.5, 0.1], record_every=10)
    assert len(fig2.axes) == 2
    with pytest.raises(UsageError, match="grid"):
        value_heatmap_figure(tool, {"V": np.zeros(3)})
