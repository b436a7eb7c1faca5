"""噪声调度对照闭式解，前向加噪与反向一步对照 diffusers 的 DDPMScheduler（同一组 β）。"""

import math

import pytest
import torch

from dlzh.diffusion import NoiseSchedule, linear_betas, sample

diffusers = pytest.importorskip("diffusers")


def reference(num_steps, start, end, float64=False, clip=False):
    """diffusers 的调度器（不裁剪 x_0，方差取后验方差 β̃_t，与论文和本书相同）。

    diffusers 用 float32 连乘 ᾱ_t：t 很小时 1-ᾱ_t 只有约 1e-4，相减的舍入误差被放大到 1e-5。
    ``float64=True`` 时把它的 β、α、ᾱ 换成 float64，检验的仍是它的 add_noise/step 公式，
    只是去掉了 float32 连乘的误差，这样才能比较到 1e-6。
    """
    ref = diffusers.DDPMScheduler(
        num_train_timesteps=num_steps,
        beta_start=start,
        beta_end=end,
        beta_schedule="linear",
        clip_sample=clip,
        clip_sample_range=1.0,
        variance_type="fixed_small",
    )
    if float64:
        ref.betas = torch.linspace(start, end, num_steps, dtype=torch.float64)
        ref.alphas = 1.0 - ref.betas
        ref.alphas_cumprod = torch.cumprod(ref.alphas, dim=0)
    return ref


def test_linear_betas_are_the_papers_and_scale_with_the_number_of_steps():
    betas = linear_betas(1000)
    assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02)
    short = linear_betas(100)
    assert short[0].item() == pytest.approx(1e-3) and short[-1].item() == pytest.approx(0.2)
    # 缩放后，少步数的调度最后也几乎只剩噪声：ᾱ_T 与 T=1000 时同一个量级。
    ab_short = torch.prod(1 - short).item()
    ab_long = torch.prod(1 - betas).item()
    assert ab_short < 1e-4 and ab_long < 1e-4
    assert torch.prod(1 - linear_betas(100, 1e-4, 0.02)).item() > 0.3


def test_schedule_quantities_match_closed_forms():
    s = NoiseSchedule.linear(50)
    betas = s.betas.double()
    for t in (0, 1, 17, 49):
        ab = math.prod(1 - b for b in betas[: t + 1].tolist())
        assert s.alpha_bars[t].item() == pytest.approx(ab, rel=1e-6)
        ab_prev = math.prod(1 - b for b in betas[:t].tolist())
        assert s.alpha_bars_prev[t].item() == pytest.approx(ab_prev, rel=1e-6)
        expected = betas[t].item() * (1 - ab_prev) / (1 - ab)
        assert s.posterior_variance[t].item() == pytest.approx(expected, rel=1e-5, abs=1e-12)
    assert s.posterior_variance[0].item() == 0.0  # 第一步的后验是确定的：x_0 已知
    # β̃_t ≤ β_t：后验方差不大于前向一步的方差
    assert bool((s.posterior_variance <= s.betas + 1e-9).all())


def test_rejects_betas_outside_the_unit_interval():
    with pytest.raises(ValueError):
        NoiseSchedule(torch.tensor([0.1, 1.0]))


@pytest.mark.parametrize(("num_steps", "start", "end"), [(1000, 1e-4, 0.02), (100, 1e-3, 0.2)])
def test_schedule_and_add_noise_match_diffusers(num_steps, start, end):
    ours = NoiseSchedule.linear(num_steps, start, end)
    torch.testing.assert_close(
        ours.alpha_bars, reference(num_steps, start, end).alphas_cumprod, atol=1e-6, rtol=0
    )
    ref = reference(num_steps, start, end, float64=True)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(8, 1, 4, 4, generator=g)
    noise = torch.randn(8, 1, 4, 4, generator=g)
    t = torch.tensor([0, 1, 5, num_steps // 2, num_steps - 2, num_steps - 1, 3, 7])
    expected = ref.add_noise(x0.double(), noise.double(), t)
    torch.testing.assert_close(ours.add_noise(x0, t, noise).double(), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("t", [0, 1, 10, 500, 999])
def test_reverse_step_matches_diffusers_step(t):
    ours, ref = NoiseSchedule.linear(1000), reference(1000, 1e-4, 0.02, float64=True)
    g = torch.Generator().manual_seed(t)
    xt = torch.randn(4, 2, generator=g)
    eps = torch.randn(4, 2, generator=g)
    # diffusers 在 t>0 时用 generator 抽一次标准正态噪声；用同一个种子复现它。
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(123), dtype=torch.float64)
    expected = ref.step(
        eps.double(), t, xt.double(), generator=torch.Generator().manual_seed(123)
    ).prev_sample
    got = ours.reverse_step(xt, t, eps, noise=z.float())
    torch.testing.assert_close(got.double(), expected, atol=1e-6, rtol=0)
    # t=0 时两边都只取均值，不加噪声
    _, var = ours.reverse_mean_variance(xt, torch.full((4,), t), eps)
    ref_var = ref._get_variance(t) if t > 0 else torch.tensor(0.0, dtype=torch.float64)
    torch.testing.assert_close(var[0, 0].double(), ref_var, atol=1e-6, rtol=1e-5)


def test_reverse_mean_equals_posterior_mean_at_the_predicted_x0():
    s = NoiseSchedule.linear(100)
    g = torch.Generator().manual_seed(1)
    xt, eps = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    t = torch.tensor([1, 2, 30, 60, 98, 99])
    mean, var = s.reverse_mean_variance(xt, t, eps)
    post_mean, post_var = s.posterior_mean_variance(s.predict_x0(xt, t, eps), xt, t)
    torch.testing.assert_close(mean, post_mean, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(var, post_var)


def test_sample_with_the_true_noise_of_a_point_mass_recovers_it():
    """数据只有一个点 c 时，最优的噪声预测是 (x_t - √ᾱ_t c)/√(1-ᾱ_t)：采样应回到 c。"""
    s = NoiseSchedule.linear(50)
    c = torch.tensor([1.5, -0.5])

    def oracle(x, t):
        ab = s.alpha_bars[t][:, None]
        return (x - ab.sqrt() * c) / (1 - ab).sqrt()

    x0, kept = sample(
        oracle, s, (16, 2), generator=torch.Generator().manual_seed(0), keep=(50, 25, 0)
    )
    torch.testing.assert_close(x0, c.expand(16, 2), atol=1e-4, rtol=0)
    assert sorted(kept) == [0, 25, 50]
    torch.testing.assert_close(kept[0], x0)
    assert kept[50].std() > 0.5  # 起点是标准正态噪声
    again, _ = sample(oracle, s, (16, 2), generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, x0)


@pytest.mark.parametrize("t", [0, 3, 700])
def test_reverse_step_with_clipping_matches_diffusers_clip_sample(t):
    ours = NoiseSchedule.linear(1000)
    ref = reference(1000, 1e-4, 0.02, float64=True, clip=True)
    g = torch.Generator().manual_seed(t)
    xt = 3 * torch.randn(4, 1, 3, 3, generator=g)  # 大到 x_0 的估计一定会被裁剪
    eps = torch.randn(4, 1, 3, 3, generator=g)
    z = torch.randn(4, 1, 3, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    expected = ref.step(
        eps.double(), t, xt.double(), generator=torch.Generator().manual_seed(5)
    ).prev_sample
    got = ours.reverse_step(xt, t, eps, noise=z.float(), clip=1.0)
    torch.testing.assert_close(got.double(), expected, atol=1e-6, rtol=0)
    unclipped = ours.reverse_step(xt, t, eps, noise=z.float())
    assert not torch.allclose(got, unclipped)
