"""扩散模型的去噪网络：输入带噪声的 x_t 和时间步 t，输出预测的噪声（与 x_t 同形）。

- :func:`timestep_embedding`：时间步的正弦编码，与 Transformer 的位置编码同一个公式，
  让网络知道“现在的噪声有多大”。
- :class:`MLPDenoiser`：二维点云用的小多层感知机，每一层都加上时间步的编码。
- :class:`UNet`：图像用的小 U-Net（Ronneberger 等 2015；DDPM 用的是它的加宽版）：
  下采样路径逐级减半分辨率、加倍通道，上采样路径再放大回来，并通过跳跃连接拼接同分辨率的特征，
  所以输出既有全局的结构，又保留像素级的细节。每个残差块都加上时间步的编码。
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["MLPDenoiser", "ResBlock", "UNet", "timestep_embedding"]


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """时间步 ``t``（形状 ``(B,)``）的正弦编码 ``(B, dim)``：前一半是 sin，后一半是 cos。

    第 i 个频率是 :math:`\\text{max\\_period}^{-i/(dim/2)}`，从 1 到接近 1/max_period，
    相邻时间步的编码接近、相距远的不同。``dim`` 必须是偶数。
    """
    if dim % 2:
        raise ValueError(f"dim 必须是偶数，收到 {dim} / dim must be even")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)  # (h,)
    args = t.float()[:, None] * freqs[None, :]  # (B, h)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)  # (B, dim)


class MLPDenoiser(nn.Module):
    """二维（或任意 ``dim`` 维）数据的噪声预测网络：带残差的多层感知机，每层加时间编码。"""

    def __init__(
        self, dim: int = 2, num_hiddens: int = 128, num_layers: int = 3, time_dim: int = 32
    ) -> None:
        super().__init__()
        self.time_dim = time_dim
        self.input = nn.Linear(dim, num_hiddens)
        self.time_proj = nn.ModuleList(nn.Linear(time_dim, num_hiddens) for _ in range(num_layers))
        self.layers = nn.ModuleList(nn.Linear(num_hiddens, num_hiddens) for _ in range(num_layers))
        self.output = nn.Linear(num_hiddens, dim)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        emb = timestep_embedding(t, self.time_dim)  # (B, time_dim)
        h = self.input(x)  # (B, H)
        for layer, proj in zip(self.layers, self.time_proj, strict=True):
            h = h + layer(F.silu(h + proj(emb)))  # (B, H)：残差让深一点的网络也好训练
        return self.output(F.silu(h))  # (B, dim)


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    # 组归一化不依赖批量大小（采样时批量可能很小）；通道数不能被整除时退到更少的组。
    return nn.GroupNorm(math.gcd(groups, channels), channels)


class ResBlock(nn.Module):
    """两个 3x3 卷积的残差块；时间编码经线性层变成每个通道的偏移，加在两层之间。"""

    def __init__(self, in_channels: int, out_channels: int, time_dim: int, groups: int = 8):
        super().__init__()
        self.norm1 = _norm(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_proj = nn.Linear(time_dim, out_channels)
        self.norm2 = _norm(out_channels, groups)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = h + self.time_proj(emb)[:, :, None, None]  # 每个通道加上由时间步决定的偏移
        h = self.conv2(F.silu(self.norm2(h)))  # (B, C_out, H, W)
        return h + self.skip(x)


class UNet(nn.Module):
    """小 U-Net：``channel_mults`` 的每一项是一级分辨率（通道数为 ``base_channels`` 的倍数）。

    每一级一个残差块；级与级之间用步幅 2 的卷积下采样、最近邻插值加卷积上采样，
    所以输入边长要能被 ``2**(级数-1)`` 整除（28 和 16 对两到三级都可以）。
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_channels: int = 32,
        channel_mults: Sequence[int] = (1, 2, 2),
        groups: int = 8,
    ) -> None:
        super().__init__()
        self.base_channels = base_channels
        time_dim = 4 * base_channels
        self.time_mlp = nn.Sequential(
            nn.Linear(base_channels, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim)
        )
        self.stem = nn.Conv2d(in_channels, base_channels, 3, padding=1)
        widths = [base_channels * m for m in channel_mults]
        self.down_blocks, self.downsample = nn.ModuleList(), nn.ModuleList()
        channels = base_channels
        for i, width in enumerate(widths):
            self.down_blocks.append(ResBlock(channels, width, time_dim, groups))
            channels = width
            if i < len(widths) - 1:
                self.downsample.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
        self.mid = ResBlock(channels, channels, time_dim, groups)
        self.up_blocks, self.upsample = nn.ModuleList(), nn.ModuleList()
        for i, width in reversed(list(enumerate(widths))):
            self.up_blocks.append(ResBlock(channels + width, width, time_dim, groups))
            channels = width
            if i > 0:
                self.upsample.append(nn.Conv2d(width, widths[i - 1], 3, padding=1))
                channels = widths[i - 1]
        self.out_norm = _norm(channels, groups)
        self.out_conv = nn.Conv2d(channels, in_channels, 3, padding=1)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.base_channels))  # (B, 4C)
        h = self.stem(x)  # (B, C, H, W)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, emb)  # (B, C_i, H_i, W_i)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)  # 分辨率减半
        h = self.mid(h, emb)
        for i, block in enumerate(self.up_blocks):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)  # 跳跃连接：拼接同分辨率的特征
            if i < len(self.upsample):
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")  # 分辨率加倍
                h = self.upsample[i](h)
        return self.out_conv(F.silu(self.out_norm(h)))  # (B, in_channels, H, W)
