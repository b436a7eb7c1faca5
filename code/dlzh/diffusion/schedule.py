"""DDPM 的噪声调度、前向加噪与反向去噪一步，以及完整的采样循环。

记号与 Ho 等人（2020）的论文相同：第 t 步加入方差为 :math:`\\beta_t` 的高斯噪声，
:math:`\\alpha_t = 1-\\beta_t`，:math:`\\bar\\alpha_t = \\prod_{s\\le t}\\alpha_s`。
代码里的时间步从 0 开始编号：下标 ``t`` 对应论文的第 t+1 步，``t=0`` 是第一次加噪。

- 前向过程有闭式解 :math:`q(x_t|x_0)=\\mathcal N(\\sqrt{\\bar\\alpha_t}x_0,(1-\\bar\\alpha_t)I)`，
  所以训练时可以直接跳到任意一步（:meth:`NoiseSchedule.add_noise`），不必逐步加噪。
- 反向一步用网络预测的噪声 :math:`\\epsilon_\\theta` 算出均值，方差取后验方差
  :math:`\\tilde\\beta_t`（:meth:`NoiseSchedule.reverse_mean_variance`）。
- 调度中的量先用 float64 计算再转成 float32：连乘 1000 个数时，float32 的舍入误差会积累。
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["NoiseSchedule", "linear_betas", "sample"]

EpsModel = Callable[[Tensor, Tensor], Tensor]


def linear_betas(
    num_steps: int, beta_start: float | None = None, beta_end: float | None = None
) -> Tensor:
    """线性调度：:math:`\\beta_t` 从 ``beta_start`` 均匀增加到 ``beta_end``（float64）。

    论文用 T=1000、1e-4 到 0.02。不给端点时按 ``1000/num_steps`` 缩放这两个值
    （Nichol 与 Dhariwal 2021 的做法）：步数少时每步的噪声相应加大，最后一步仍几乎是纯噪声；
    若 T=100 仍用 1e-4..0.02，:math:`\\bar\\alpha_T` 约为 0.37，终点远不是标准正态分布。
    """
    scale = 1000 / num_steps
    start = scale * 1e-4 if beta_start is None else beta_start
    end = scale * 0.02 if beta_end is None else beta_end
    return torch.linspace(start, end, num_steps, dtype=torch.float64)


def _gather(values: Tensor, t: Tensor, ndim: int) -> Tensor:
    """取出每个样本的时间步对应的系数，并补上维度以便与 ``(B, ...)`` 的张量广播。"""
    out = values.to(t.device)[t]  # (B,)
    return out.reshape(-1, *([1] * (ndim - 1)))  # (B, 1, ..., 1)


@dataclass
class NoiseSchedule:
    """由一组 :math:`\\beta_t` 导出的全部系数（长度都是 T，float32）。"""

    betas: Tensor

    def __post_init__(self) -> None:
        betas = self.betas.double()
        if betas.ndim != 1 or not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("betas 必须是 (0, 1) 之间的一维序列 / betas must lie in (0, 1)")
        alphas = 1 - betas
        alpha_bars = torch.cumprod(alphas, dim=0)
        alpha_bars_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bars[:-1]])
        f32 = torch.float32
        self.betas = betas.to(f32)
        self.alphas = alphas.to(f32)
        self.alpha_bars = alpha_bars.to(f32)
        self.alpha_bars_prev = alpha_bars_prev.to(f32)
        # √ᾱ_t 与 √(1-ᾱ_t) 也在 float64 中算好：t 很小时 1-ᾱ_t 约为 1e-4，若在 float32 里由 ᾱ_t
        # 相减得到，相对误差会被放大到 1e-3 量级。
        self.sqrt_alpha_bars = alpha_bars.sqrt().to(f32)
        self.sqrt_one_minus_alpha_bars = (1 - alpha_bars).sqrt().to(f32)
        # 后验 q(x_{t-1} | x_t, x_0) 的方差 β̃_t 与均值的两个系数（论文式 (7)）。
        self.posterior_variance = (betas * (1 - alpha_bars_prev) / (1 - alpha_bars)).to(f32)
        self.posterior_coef_x0 = (betas * alpha_bars_prev.sqrt() / (1 - alpha_bars)).to(f32)
        self.posterior_coef_xt = ((1 - alpha_bars_prev) * alphas.sqrt() / (1 - alpha_bars)).to(f32)
        # 由预测的噪声算反向均值时用到的系数：μ = (x_t - β_t/√(1-ᾱ_t) ε) / √α_t（论文式 (11)）。
        self.eps_coef = (betas / (1 - alpha_bars).sqrt()).to(f32)
        self.inv_sqrt_alphas = alphas.rsqrt().to(f32)

    @classmethod
    def linear(
        cls, num_steps: int, beta_start: float | None = None, beta_end: float | None = None
    ) -> NoiseSchedule:
        return cls(linear_betas(num_steps, beta_start, beta_end))

    @property
    def num_steps(self) -> int:
        return len(self.betas)

    def add_noise(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """从 :math:`q(x_t|x_0)` 采样：:math:`\\sqrt{\\bar\\alpha_t}x_0+\\sqrt{1-\\bar\\alpha_t}\\epsilon`。"""
        signal = _gather(self.sqrt_alpha_bars, t, x0.ndim)  # (B, 1, ...)
        return signal * x0 + _gather(self.sqrt_one_minus_alpha_bars, t, x0.ndim) * noise

    def posterior_mean_variance(self, x0: Tensor, xt: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """后验 :math:`q(x_{t-1}|x_t,x_0)` 的均值和方差：已知 x_0 时，往回一步的最优去噪。"""
        mean = (
            _gather(self.posterior_coef_x0, t, xt.ndim) * x0
            + _gather(self.posterior_coef_xt, t, xt.ndim) * xt
        )
        return mean, _gather(self.posterior_variance, t, xt.ndim)

    def predict_x0(self, xt: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """由 x_t 和（预测的）噪声反解 x_0：前向闭式解倒过来。"""
        noise_scale = _gather(self.sqrt_one_minus_alpha_bars, t, xt.ndim)
        return (xt - noise_scale * eps) / _gather(self.sqrt_alpha_bars, t, xt.ndim)

    def reverse_mean_variance(self, xt: Tensor, t: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        """反向一步 :math:`p_\\theta(x_{t-1}|x_t)` 的均值和方差（方差取 :math:`\\tilde\\beta_t`）。

        均值 :math:`\\frac{1}{\\sqrt{\\alpha_t}}(x_t-\\frac{\\beta_t}{\\sqrt{1-\\bar\\alpha_t}}\\epsilon)`
        与“先用 :meth:`predict_x0` 估计 x_0、再代入后验均值”在代数上相同。
        """
        mean = _gather(self.inv_sqrt_alphas, t, xt.ndim) * (
            xt - _gather(self.eps_coef, t, xt.ndim) * eps
        )
        return mean, _gather(self.posterior_variance, t, xt.ndim)

    def reverse_step(
        self,
        xt: Tensor,
        t: int,
        eps: Tensor,
        noise: Tensor | None = None,
        clip: float | None = None,
    ) -> Tensor:
        """从 :math:`p_\\theta(x_{t-1}|x_t)` 采一个样本；最后一步（t=0）只取均值，不再加噪。

        ``clip`` 给定时（图像取 1.0），先由预测的噪声估计 x_0 并裁剪到 ``[-clip, clip]``，再代入
        后验均值（Ho 等人的代码和 diffusers 的 ``clip_sample`` 都这样做）：没训练好的网络的误差
        会在一步步去噪中累积放大，裁剪让样本留在数据的取值范围里。
        """
        tt = torch.full((xt.shape[0],), t, device=xt.device, dtype=torch.long)
        if clip is None:
            mean, var = self.reverse_mean_variance(xt, tt, eps)
        else:
            x0 = self.predict_x0(xt, tt, eps).clamp(-clip, clip)
            mean, var = self.posterior_mean_variance(x0, xt, tt)
        if t == 0:
            return mean
        noise = torch.randn_like(xt) if noise is None else noise
        return mean + var.sqrt() * noise


@torch.no_grad()
def sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    keep: Sequence[int] = (),
    clip: float | None = None,
) -> tuple[Tensor, dict[int, Tensor]]:
    """DDPM 采样（论文算法 2）：从 :math:`x_T\\sim\\mathcal N(0,I)` 出发，逐步去噪到 :math:`x_0`。

    ``model(x_t, t)`` 返回预测的噪声（``t`` 是从 0 开始的下标）。``keep`` 按论文的编号列出要保留的
    :math:`x_s`：``num_steps`` 是起点的纯噪声 :math:`x_T`，``0`` 是最终的样本 :math:`x_0`；
    返回 ``(x_0, {s: x_s})``（保留的张量在 CPU 上）。``clip`` 见 :meth:`NoiseSchedule.reverse_step`。噪声来自 ``generator``（在 CPU 上生成再搬到设备上，
    所以同一个种子在 CPU 和 GPU 上得到同样的噪声）。
    """
    device = torch.device(device)

    def randn() -> Tensor:
        return torch.randn(*shape, generator=generator).to(device)

    x = randn()
    kept: dict[int, Tensor] = {}
    wanted = set(keep)
    for t in range(schedule.num_steps - 1, -1, -1):
        if t + 1 in wanted:
            kept[t + 1] = x.detach().cpu()
        tt = torch.full((shape[0],), t, device=device, dtype=torch.long)
        eps = model(x, tt)
        x = schedule.reverse_step(x, t, eps, noise=randn() if t > 0 else None, clip=clip)
    if 0 in wanted:
        kept[0] = x.detach().cpu()
    return x, kept
