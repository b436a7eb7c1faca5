import math

import pytest
import torch

from dlzh.diffusion import energy_distance, s_curve


def test_s_curve_points_lie_on_the_projected_sklearn_curve():
    clean = s_curve(2000, noise=0.0, seed=1).double()
    assert clean.shape == (2000, 2)
    x, z = clean[:, 0], clean[:, 1]
    # make_s_curve：x = sin u，z = sign(u)(cos u − 1)，u ∈ [−3π/2, 3π/2]。
    # 于是 |z| = 1 − cos u，sin²u + cos²u = 1 给出 x² + (1 − |z|)² = 1；z 与 u 同号。
    assert bool((x.abs() <= 1 + 1e-9).all()) and bool((z.abs() <= 2 + 1e-9).all())
    torch.testing.assert_close(x**2 + (1 - z.abs()) ** 2, torch.ones_like(x), atol=1e-6, rtol=0)
    # 两个“弯”都有点：z 的正负各约一半
    assert 0.4 < (z > 0).double().mean().item() < 0.6


def test_s_curve_is_reproducible_and_noise_scales():
    assert torch.equal(s_curve(10, seed=3), s_curve(10, seed=3))
    assert not torch.equal(s_curve(10, seed=3), s_curve(10, seed=4))
    clean, noisy = s_curve(500, 0.0, seed=0), s_curve(500, 0.1, seed=0)
    # 同一个种子先抽参数 u，噪声之间的差的标准差约等于 noise
    assert (noisy - clean).std().item() == pytest.approx(0.1, rel=0.15)


def reference_energy(x, y):
    def mean_dist(a, b):
        return sum(math.dist(p, q) for p in a for q in b) / (len(a) * len(b))

    x, y = x.tolist(), y.tolist()
    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def test_energy_distance_matches_the_definition_and_separates_distributions():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 2, generator=g), torch.randn(20, 2, generator=g) + 1
    assert energy_distance(x, y) == pytest.approx(reference_energy(x, y), rel=1e-9)
    assert energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    assert energy_distance(x, y) == pytest.approx(energy_distance(y, x), rel=1e-12)
    same = energy_distance(torch.randn(400, 2, generator=g), torch.randn(400, 2, generator=g))
    shifted = energy_distance(
        torch.randn(400, 2, generator=g), torch.randn(400, 2, generator=g) + 1
    )
    assert shifted > 10 * same
