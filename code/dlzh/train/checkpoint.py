"""检查点：保存和恢复模型、优化器、调度器、GradScaler、EMA 与训练历史。

写入先到临时文件再 ``os.replace``：保存途中被打断时，旧的检查点仍完好。
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn


def save_checkpoint(
    path: str | Path, model: nn.Module, optimizer: Any = None, **extra: Any
) -> Path:
    """保存 ``model``/``optimizer`` 以及任意带 ``state_dict()`` 的对象或普通值（如 epoch）。"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"model": model.state_dict()}
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    for key, value in extra.items():
        payload[key] = value.state_dict() if hasattr(value, "state_dict") else value
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: Any = None,
    map_location: Any = "cpu",
    **targets: Any,
) -> dict[str, Any]:
    """把检查点恢复到 ``model``/``optimizer``/``targets`` 中，返回其余的普通值（如 epoch）。"""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"检查点 {path} 不存在 / checkpoint {path} does not exist")
    # weights_only=True：只反序列化张量和基本类型，加载来历不明的文件也不会执行任意代码。
    payload = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(payload.pop("model"))
    if optimizer is not None:
        optimizer.load_state_dict(payload.pop("optimizer"))
    for key, target in targets.items():
        target.load_state_dict(payload.pop(key))
    return payload
