"""混合精度的设置：选哪种低精度类型、要不要 GradScaler。

- bf16 的指数位与 fp32 一样多，不会下溢，所以不需要损失缩放；Ampere 及更新的 GPU 和
  部分 CPU 支持。
- fp16 的指数范围小，小梯度会下溢成 0，因此在 CUDA 上必须配合 ``torch.amp.GradScaler``。
- 参数本身始终保存为 fp32：autocast 只改变算子内部的计算精度。
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

AMP_CHOICES = (None, "auto", "bf16", "fp16")


@dataclass(frozen=True)
class AmpSetting:
    enabled: bool
    dtype: torch.dtype | None
    device_type: str
    use_scaler: bool

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.enabled)

    @property
    def label(self) -> str:
        return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(self.dtype, "fp32")


def resolve_amp(amp: str | None, device: torch.device) -> AmpSetting:
    """把 ``amp`` 参数（``None``/``"auto"``/``"bf16"``/``"fp16"``）解析成具体设置。

    ``"auto"``：CUDA 上支持 bf16 就用 bf16，否则 fp16 + GradScaler；CPU 上不启用
    （多数 CPU 上 bf16 反而更慢，书的 quick 档位要的是稳定和可复现）。
    """
    if amp not in AMP_CHOICES:
        raise ValueError(
            f"amp 只能是 None、'auto'、'bf16' 或 'fp16'，收到 {amp!r}。"
            f" / amp must be one of None, 'auto', 'bf16', 'fp16'; got {amp!r}."
        )
    kind = device.type
    if amp is None or (amp == "auto" and kind != "cuda"):
        return AmpSetting(False, None, kind if kind in ("cuda", "cpu") else "cpu", False)
    if amp == "auto":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if amp == "fp16" and kind != "cuda":
        raise ValueError(
            "fp16 混合精度需要 CUDA（CPU 上请用 amp='bf16'）。"
            " / fp16 autocast needs CUDA; use amp='bf16' on CPU."
        )
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return AmpSetting(True, dtype, kind, use_scaler=(amp == "fp16"))
