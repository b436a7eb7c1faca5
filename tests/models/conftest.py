"""本目录测试共用的小工具。"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn


def _layer_shapes(net: nn.Sequential, x: torch.Tensor) -> list[tuple[int, ...]]:
    """依次通过 ``net`` 的顶层子模块，记录每个输出去掉批量维后的形状（d2l 逐层打印的那种）。"""
    shapes = []
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


@pytest.fixture
def layer_shapes() -> Callable[[nn.Sequential, torch.Tensor], list[tuple[int, ...]]]:
    return _layer_shapes
