"""混合精度技巧：autocast 的类型、fp16 下溢、GradScaler、裁剪前反缩放，以及 perf 工具。"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dlzh.perf import peak_memory_mb, train_step_fn


def test_bf16_autocast_on_cpu_casts_ops_not_parameters():
    layer = nn.Linear(8, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = layer(torch.randn(2, 8))
        loss = F.cross_entropy(logits, torch.tensor([0, 3]))
    loss.backward()
    assert logits.dtype == torch.bfloat16
    assert loss.dtype == torch.float32
    assert layer.weight.dtype == torch.float32 and layer.weight.grad.dtype == torch.float32


def test_fp16_underflow_is_fixed_by_loss_scaling_and_absent_in_bf16():
    g = torch.tensor(1e-8)
    assert g.half().item() == 0.0
    scaled = (g * 65536).half()
    assert scaled.item() > 0
    assert scaled.float().item() / 65536 == pytest.approx(1e-8, rel=1e-3)
    assert g.bfloat16().item() == pytest.approx(1e-8, rel=1e-2)
    assert torch.isinf(torch.tensor(70000.0).half())


def test_grad_scaler_defaults_and_inf_step_is_skipped():
    w = nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    assert scaler.get_scale() == 65536.0
    assert scaler.get_growth_interval() == 2000 and scaler.get_backoff_factor() == 0.5
    scaler.scale((w * torch.tensor([1.0, float("inf"), 1.0])).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert torch.equal(w.detach(), torch.ones(3))
    assert scaler.get_scale() == 32768.0


def _clipped_update(use_scaler: bool, unscale_first: bool) -> tuple[float, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Linear(16, 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    before = [p.detach().clone() for p in net.parameters()]
    scaler = torch.amp.GradScaler("cpu", enabled=use_scaler)
    scaler.scale(net(10 * torch.randn(32, 16)).pow(2).mean()).backward()
    if unscale_first:
        scaler.unscale_(opt)
    norm = nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    scaler.step(opt)
    update = torch.cat(
        [(p.detach() - b).flatten() for p, b in zip(net.parameters(), before, strict=True)]
    )
    return norm.item(), update


def test_unscale_before_clipping_gives_the_fp32_clipped_update():
    norm_ref, ref = _clipped_update(use_scaler=False, unscale_first=False)
    norm_ok, ok = _clipped_update(use_scaler=True, unscale_first=True)
    norm_bad, bad = _clipped_update(use_scaler=True, unscale_first=False)
    assert norm_ref > 1.0  # 确实发生了裁剪
    assert norm_ok == pytest.approx(norm_ref, rel=1e-6)
    torch.testing.assert_close(ok, ref, atol=1e-7, rtol=0)
    assert norm_bad == pytest.approx(norm_ref * 65536, rel=1e-5)
    assert bad.norm() < ref.norm() / 1e4


def _toy_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(256, 20, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    return model, X, y


@pytest.mark.parametrize(
    ("amp_dtype", "use_scaler"),
    [(None, False), (torch.bfloat16, False), (torch.float16, True)],
)
def test_train_step_fn_learns_and_keeps_fp32_parameters(amp_dtype, use_scaler):
    model, X, y = _toy_problem()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("cpu") if use_scaler else None
    step = train_step_fn(model, X, y, opt, amp_dtype=amp_dtype, scaler=scaler, max_norm=1.0)
    losses = [step().item() for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_train_step_fn_fp32_equals_a_hand_written_step():
    model, X, y = _toy_problem()
    twin, _, _ = _toy_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    train_step_fn(model, X, y, opt)()
    twin_opt.zero_grad()
    F.cross_entropy(twin(X), y).backward()
    twin_opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_peak_memory_is_none_on_cpu_but_the_function_runs():
    calls = []
    assert peak_memory_mb(lambda: calls.append(1), "cpu") is None
    assert calls == [1]


def test_matmul_precision_defaults_to_full_fp32():
    assert torch.get_float32_matmul_precision() == "highest"
