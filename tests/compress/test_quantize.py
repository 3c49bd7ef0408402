"""int8 quantization (lecture 12): the affine maths against torch, PTQ and QAT close to float, no-pickle round trip.

Run: .venv/bin/python -m pytest tests/compress/test_quantize.py -q
"""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch

from deepfab.compress import (
    affine_qparams,
    affine_quantize,
    convert_qat,
    freeze_qat,
    load_state,
    logit_gap,
    prepare_qat,
    quantize_int8,
    quantized_skeleton,
)
from deepfab.errors import DataError, UsageError
from deepfab.models import ResNet, SlimResNet
from deepfab.train import TrainConfig, fit

torch.set_num_threads(1)


def trained_like(net, seed=0):
    torch.manual_seed(seed)
    net.train()
    with torch.no_grad():
        net(torch.rand(32, 2, 32, 32))
    return net.eval()


def test_affine_quantization_matches_torch_and_the_rounding_bound():
    x = torch.linspace(-1.3, 2.1, 1001)
    scale, zero = affine_qparams(float(x.min()), float(x.max()))
    q, x_hat = affine_quantize(x, scale, zero)
    with warnings.catch_warnings():           # torch's quantized tensors are deprecated (warned once per process)
        warnings.simplefilter("ignore", UserWarning)
        ref = torch.quantize_per_tensor(x, scale, zero, torch.quint8)
    diff = q.numpy() - ref.int_repr().numpy().astype(np.int64)
    frac = np.abs(np.modf(x.double().numpy() / scale)[0])
    tie = np.abs(frac - 0.5) < 1e-4                                        # x / S at k + 1/2: float rounding decides
    assert np.all(diff[~tie] == 0) and np.all(np.abs(diff[tie]) <= 1) and (~tie).sum() > 900
    torch.testing.assert_close(x_hat[~torch.from_numpy(tie)], ref.dequantize()[~torch.from_numpy(tie)], rtol=0,
                               atol=1e-6)
    assert float((x - x_hat).abs().max()) <= scale / 2 + 1e-6            # inside the range: at most S / 2
    assert float(affine_quantize(torch.zeros(1), scale, zero)[1]) == 0.0  # zero is exact
    _, far = affine_quantize(torch.tensor([10.0]), scale, zero)           # outside: clipped to the range end
    assert float(far) == pytest.approx(2.1, abs=scale)


def test_ptq_logits_close_to_float_and_smaller_state():
    net = trained_like(ResNet(width=8))
    x = torch.rand(64, 2, 32, 32)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    q = quantize_int8(net, x)
    gap = logit_gap(net, q, x)
    assert gap["relative"] < 0.05 and gap["argmax_agree"] >= 0.9, gap
    for k, v in net.state_dict().items():                                  # the input net is unchanged
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    sizes = []
    for m in (net, q):
        buf = io.BytesIO()
        torch.save(m.state_dict(), buf)
        sizes.append(len(buf.getvalue()))
    assert sizes[1] < 0.4 * sizes[0]


def test_state_dict_round_trip_without_pickle_gives_identical_outputs():
    net = trained_like(SlimResNet(stem=6, widths=(6, 12), inner=((4,), (9,))), seed=1)
    x = torch.rand(40, 2, 32, 32)
    q = quantize_int8(net, x)
    buf = io.BytesIO()
    torch.save({"config": net.config, "state": q.state_dict()}, buf)
    buf.seek(0)
    ck = load_state(buf)                                                   # weights_only=True
    skeleton = quantized_skeleton(SlimResNet(**{k: v for k, v in ck["config"].items() if k != "arch"}), x[:1])
    with torch.no_grad():
        assert not torch.equal(skeleton(x), q(x))                          # placeholder values before loading
        skeleton.load_state_dict(ck["state"])
        torch.testing.assert_close(skeleton(x), q(x), rtol=0, atol=0)


def test_qat_trains_and_converts_to_what_its_fake_quantizers_simulated():
    torch.manual_seed(0)
    X = torch.rand(96, 2, 16, 16)
    y = (X[:, 1].mean((1, 2)) > 0.5).long()
    net = trained_like(SlimResNet(num_classes=2, stem=4, widths=(4, 8), inner=((4,), (8,))))
    qat = prepare_qat(net, X[:1])
    res = fit(qat, (X, y), None, TrainConfig(epochs=2, batch_size=32, lr=1e-2, progress=False, device="cpu"))
    assert np.isfinite(res.history[-1]["train_loss"])
    freeze_qat(qat)
    q = convert_qat(qat)
    gap = logit_gap(qat, q, X)                                             # fake-quant float vs real int8
    assert gap["relative"] < 0.15 and gap["argmax_agree"] >= 0.95, gap     # small logits: a few int8 steps
    buf = io.BytesIO()
    torch.save(q.state_dict(), buf)
    buf.seek(0)
    sk = quantized_skeleton(net, X[:1])                                    # QAT and PTQ share one structure
    sk.load_state_dict(load_state(buf))
    with torch.no_grad():
        torch.testing.assert_close(sk(X), q(X), rtol=0, atol=0)


def test_bad_arguments_raise():
    net = ResNet(width=4)
    with pytest.raises(DataError, match="calibration"):
        quantize_int8(net, torch.zeros(0, 2, 16, 16))
    with pytest.raises(DataError, match="calibration"):
        quantize_int8(net, np.zeros((2, 2, 16, 16)))
    with pytest.raises(UsageError, match="GraphModule"):
        convert_qat(net)
