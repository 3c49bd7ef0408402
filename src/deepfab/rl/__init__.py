"""Reinforcement learning, from exact MDPs to a fab dispatching environment (lecture 13).

Modules: ``mdp`` (finite MDPs, value and policy iteration, tabular Q-learning), ``dqn`` and ``ppo``
(single-file deep RL agents), ``fab`` (``deepfab/FabDispatch-v0``, a discrete-event simulation of an
SMT2020 fab section), ``rules`` (dispatching rules) and ``dispatch`` (policies against rules over seeds).

Importing ``deepfab.rl`` registers the environment with gymnasium:

    import gymnasium as gym
    import deepfab.rl  # noqa: F401
    env = gym.make("deepfab/FabDispatch-v0")
"""
from __future__ import annotations

import gymnasium as gym

ENV_ID = "deepfab/FabDispatch-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="deepfab.rl.fab:FabDispatchEnv")
