"""从零实现的归一化层：复制参数后与 torch.nn 的对应层逐元素一致（atol 1e-5）。"""

import pytest
import torch
from torch import nn

from dlzh.models import BatchNormScratch, GroupNormScratch, InstanceNormScratch, LayerNormScratch

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _randomize_affine(module: nn.Module, seed: int) -> None:
    """把 weight/bias 设成非平凡的值，否则 gamma=1、beta=0 检查不出仿射部分的错误。"""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))


@pytest.mark.parametrize(
    ("ref_cls", "num_dims", "shape"),
    [(nn.BatchNorm1d, 2, (16, 6)), (nn.BatchNorm2d, 4, (8, 6, 5, 5))],
)
def test_batch_norm_matches_torch_in_train_and_eval(ref_cls, num_dims, shape):
    ref = ref_cls(6)
    _randomize_affine(ref, 0)
    ours = BatchNormScratch(6, num_dims=num_dims)
    ours.load_state_dict(ref.state_dict())
    g = torch.Generator().manual_seed(1)
    for step in range(5):
        # 每一步的输入分布不同，滑动平均才会有可检查的变化。
        x = 3.0 * torch.randn(shape, generator=g) + step
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_ref, out_ours = ref(a), ours(b)
        torch.testing.assert_close(out_ours, out_ref, **TOL)
        grad = torch.randn(shape, generator=g)
        out_ref.backward(grad)
        out_ours.backward(grad)
        torch.testing.assert_close(b.grad, a.grad, **TOL)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, **TOL)
    torch.testing.assert_close(ours.running_var, ref.running_var, **TOL)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 5
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, **TOL)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad, **TOL)
    # 评估模式：用滑动统计量，单个样本也能预测，且不再更新统计量。
    ref.eval()
    ours.eval()
    x = torch.randn((1, *shape[1:]), generator=g)
    torch.testing.assert_close(ours(x), ref(x), **TOL)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, **TOL)
    assert int(ours.num_batches_tracked) == 5


def test_batch_norm_running_var_uses_unbiased_variance():
    bn = BatchNormScratch(1, num_dims=2, momentum=1.0)  # momentum=1：滑动值等于当前批量的值
    x = torch.tensor([[1.0], [2.0], [3.0], [6.0]])
    out = bn(x)
    assert bn.running_var.item() == pytest.approx(x.var(unbiased=True).item())
    assert bn.running_mean.item() == pytest.approx(3.0)
    # 归一化本身用有偏方差：输出的有偏方差约为 1。
    assert out.var(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError):
        bn(torch.randn(2, 1, 3, 3))
    with pytest.raises(ValueError):
        BatchNormScratch(3, num_dims=3)


@pytest.mark.parametrize("normalized_shape", [8, (4, 5, 5)])
def test_layer_norm_matches_torch(normalized_shape):
    ref = nn.LayerNorm(normalized_shape)
    _randomize_affine(ref, 0)
    ours = LayerNormScratch(normalized_shape)
    ours.load_state_dict(ref.state_dict())
    shape = (3, 7, 8) if normalized_shape == 8 else (3, 4, 5, 5)
    x = 2.0 * torch.randn(shape, generator=torch.Generator().manual_seed(1)) + 1.0
    torch.testing.assert_close(ours(x), ref(x), **TOL)
    plain = LayerNormScratch(normalized_shape, elementwise_affine=False)
    torch.testing.assert_close(
        plain(x), nn.LayerNorm(normalized_shape, elementwise_affine=False)(x), **TOL
    )


@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_matches_torch(affine):
    ref = nn.InstanceNorm2d(6, affine=affine)
    _randomize_affine(ref, 0)
    ours = InstanceNormScratch(6, affine=affine)
    ours.load_state_dict(ref.state_dict())
    assert len(list(ours.parameters())) == (2 if affine else 0)
    x = 2.0 * torch.randn(4, 6, 7, 7, generator=torch.Generator().manual_seed(1)) - 1.0
    for mode in ("train", "eval"):  # 默认不记录滑动统计量：两种模式的计算相同
        getattr(ref, mode)()
        getattr(ours, mode)()
        torch.testing.assert_close(ours(x), ref(x), **TOL)


@pytest.mark.parametrize("num_groups", [1, 2, 3, 6])
def test_group_norm_matches_torch(num_groups):
    ref = nn.GroupNorm(num_groups, 6)
    _randomize_affine(ref, 0)
    ours = GroupNormScratch(num_groups, 6)
    ours.load_state_dict(ref.state_dict())
    x = 2.0 * torch.randn(4, 6, 5, 5, generator=torch.Generator().manual_seed(1)) + 0.5
    torch.testing.assert_close(ours(x), ref(x), **TOL)
    with pytest.raises(ValueError):
        GroupNormScratch(4, 6)


def test_group_norm_interpolates_between_layer_and_instance_norm():
    x = torch.randn(2, 6, 4, 4, generator=torch.Generator().manual_seed(0))
    one_group = GroupNormScratch(1, 6, affine=False)(x)
    per_channel = GroupNormScratch(6, 6, affine=False)(x)
    torch.testing.assert_close(
        one_group, LayerNormScratch((6, 4, 4), elementwise_affine=False)(x), **TOL
    )
    torch.testing.assert_close(per_channel, InstanceNormScratch(6)(x), **TOL)
