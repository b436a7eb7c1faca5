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
    """保存 ``model``/``optimizer`` 以及任意带 ``state_dict()`` 的对象或普通值（如 epoch）。

    只接受 ``torch.load(weights_only=True)`` 能读回的内容（张量、数字、字符串、``None`` 以及
    它们组成的列表/元组/字典）。别的对象会被 pickle 成类的引用，保存时不报错，
    加载时却被 ``weights_only=True`` 拒绝；所以在保存时就报错，并指出是哪一项。
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"model": model.state_dict()}
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    for key, value in extra.items():
        payload[key] = value.state_dict() if hasattr(value, "state_dict") else value
    for key, value in payload.items():
        _check_loadable(value, key)
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


_PLAIN = (bool, int, float, str, bytes, type(None), torch.Tensor, torch.dtype, torch.device)


def _check_loadable(value: Any, where: str) -> None:
    """确认 ``value`` 只由 ``weights_only=True`` 允许的类型组成，否则报出路径和类型。"""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_loadable(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_loadable(item, f"{where}[{index}]")
        return
    raise TypeError(
        f"检查点的 {where} 是 {type(value).__name__}，torch.load(weights_only=True) 读不回来；"
        f"请传入带 state_dict() 的对象或张量、数字等普通值。"
        f" / {where} is a {type(value).__name__}, which weights_only=True loading refuses."
    )
