"""deepfab.generative.gan: the GAN losses equal their formulas, the non-saturating loss keeps its gradient
where the minimax loss loses it, the WGAN-GP gradient penalty equals a per-sample autograd computation and
finite differences (also its gradient with respect to the critic's weights), the training loop is seeded and
resumes to the uninterrupted result (with the weight average and the symmetry augmentation too), the weight
average and the augmentation do what their formulas say, and generated maps decode to valid wafer maps.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/generative/test_gan.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfab.data import encode_maps
from deepfab.errors import DataError, UsageError
from deepfab.generative.gan import GANConfig, dihedral_augment, ema_update, load_generator, train_gan
from deepfab.generative.gan_losses import (
    critic_loss,
    d_loss,
    d_loss_hinge,
    g_loss_minimax,
    g_loss_ns,
    g_loss_wgan,
    gradient_norms_fd,
    gradient_penalty,
    mode_seeking_loss,
    saturation,
)
from deepfab.generative.gan_metrics import sample_ring
from deepfab.generative.gan_sampling import sample, sample_wafer_maps, to_wafer_maps, wafer_channels
from deepfab.models.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks on a shared 2-core CPU run fastest (and reproducibly) on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _logits(seed=0, n=50):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, generator=g, dtype=torch.float64), 3 * torch.randn(n, generator=g, dtype=torch.float64)


def test_losses_equal_their_formulas():
    r, f = _logits()
    dr, df = torch.sigmoid(r), torch.sigmoid(f)
    assert torch.allclose(d_loss(r, f), -(dr.log().mean() + (1 - df).log().mean()))
    assert torch.allclose(g_loss_minimax(f), (1 - df).log().mean())
    assert torch.allclose(g_loss_ns(f), -df.log().mean())
    assert torch.allclose(critic_loss(r, f), f.mean() - r.mean())
    assert torch.allclose(g_loss_wgan(f), -f.mean())
    hinge = sum(max(0.0, 1 - a) for a in r.tolist()) / len(r) + sum(max(0.0, 1 + b) for b in f.tolist()) / len(f)
    assert abs(d_loss_hinge(r, f).item() - hinge) < 1e-12


def test_minimax_gradient_vanishes_where_the_discriminator_wins():
    # d/dl of E log(1 - sigmoid(l)) is -sigmoid(l) / N; of -E log sigmoid(l) it is -(1 - sigmoid(l)) / N
    f = torch.tensor([-8.0, -4.0, 0.0, 4.0], dtype=torch.float64, requires_grad=True)
    (gm,) = torch.autograd.grad(g_loss_minimax(f), f)
    (gn,) = torch.autograd.grad(g_loss_ns(f), f)
    s = torch.sigmoid(f.detach())
    assert torch.allclose(gm, -s / 4) and torch.allclose(gn, -(1 - s) / 4)
    assert abs(gm[0]) < 1e-3 * abs(gn[0])          # D(G(z)) = 3e-4: the minimax signal is 3000x weaker


def _critic(seed=0):
    torch.manual_seed(seed)
    return MLPDiscriminator(in_dim=3, hidden=16, depth=2).double()


def test_gradient_penalty_of_a_linear_critic_is_exact():
    w = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    lin = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        lin.weight.copy_(w[None])
    critic = lambda x: lin(x).squeeze(1)                                 # noqa: E731
    real, fake = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    gp, norms = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(norms, w.norm().expand(8)) and torch.allclose(gp, (w.norm() - 1) ** 2)


def test_gradient_penalty_equals_per_sample_autograd_and_finite_differences():
    critic = _critic()
    g = torch.Generator().manual_seed(1)
    real, fake = (torch.randn(6, 3, generator=g, dtype=torch.float64) for _ in range(2))
    eps = torch.rand(6, generator=g, dtype=torch.float64)
    gp, norms = gradient_penalty(critic, real, fake, eps=eps)
    xhat = eps[:, None] * real + (1 - eps[:, None]) * fake
    one = []
    for i in range(6):                                                   # one sample at a time: no batch shortcut
        xi = xhat[i:i + 1].clone().requires_grad_(True)
        one.append(torch.autograd.grad(critic(xi).sum(), xi)[0].norm())
    assert torch.allclose(norms, torch.stack(one), rtol=1e-10)
    h = 1e-6
    fd = torch.stack([torch.stack([(critic(xhat[i:i + 1] + h * e) - critic(xhat[i:i + 1] - h * e))[0] / (2 * h)
                                   for e in torch.eye(3, dtype=torch.float64)]).norm() for i in range(6)])
    assert torch.allclose(norms, fd, rtol=1e-6)
    assert torch.allclose(gp, ((fd - 1) ** 2).mean(), rtol=1e-5)
    assert torch.allclose(gradient_norms_fd(critic, xhat, batch_size=2), fd, rtol=1e-9)   # the library's oracle


def test_gradient_penalty_reaches_the_critic_weights():
    # d gp / d theta by double backprop against a central difference of the penalty in one weight
    critic = _critic(2)
    g = torch.Generator().manual_seed(3)
    real, fake = (torch.randn(5, 3, generator=g, dtype=torch.float64) for _ in range(2))
    eps = torch.rand(5, generator=g, dtype=torch.float64)
    w = critic.net[0].weight
    (grad,) = torch.autograd.grad(gradient_penalty(critic, real, fake, eps=eps)[0], w)
    h = 1e-6

    def penalty_at(idx, step):
        with torch.no_grad():
            w[idx] += step
        value = gradient_penalty(critic, real, fake, eps=eps)[0].item()
        with torch.no_grad():
            w[idx] -= step
        return value

    for idx in [(0, 0), (3, 1), (7, 2)]:
        fd = (penalty_at(idx, h) - penalty_at(idx, -h)) / (2 * h)
        assert abs(grad[idx].item() - fd) <= 1e-6 * max(1.0, abs(fd)), (idx, grad[idx].item(), fd)


def test_gradient_penalty_of_a_conditional_critic():
    torch.manual_seed(0)
    d = DCGANDiscriminator(width=4, size=8, num_classes=3).double()
    real, fake = torch.rand(4, 2, 8, 8, dtype=torch.float64), torch.rand(4, 2, 8, 8, dtype=torch.float64)
    y, eps = torch.tensor([0, 1, 2, 1]), torch.rand(4, dtype=torch.float64)
    _, norms = gradient_penalty(d, real, fake, y, eps=eps)
    xhat = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    for i in range(4):
        xi = xhat[i:i + 1].clone().requires_grad_(True)
        assert torch.allclose(norms[i], torch.autograd.grad(d(xi, y[i:i + 1]).sum(), xi)[0].norm())
    assert torch.allclose(gradient_norms_fd(d, xhat, y), norms, rtol=1e-6)
    with pytest.raises(DataError):
        gradient_penalty(d, real, fake[:2], y)


def _ring_run(tmp_path=None, epochs=2, resume=False, loss="ns", seed=0, n=384, batch_size=128, **kw):
    torch.manual_seed(seed)
    g, d = MLPGenerator(z_dim=4, hidden=32, depth=2), MLPDiscriminator(hidden=32, depth=2)
    x = torch.from_numpy(sample_ring(n, std=0.05, seed=0))
    cfg = GANConfig(loss=loss, epochs=epochs, batch_size=batch_size, lr_g=1e-3, lr_d=1e-3, seed=seed, device="cpu",
                    progress=False, verbose=False, out_dir=None if tmp_path is None else str(tmp_path), resume=resume,
                    **kw)
    return train_gan(g, d, x, cfg)


@pytest.mark.parametrize("loss", ["minimax", "wgan-gp", "hinge"])
def test_same_seed_same_run_and_resume_ends_where_the_uninterrupted_run_ends(tmp_path, loss):
    kw = {"wgan-gp": {"d_steps": 3, "betas": (0.0, 0.9)}, "hinge": {"ema": 0.9}}.get(loss, {})
    full = _ring_run(epochs=3, loss=loss, **kw)
    assert full.history == _ring_run(epochs=3, loss=loss, **kw).history
    _ring_run(tmp_path, epochs=2, loss=loss, **kw)                       # "killed" after two epochs
    resumed = _ring_run(tmp_path, epochs=3, resume=True, loss=loss, **kw)
    assert resumed.history == full.history and resumed.epochs_run == 3
    for a, b in zip(resumed.generator.parameters(), full.generator.parameters()):
        assert torch.equal(a, b)
    assert torch.equal(sample(load_generator(tmp_path / "checkpoint.pt"), 7, seed=2), sample(full.sampler, 7, seed=2))
    if loss == "hinge":                                                   # the weight average resumes too
        assert full.sampler is full.generator_ema
        assert torch.equal(sample(load_generator(tmp_path / "checkpoint.pt", ema=False), 7, seed=2),
                           sample(full.generator, 7, seed=2))
    assert "gp" in full.history[-1] if loss == "wgan-gp" else "gp" not in full.history[-1]
    with pytest.raises(UsageError, match="config differs"):
        _ring_run(tmp_path, epochs=5, resume=True, loss=loss, gp_weight=5.0, **kw)


def test_training_moves_the_generator_onto_the_ring():
    torch.manual_seed(0)
    before = MLPGenerator(z_dim=4, hidden=32, depth=2)
    r0 = np.median(np.abs(np.linalg.norm(sample(before, 500, seed=1).numpy(), axis=1) - 2))
    res = _ring_run(epochs=4, n=4096, batch_size=64)                     # 256 steps of each network
    r1 = np.median(np.abs(np.linalg.norm(sample(res.generator, 500, seed=1).numpy(), axis=1) - 2))
    assert r0 > 1.5 and r1 < 0.5 * r0, (r0, r1)                         # from near the origin towards the circle


def test_config_and_data_errors():
    with pytest.raises(UsageError, match="loss"):
        GANConfig(loss="lsgan")
    with pytest.raises(UsageError, match="ema"):
        GANConfig(ema=1.0)
    with pytest.raises(UsageError, match="augment"):
        GANConfig(augment="d4")
    with pytest.raises(UsageError, match="d_steps"):
        GANConfig(d_steps=0)
    with pytest.raises(UsageError, match="betas"):
        GANConfig(betas=(0.5, 1.0))
    g, d = MLPGenerator(), MLPDiscriminator()
    with pytest.raises(UsageError, match="takes no labels"):
        train_gan(g, d, torch.zeros(8, 2), GANConfig(epochs=1, verbose=False), labels=np.zeros(8))
    dc = DCGANDiscriminator(width=4, size=8, num_classes=3)
    with pytest.raises(UsageError, match="needs labels"):
        train_gan(DCGANGenerator(z_dim=4, width=4, size=8, num_classes=3), dc, torch.zeros(8, 2, 8, 8),
                  GANConfig(epochs=1, verbose=False))


def test_conditional_training_runs_and_samples_valid_wafer_maps():
    torch.manual_seed(0)
    g = DCGANGenerator(z_dim=8, width=4, size=8, num_classes=3)
    d = DCGANDiscriminator(width=4, size=8, num_classes=3)
    x = (torch.rand(48, 2, 8, 8) > 0.5).float()
    res = train_gan(g, d, x, GANConfig(epochs=2, batch_size=16, device="cpu", progress=False, verbose=False),
                    labels=np.arange(48) % 3)
    assert len(res.history) == 2 and np.isfinite(res.history[-1]["g_loss"])
    maps = sample_wafer_maps(res.generator, 10, label=2, seed=4)
    assert len(maps) == 10 and all(m.shape == (16, 16) and m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1, 2}
                                   for m in maps)
    again = sample_wafer_maps(res.generator, 10, label=2, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(maps, again))
    with pytest.raises(UsageError):
        sample_wafer_maps(res.generator, 3)                              # a conditional generator needs a label
    with pytest.raises(UsageError):
        sample_wafer_maps(res.generator, 3, label=3)


def test_to_wafer_maps_round_trips_through_the_encoding():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    disk = (yy - 15.5) ** 2 + (xx - 15.5) ** 2 < 15 ** 2
    x = torch.stack([torch.from_numpy(disk).float(), torch.from_numpy(rng.random((32, 32)) * disk).float()])[None]
    x = torch.cat([x, x * torch.tensor([1.0, 0.3])[:, None, None]])       # (2, 2, 32, 32): wafer, fail fraction
    for dies in (1, 2, 3):
        maps = to_wafer_maps(x, dies=dies)
        assert maps[0].shape == (32 * dies, 32 * dies) and maps[0].dtype == np.uint8
        assert all(set(np.unique(m)) <= {0, 1, 2} for m in maps)
        back = wafer_channels(encode_maps(maps, 32, density=True))       # the classifier's own encoding
        assert torch.equal(back[:, 0], x[:, 0])                           # the wafer mask survives
        k = np.rint(x[:, 1].numpy() * dies ** 2)                          # fail fraction, to 1 / dies^2
        assert np.allclose(back[:, 1].numpy(), k / dies ** 2, atol=1e-6)
    soft = torch.tensor([[[[0.9, 0.2]], [[0.7, 0.9]]]])                  # (1, 2, 1, 2): a fail outside the wafer
    assert to_wafer_maps(soft, dies=1)[0].tolist() == [[2, 0]]
    assert to_wafer_maps(soft, dies=2)[0].tolist() == [[2, 2, 0, 0], [2, 1, 0, 0]]   # 0.7 * 4 -> 3 of 4 dies fail
    with pytest.raises(DataError):
        to_wafer_maps(torch.zeros(2, 3, 32, 32))
    with pytest.raises(DataError):
        wafer_channels(torch.zeros(2, 2, 32, 32))


def test_saturation_measures_the_vanishing_minimax_gradient():
    torch.manual_seed(0)
    g, d = MLPGenerator(z_dim=4, hidden=32, depth=2), MLPDiscriminator(hidden=32, depth=2)
    real = torch.from_numpy(sample_ring(2000, seed=0))
    rows = saturation(g, d, real, checkpoints=(0, 300), lr=2e-3, batch_size=128)
    assert [r["d_steps"] for r in rows] == [0, 300]
    assert rows[1]["d_fake"] < 0.05 < rows[0]["d_fake"]                  # the discriminator wins
    ratio = [r["grad_minimax"] / r["grad_ns"] for r in rows]
    assert ratio[1] < 0.1 * ratio[0] and ratio[1] < 0.05                  # and the minimax gradient fades


def test_mode_seeking_loss_equals_its_formula_and_punishes_ignored_noise():
    g = torch.Generator().manual_seed(0)
    fa, fb = torch.rand(6, 2, 4, 4, generator=g), torch.rand(6, 2, 4, 4, generator=g)
    za, zb = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    ratio = np.abs(fa.numpy() - fb.numpy()).mean() / np.abs(za.numpy() - zb.numpy()).mean()
    assert abs(mode_seeking_loss(fa, fb, za, zb).item() - 1 / (ratio + 1e-5)) < 1e-4
    assert mode_seeking_loss(fa, fa, za, zb).item() == pytest.approx(1e5)     # noise ignored: the largest value
    with pytest.raises(UsageError, match="diversity"):
        GANConfig(diversity=-1.0)


def test_ema_update_is_the_weighted_average_and_copies_buffers():
    torch.manual_seed(0)
    net = DCGANGenerator(z_dim=4, width=4, size=8)
    ema = DCGANGenerator(z_dim=4, width=4, size=8)
    before = [p.detach().clone() for p in ema.parameters()]
    with torch.no_grad():
        net(torch.randn(6, 4))                                           # moves the batch-norm running statistics
    ema_update(ema, net, 0.9)
    for e, b, p in zip(ema.parameters(), before, net.parameters()):
        assert torch.allclose(e, 0.9 * b + 0.1 * p, atol=1e-7)
    for e, b in zip(ema.buffers(), net.buffers()):
        assert torch.equal(e, b)


def test_dihedral_augment_turns_each_map_by_a_symmetry_and_passes_gradients():
    x = torch.rand(16, 2, 8, 8, requires_grad=True)
    out = dihedral_augment(x, torch.Generator().manual_seed(0))
    orbits = [{tuple(torch.rot90(x[i], r, (-2, -1)).flip(-1).flatten().tolist()) if f else
               tuple(torch.rot90(x[i], r, (-2, -1)).flatten().tolist()) for f in (0, 1) for r in range(4)}
              for i in range(16)]
    assert all(tuple(out[i].flatten().tolist()) in orbits[i] for i in range(16))
    assert len({tuple(out[i].flatten().tolist()) == tuple(x[i].flatten().tolist()) for i in range(16)}) == 2
    w = torch.rand(16, 2, 8, 8)
    (grad,) = torch.autograd.grad((out * w).sum(), x)                     # a permutation: grad = w moved back
    assert torch.allclose(grad.sum(), w.sum()) and sorted(grad.flatten().tolist()) == sorted(w.flatten().tolist())
    again = dihedral_augment(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_augmented_conditional_training_with_minibatch_std_is_seeded():
    def run():
        torch.manual_seed(0)
        g = DCGANGenerator(z_dim=8, width=4, size=8, num_classes=3)
        d = DCGANDiscriminator(width=4, size=8, num_classes=3, spectral_norm=True, minibatch_std=True)
        x = (torch.rand(48, 2, 8, 8, generator=torch.Generator().manual_seed(1)) > 0.5).float()
        cfg = GANConfig(loss="hinge", epochs=2, batch_size=16, augment=True, ema=0.99, diversity=1.0, device="cpu",
                        progress=False, verbose=False)
        return train_gan(g, d, x, cfg, labels=np.arange(48) % 3)
    a, b = run(), run()
    assert a.history == b.history and np.isfinite(a.history[-1]["g_loss"])
    assert torch.equal(sample(a.sampler, 5, labels=1, seed=3), sample(b.sampler, 5, labels=1, seed=3))
    assert not torch.equal(sample(a.generator_ema, 5, labels=1, seed=3), sample(a.generator, 5, labels=1, seed=3))
