"""Vision Transformer（ViT）：把图像切成小块，每块当作一个词元，交给 Transformer 编码器。

流程：图像 ``(B, C, H, W)`` -> 切成 ``N = (H/p)(W/p)`` 个 ``p x p`` 的小块，每块线性映射为
``D`` 维（等价于步幅等于核大小的卷积）-> 在最前面拼上一个可学习的“类别词元”-> 加上可学习的
位置嵌入 -> 若干个前归一化的编码器块 -> 最后的层归一化 -> 取类别词元的输出做分类。

类别词元不对应任何图像块，它通过自注意力汇聚所有块的信息，所以它的输出可以代表整张图。
ViT 的位置嵌入是学出来的（不是正弦编码）。与卷积网络相比，ViT 的归纳偏置少得多（只有切块这一步
用到了局部性，平移等变要从数据中学），所以它在小数据上从头训练不如卷积网络，要靠大规模预训练后再微调。

结构与 ``torchvision.models.VisionTransformer`` 一致；:func:`convert_torchvision_vit_state`
把它的 ``state_dict``（包括预训练权重）转换成本模块的参数名，测试据此逐元素对照输出。
"""

from __future__ import annotations

import contextlib
import math
import re
import sys

import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.attention import MultiHeadAttention, convert_torch_attention_state


class PatchEmbedding(nn.Module):
    """把图像切块并线性映射：``(B, C, H, W) -> (B, N, D)``，``N = (H/p) * (W/p)``。

    对每个 ``p x p x C`` 的小块做同一个线性映射，正好是核大小和步幅都为 ``p`` 的卷积。
    """

    def __init__(self, in_channels: int, hidden_dim: int, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, D, H/p, W/p)
        return x.flatten(2).transpose(1, 2)  # (B, N, D)，块按行优先的顺序排列


class ViTBlock(nn.Module):
    """前归一化的编码器块：``x = x + attn(ln(x))``，``x = x + mlp(ln(x))``。

    MLP 是 ``Linear -> GELU -> Dropout -> Linear -> Dropout``，隐藏层通常是 ``hidden_dim`` 的 4 倍。
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_dim, eps=eps)
        self.attn = MultiHeadAttention(hidden_dim, num_heads, dropout=attention_dropout)
        self.dropout = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(hidden_dim, eps=eps)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, hidden_dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        y, _ = self.attn(y, y, y, need_weights=False)  # (B, 1 + N, D)
        x = x + self.dropout(y)
        return x + self.mlp(self.norm2(x))  # (B, 1 + N, D)


class VisionTransformer(nn.Module):
    """从零实现的 ViT，输入 ``(B, in_channels, image_size, image_size)``，输出 ``(B, num_classes)``。

    初始化与 torchvision 相同：位置嵌入 ``N(0, 0.02^2)``，类别词元为 0，切块卷积按
    ``1/fan_in`` 的方差截断正态初始化，MLP 用 Xavier 均匀初始化，分类头全为 0（微调的第一步
    主干收到的梯度为 0，不会被随机分类头传回的梯度打乱预训练的特征）。
    """

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(
                f"image_size={image_size} 不能被 patch_size={patch_size} 整除；请调整图像或块的大小 / "
                "image_size must be divisible by patch_size"
            )
        self.image_size, self.hidden_dim = image_size, hidden_dim
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = PatchEmbedding(in_channels, hidden_dim, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.pos_embed = nn.Parameter(torch.empty(1, 1 + num_patches, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.Sequential(
            *(
                ViTBlock(hidden_dim, num_heads, mlp_dim, dropout, attention_dropout)
                for _ in range(num_layers)
            )
        )
        self.norm = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.head = nn.Linear(hidden_dim, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        conv = self.patch_embed.proj
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        nn.init.trunc_normal_(conv.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(conv.bias)
        for block in self.blocks:
            for layer in (block.mlp[0], block.mlp[3]):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.normal_(layer.bias, std=1e-6)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """编码器的输出（最后的层归一化之后）``(B, 1 + N, D)``，第 0 个是类别词元。"""
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, 1 + N, D)
        return self.norm(self.blocks(self.dropout(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[:, 0])  # 只用类别词元分类 (B, num_classes)


def create_vit(
    image_size: int = 224,
    patch_size: int = 16,
    num_layers: int = 12,
    num_heads: int = 12,
    hidden_dim: int = 768,
    mlp_dim: int = 3072,
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.0,
) -> VisionTransformer:
    """创建 ViT；默认是 ViT-B/16（12 层、12 个头、768 维，与 ``torchvision.models.vit_b_16`` 相同）。"""
    return VisionTransformer(
        image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes,
        in_channels, dropout,
    )  # fmt: skip


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """模型的参数个数（元素总数）；``trainable_only=True`` 时只数 ``requires_grad`` 的参数（线性探测时有用）。"""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_TORCHVISION_RENAMES = (
    (r"conv_proj\.", "patch_embed.proj."),
    (r"class_token", "cls_token"),
    (r"encoder\.pos_embedding", "pos_embed"),
    (r"encoder\.layers\.encoder_layer_(\d+)\.", r"blocks.\1."),
    (r"\.ln_1\.", ".norm1."),
    (r"\.ln_2\.", ".norm2."),
    (r"\.self_attention\.", ".attn."),
    (r"encoder\.ln\.", "norm."),
    (r"heads\.head\.", "head."),
)


def convert_torchvision_vit_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """把 ``torchvision.models.VisionTransformer`` 的 ``state_dict`` 转换成 :class:`VisionTransformer` 的。

    只改名字（以及把注意力的打包投影拆成三个），不改数值，所以 torchvision 的预训练权重
    （``ViT_B_16_Weights`` 等，由 torchvision 的权重接口下载并校验哈希）可以直接载入。
    """
    renamed = {}
    for name, tensor in state.items():
        for pattern, repl in _TORCHVISION_RENAMES:
            name = re.sub(pattern, repl, name)
        renamed[name] = tensor
    return convert_torch_attention_state(renamed)


def resize_pos_embed(pos_embed: torch.Tensor, grid_size: int) -> torch.Tensor:
    """把位置嵌入 ``(1, 1 + g*g, D)`` 插值成 ``(1, 1 + grid_size**2, D)``，用于换一个输入尺寸微调。

    位置嵌入是按块的网格排列的：把它还原成 ``(D, g, g)`` 的“图像”，双三次插值到新的网格，
    再展平回去。类别词元的嵌入不对应任何位置，原样保留。与 torchvision 的
    ``interpolate_embeddings`` 做法相同（``align_corners=True``）。
    """
    cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]  # (1, 1, D), (1, g*g, D)
    old = math.isqrt(patch_pos.shape[1])
    if old * old != patch_pos.shape[1]:
        raise ValueError(
            f"位置嵌入的块数 {patch_pos.shape[1]} 不是平方数，无法还原成正方形网格 / "
            "number of patch positions is not a perfect square"
        )
    if old == grid_size:
        return pos_embed
    d = patch_pos.shape[-1]
    grid = patch_pos.transpose(1, 2).reshape(1, d, old, old)  # (1, D, g, g)
    grid = F.interpolate(grid, size=grid_size, mode="bicubic", align_corners=True)
    patch_pos = grid.reshape(1, d, grid_size * grid_size).transpose(1, 2)  # (1, G*G, D)
    return torch.cat([cls_pos, patch_pos], dim=1)


def load_pretrained_vit_(
    model: VisionTransformer, state: dict[str, torch.Tensor], *, from_torchvision: bool = True
) -> list[str]:
    """把预训练的 ``state_dict`` 载入 ``model``，为微调做准备，返回没有载入的参数名。

    - ``from_torchvision=True`` 时先用 :func:`convert_torchvision_vit_state` 改名；
    - 预训练时的图像尺寸不同（块网格不同）时，位置嵌入用 :func:`resize_pos_embed` 插值；
    - 类别数不同时不载入分类头，保留 ``model`` 自己全 0 的新分类头（所以返回 ``head.*``）。

    其他任何不匹配（层数、宽度不同）都直接报错，而不是悄悄只载入一部分。
    """
    if from_torchvision:
        state = convert_torchvision_vit_state(state)
    state = dict(state)
    grid = math.isqrt(model.pos_embed.shape[1] - 1)
    state["pos_embed"] = resize_pos_embed(state["pos_embed"], grid)
    skipped = [
        name
        for name in ("head.weight", "head.bias")
        if name in state and state[name].shape != model.state_dict()[name].shape
    ]
    for name in skipped:
        del state[name]
    result = model.load_state_dict(state, strict=False)
    problems = [k for k in result.missing_keys if k not in skipped] + result.unexpected_keys
    if problems:
        raise ValueError(
            f"预训练权重与模型结构不一致（层数或宽度不同？）：{problems[:5]} / "
            "pretrained state does not match the model's architecture"
        )
    return skipped


def freeze_backbone_(model: VisionTransformer) -> VisionTransformer:
    """线性探测：冻结除分类头以外的所有参数，只训练 ``head``。

    与完整微调对比，可以看出预训练的特征本身有多好（线性可分到什么程度），以及让主干也
    适应新数据还能带来多少提升。优化器只应收到 ``requires_grad`` 的参数。
    """
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("head."))
    return model


def torchvision_vit_b_16_state(progress: bool = False) -> dict[str, torch.Tensor]:
    """torchvision 在 ImageNet-1k 上预训练的 ViT-B/16 的 ``state_dict``（``ViT_B_16_Weights.IMAGENET1K_V1``）。

    经 torchvision 的权重接口下载到 ``torch.hub`` 的缓存目录，``check_hash=True``：文件名里嵌着
    sha256 摘要的前缀，下载后逐字节核对，不一致就报错。torchvision 把“Downloading …”写到 stderr，
    而构建书时 stderr 会变成警告，所以这里把它转到 stdout。离线且缓存里没有文件时抛出 ``OSError``
    （``URLError``）。返回的参数名是 torchvision 的，用 :func:`load_pretrained_vit_` 载入。
    """
    from torchvision.models import ViT_B_16_Weights

    with contextlib.redirect_stderr(sys.stdout):
        return ViT_B_16_Weights.IMAGENET1K_V1.get_state_dict(progress=progress, check_hash=True)
