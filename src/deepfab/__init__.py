"""deepfab: an advanced deep-learning curriculum for semiconductor data scientists.

The package is built in layers; a module imports only from its own layer or the ones above it
in this list, never from a later one (``tests/package/test_layers.py`` checks it):

1. ``errors``, ``io``, ``device``: one error family, atomic writes, device and seeds.
2. ``data``, ``models``, ``scratch``, ``plots``: the shipped datasets and generators, the
   architectures, the numpy teaching layer, and the ``draw_*(ax, ...)`` figure primitives.
3. ``train``: the one training engine, its metrics and checkpoints.
4. topic modules, named for what they hold: ``foundations``, ``augment``, ``explain``, ``segment``,
   ``experiment``, ``robust`` (attacks), ``ood`` (novelty scores), ``generative`` (VAEs and GANs),
   ``generalization`` (overparameterized networks), ``compress`` (pruning, quantization, distillation),
   ``restore`` (denoising and super-resolution), ``rl`` (reinforcement learning and fab dispatching),
   ``adapt`` (transfer, online learning and AutoML), ``aiops`` (logs and tool sensors).
5. the tools a fab team runs (``wafer``, ``sem``, ``logs``, ``sensors``), the lectures with their
   run context (``lectures``, ``lecture``) and the solutions of their exercises (``exercises``).
6. ``runner``, ``book`` and ``cli``: execute lectures, build the course book, the command line.

Errors a user can cause are ``deepfab.errors.DeepfabError`` (a ``ValueError``); ``deepfab.cli``
prints them as one line, exit status 2.
"""
__version__ = "0.1.0"
