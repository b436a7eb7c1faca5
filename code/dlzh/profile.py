"""一页的规模设置：两个档位的数值写在一处，quick 构建时自动生成一条说明框。

页面这样写::

    cfg = dlzh.settings(quick=dict(batch_size=32, lr=0.1, num_epochs=3),
                        full=dict(batch_size=128, lr=0.01, num_epochs=10))
    cfg.batch_size, cfg.lr

- ``full`` 档位：返回 full 的数值，不显示任何说明（发布的网站就是书中真实的设置）。
- ``quick`` 档位：返回 quick 的数值，并显示一个说明框，逐项列出“本次构建 / full 档位”，
  这样每页不必再手写一段“quick 档位缩小了什么”的文字。
- 冒烟模式（``DLZH_PROFILE=full DLZH_SMOKE=1``）：返回 full 的数值，说明框写明每个训练/评估
  循环只跑 :data:`SMOKE_BATCHES` 个批量，用来在 CPU 上检查 full 档位的代码路径。
"""

from __future__ import annotations

import html
import os
from types import SimpleNamespace
from typing import Any

from dlzh.config import get_profile

SMOKE_ENV = "DLZH_SMOKE"
SMOKE_BATCHES = 2

# 常见设置名的中文说明；不在表里的名字按原样显示。
LABELS: dict[str, str] = {
    "batch_size": "批量大小",
    "lr": "学习率",
    "num_epochs": "迭代周期数",
    "n_train": "训练样本数",
    "n_test": "测试样本数",
    "image_size": "图像边长",
    "resize": "图像边长",
    "width_divisor": "通道数缩小倍数",
    "num_hiddens": "隐藏单元数",
    "weight_decay": "权重衰减",
    "num_steps": "时间步数",
    "num_workers": "数据加载进程数",
    "rounds": "通信轮数",
    "model": "模型",
    "optimizer": "优化器",
    "num_layers": "层数",
    "num_heads": "注意力头数",
    "num_pairs": "句子对数",
    "patch_size": "图像块边长",
    "num_clients": "客户端数",
    "fraction": "每轮参与比例",
}


def is_smoke() -> bool:
    """是否为冒烟模式：full 档位的设置，但每个训练/评估循环只跑几个批量。"""
    value = os.environ.get(SMOKE_ENV, "").strip().lower()
    return value not in {"", "0", "false", "no"}


def _fmt(value: Any) -> str:
    if value is None:
        return "全部"
    return str(value)


class ProfileNote:
    """quick/冒烟构建时显示的说明框（HTML 中是一个 note 样式的提示框，纯文本中是几行文字）。"""

    def __init__(self, title: str, rows: list[tuple[str, str, str]], footer: str = "") -> None:
        self.title, self.rows, self.footer = title, rows, footer

    def __repr__(self) -> str:
        lines = [self.title]
        lines += [f"  {name}：本次 {used}，full 档位 {full}" for name, used, full in self.rows]
        if self.footer:
            lines.append(self.footer)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(u)}</td><td>{html.escape(f)}</td></tr>"
            for n, u, f in self.rows
        )
        footer = f"<p>{html.escape(self.footer)}</p>" if self.footer else ""
        return (
            '<div class="admonition note dlzh-profile-note">'
            f'<p class="admonition-title">{html.escape(self.title)}</p>'
            '<table class="dlzh-profile-table"><thead><tr><th>设置</th><th>本次构建</th>'
            f"<th>full 档位</th></tr></thead><tbody>{cells}</tbody></table>{footer}</div>"
        )


def _show(note: ProfileNote) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # 不在 IPython 中：打印纯文本
        print(repr(note))
        return
    if get_ipython() is None:
        print(repr(note))
    else:
        display(note)


def settings(quick: dict[str, Any], full: dict[str, Any], **shared: Any) -> SimpleNamespace:
    """按档位返回一组设置；quick 档位和冒烟模式下显示一个对照说明框。

    ``quick`` 和 ``full`` 必须有相同的键，``shared`` 是两个档位相同的设置（也会返回）。
    """
    if set(quick) != set(full):
        raise ValueError(
            f"quick 与 full 的设置名不一致：{sorted(set(quick) ^ set(full))}；两个档位必须设置同样的项。"
            " / quick and full must name the same settings."
        )
    profile = get_profile()
    chosen = quick if profile == "quick" else full
    values = SimpleNamespace(**shared, **chosen)
    if profile == "quick":
        rows = [
            (LABELS.get(k, k), _fmt(quick[k]), _fmt(full[k])) for k in quick if quick[k] != full[k]
        ]
        _show(
            ProfileNote(
                "quick 档位：本页按缩小的规模运行",
                rows,
                "发布的网站用 full 档位（书中真实的设置）；本地用 DLZH_PROFILE=full 可以复现。",
            )
        )
    elif is_smoke():
        _show(
            ProfileNote(
                "冒烟模式：full 档位的设置，每个训练/评估循环只跑几个批量",
                [(LABELS.get(k, k), _fmt(full[k]), _fmt(full[k])) for k in full],
                f"每个循环在 {SMOKE_BATCHES} 个批量后停止；数字不代表训练结果。",
            )
        )
    return values
