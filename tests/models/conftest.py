"""本目录测试共用的小工具。"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn


def _layer_shapes(net: nn.Sequential, x: torch.Tensor) -> list[tuple[int, ...]]:
    """依次通过 ``net`` 的顶层子模块，记录每个输出去掉批量维后的形状（d2l 逐层打印的那种）。

    最后一项就是整网输出的形状，所以顺带检查了 ``(B, num_classes)``（去掉了 B）。"""
    shapes = []
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


@pytest.fixture(autouse=True)
def _single_thread():
    """本目录的张量都很小，多线程的同步开销大于收益；机器繁忙（其他进程占着 CPU）时，
    OpenMP 线程互相等待会让测试慢好几倍（实测 2 线程 75 s、1 线程 18 s）。测试结束后恢复。"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def layer_shapes() -> Callable[[nn.Sequential, torch.Tensor], list[tuple[int, ...]]]:
    return _layer_shapes
