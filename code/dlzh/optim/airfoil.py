"""“优化算法”一部分共用的实验：在翼型数据上用不同优化器训练线性回归。

各页只换优化器，其余（初始化、数据顺序、记录损失的方式）都相同，这样曲线之间的差别
只来自优化算法本身。
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from dlzh.data.synthetic import array_loader
from dlzh.data.tabular import load_airfoil
from dlzh.profile import SMOKE_ENV
from dlzh.train.history import History
from dlzh.train.loop import Callback, fit


class TrackLoss(Callback):
    """每处理 ``every`` 个样本，在全部数据上算一次损失；记录的用时不含这次评估。

    记录写进 ``history.steps``：``epoch``（已处理的 epoch 数，可为小数）、``time``（秒）、``loss``。
    """

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, every: int = 200) -> None:
        self.features, self.labels, self.every = features, labels, every

    def on_fit_start(self, state) -> None:
        self.seen, self.elapsed, self.tic = 0, 0.0, time.perf_counter()

    def on_optimizer_step(self, state) -> None:
        before, self.seen = self.seen // self.every, self.seen + len(state.batch[1])
        if self.seen // self.every > before:
            self.elapsed += time.perf_counter() - self.tic
            with torch.no_grad():
                X, y = self.features.to(state.device), self.labels.to(state.device)
                loss = float(state.loss_fn(state.model(X), y))
            state.step_record.update(
                epoch=self.seen / len(self.features), time=self.elapsed, loss=loss
            )
            self.tic = time.perf_counter()


@contextmanager
def _full_run_even_in_smoke_mode() -> Iterator[None]:
    """冒烟模式会让 ``fit`` 只跑几个批量；翼型实验在两个档位完全相同、一次不到一秒，
    所以照常跑完，页面上关于损失的断言在冒烟构建里也照常检查。"""
    saved = os.environ.pop(SMOKE_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[SMOKE_ENV] = saved


def train_airfoil(
    make_optimizer: Callable,
    batch_size: int = 10,
    num_epochs: int = 2,
    *,
    features: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
) -> tuple[nn.Linear, History]:
    """在翼型数据上训练线性回归，返回 ``(模型, 历史)``；每次调用的初始化和数据顺序都相同。

    ``make_optimizer`` 接收参数迭代器，例如 ``lambda p: torch.optim.Adam(p, lr=0.01)``。
    不给 ``features``/``labels`` 时使用 d2l 的前 1500 行（:func:`dlzh.data.load_airfoil`）。
    """
    if features is None or labels is None:
        features, labels = load_airfoil(n=1500)  # (1500, 5), (1500, 1)
    torch.manual_seed(0)
    net = nn.Linear(features.shape[1], 1)
    nn.init.normal_(net.weight, std=0.01)
    nn.init.zeros_(net.bias)
    data_iter = array_loader(features, labels, batch_size, seed=0)
    with _full_run_even_in_smoke_mode():
        history = fit(
            net,
            data_iter,
            num_epochs,
            optimizer=make_optimizer(net.parameters()),
            loss_fn=nn.MSELoss(),
            classification=False,
            callbacks=[TrackLoss(features, labels)],
            verbose=False,
        )
    return net, history


def least_squares_mse(features: torch.Tensor, labels: torch.Tensor) -> float:
    """线性模型（含偏置）在这批数据上能达到的最小均方误差，即最小二乘解的损失。

    线性回归是凸问题，这个值是任何优化算法训练 ``nn.Linear`` 时损失的下限，各页拿它当参照线，
    而不是把某次运行的数字抄进正文。
    """
    ones = torch.ones(len(features), 1, dtype=features.dtype)
    design = torch.cat([features, ones], dim=1)  # (n, d + 1)，最后一列对应偏置
    solution = torch.linalg.lstsq(design, labels).solution  # (d + 1, 1)
    return float(((design @ solution - labels) ** 2).mean())


def loss_curve(history: History, x: str = "epoch") -> tuple[list[float], list[float]]:
    """从 ``history.steps`` 取出 (横坐标, 损失) 两列，交给 :func:`dlzh.plot.plot_curves`。"""
    return [s[x] for s in history.steps], [s["loss"] for s in history.steps]


def max_param_diff(net_a: nn.Module, net_b: nn.Module) -> float:
    """两个模型对应参数的最大绝对差。"""
    pairs = zip(net_a.parameters(), net_b.parameters(), strict=True)
    return max((a - b).abs().max().item() for a, b in pairs)
