"""dlzh.train.amp：混合精度设置的解析，以及 bf16 autocast 在训练循环中的效果。"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import Callback, fit, resolve_amp


def _data(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 2, (n,), generator=g)


def test_bf16_autocast_on_cpu_keeps_fp32_parameters():
    x, y = _data(32)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    dtypes = []

    class Peek(Callback):
        def on_batch_end(self, state):
            dtypes.append(state.outputs.dtype)

    history = fit(
        model,
        TensorLoader(x, y, 8),
        3,
        amp="bf16",
        callbacks=[Peek()],
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        verbose=False,
    )
    assert set(dtypes) == {torch.bfloat16}  # 线性层在 autocast 下以 bf16 计算
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_amp_choices_are_validated():
    cpu = torch.device("cpu")
    assert not resolve_amp(None, cpu).enabled
    assert not resolve_amp("auto", cpu).enabled
    assert (
        resolve_amp("bf16", cpu).dtype == torch.bfloat16 and not resolve_amp("bf16", cpu).use_scaler
    )
    with pytest.raises(ValueError, match="CUDA"):
        resolve_amp("fp16", cpu)
    with pytest.raises(ValueError, match="amp"):
        resolve_amp("fp8", cpu)


def test_auto_on_cuda_picks_bf16_or_fp16_with_scaler(monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    bf16 = resolve_amp("auto", cuda)
    assert (bf16.dtype, bf16.use_scaler, bf16.label) == (torch.bfloat16, False, "bf16")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    fp16 = resolve_amp("auto", cuda)
    assert (fp16.dtype, fp16.use_scaler, fp16.label) == (torch.float16, True, "fp16")
    assert resolve_amp(None, cuda).label == "fp32"
