"""从零实现的优化算法，逐一对应 ``torch.optim`` 中的同名类。

:class:`ScratchSGD` 是线性网络一部分用的最简版本（只有 ``zero_grad``/``step``，不继承
``Optimizer``），把“参数减去学习率乘梯度”原样写出来。其余每个类都继承 ``torch.optim.Optimizer``，只在 ``step()`` 中手写更新公式：这样它们能直接
交给学习率调度器和 :func:`dlzh.train.fit`，同时测试可以逐步与 PyTorch 官方实现对照。
公式与 PyTorch 文档中的伪代码一致（包括 eps 放在根号外还是根号内这类细节），
书中“优化算法”一部分的每一页都引用这里的代码。
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import Optimizer

Params = Iterable[torch.Tensor] | Iterable[dict]


class ScratchSGD:
    """小批量随机梯度下降：``param -= lr * grad``。

    ``fit`` 中的损失已经是批量平均值，所以这里不再除以批量大小（与 d2l 的 ``sgd`` 等价）。
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param -= self.lr * param.grad


class MomentumSGD(Optimizer):
    """动量法：:math:`v \\leftarrow \\mu v + g,\\ x \\leftarrow x - \\eta v`。

    ``momentum=0`` 时就是小批量随机梯度下降。与 ``torch.optim.SGD`` 相同，第一步的速度
    直接取梯度 ``v = g``（而不是 ``(1-\\mu) g``）。
    """

    def __init__(self, params: Params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                if group["momentum"]:
                    state = self.state[p]
                    if "velocity" not in state:
                        state["velocity"] = g.clone()
                    else:
                        state["velocity"].mul_(group["momentum"]).add_(g)
                    g = state["velocity"]
                p.add_(g, alpha=-group["lr"])


class AdaGradScratch(Optimizer):
    """AdaGrad：:math:`s \\leftarrow s + g^2,\\ x \\leftarrow x - \\eta\\, g / (\\sqrt{s} + \\epsilon)`。

    每个坐标的有效学习率随累计梯度平方单调减小：适合稀疏特征，但在深度学习中往往减得太快。
    """

    def __init__(self, params: Params, lr: float = 0.01, eps: float = 1e-10):
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p].setdefault("sum", torch.zeros_like(p))
                s.addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, s.sqrt().add_(group["eps"]), value=-group["lr"])


class RMSPropScratch(Optimizer):
    """RMSProp：用梯度平方的指数移动平均代替 AdaGrad 的累加和，有效学习率不再单调衰减。

    :math:`s \\leftarrow \\gamma s + (1-\\gamma) g^2,\\ x \\leftarrow x - \\eta\\, g / (\\sqrt{s} + \\epsilon)`
    （PyTorch 把 :math:`\\gamma` 叫作 ``alpha``，默认 0.99）。
    """

    def __init__(self, params: Params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p].setdefault("square_avg", torch.zeros_like(p))
                s.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.addcdiv_(p.grad, s.sqrt().add_(group["eps"]), value=-group["lr"])


class AdadeltaScratch(Optimizer):
    """Adadelta：连学习率都由历史决定，更新量的尺度来自过去更新量平方的移动平均。

    :math:`s \\leftarrow \\rho s + (1-\\rho) g^2,\\
    g' = \\frac{\\sqrt{\\Delta x + \\epsilon}}{\\sqrt{s + \\epsilon}} g,\\
    \\Delta x \\leftarrow \\rho \\Delta x + (1-\\rho) g'^2,\\ x \\leftarrow x - \\eta g'`
    （原论文没有 :math:`\\eta`，PyTorch 保留了它并默认取 1）。
    """

    def __init__(self, params: Params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                s = state.setdefault("square_avg", torch.zeros_like(p))
                delta_sq = state.setdefault("acc_delta", torch.zeros_like(p))
                s.mul_(rho).addcmul_(p.grad, p.grad, value=1 - rho)
                update = delta_sq.add(eps).sqrt_().div_(s.add(eps).sqrt_()).mul_(p.grad)
                delta_sq.mul_(rho).addcmul_(update, update, value=1 - rho)
                p.add_(update, alpha=-group["lr"])


class AdamScratch(Optimizer):
    """Adam：动量（一阶矩）+ RMSProp（二阶矩），并对两者做偏差修正。

    :math:`m \\leftarrow \\beta_1 m + (1-\\beta_1) g,\\ v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2,\\
    \\hat m = m / (1-\\beta_1^t),\\ \\hat v = v / (1-\\beta_2^t),\\
    x \\leftarrow x - \\eta\\, \\hat m / (\\sqrt{\\hat v} + \\epsilon)`。

    偏差修正的原因：m、v 从 0 开始，前几步被严重低估。
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])
