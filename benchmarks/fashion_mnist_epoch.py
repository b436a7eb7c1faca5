"""基准：softmax 回归在 Fashion-MNIST 上训练一个 epoch，dlzh 管线 vs torchvision 管线。

两边用同一个模型、同一个优化器、同一个种子，差别只在数据管线：

- dlzh：解析官方 IDX 文件进内存张量，按批量切片（:class:`dlzh.data.TensorLoader`）；
- torchvision：``FashionMNIST`` + ``ToTensor`` + ``DataLoader``，每个样本都经过 PIL 图像
  和 ``ToTensor`` 转换，再由 ``default_collate`` 拼成批量。

运行：``make bench`` 或 ``.venv/bin/python benchmarks/fashion_mnist_epoch.py``。
数据来自 dlzh 的数据层（缓存 -> ``DLZH_DATA_MIRROR`` -> 官方 URL），torchvision 读取
同样的文件（解压到临时目录），因此两边都不需要额外下载。
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import dlzh


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_one_epoch(model: nn.Module, loader, lr: float = 0.1) -> tuple[float, int]:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    seen = 0
    for features, labels in loader:
        loss = loss_fn(model(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(labels)
    return float(loss.detach()), seen


def run_dlzh(batch_size: int) -> dict[str, float]:
    started = time.perf_counter()
    dlzh.data.vision._load_idx_pair.cache_clear()  # 计入解析 IDX 文件的时间
    train_iter, _ = dlzh.data.load_fashion_mnist(batch_size)
    loaded = time.perf_counter()
    loss, seen = train_one_epoch(make_model(), train_iter)
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "epoch_s": done - loaded,
        "total_s": done - started,
        "examples": seen,
        "loss": loss,
    }


def run_torchvision(batch_size: int, num_workers: int) -> dict[str, float]:
    import torchvision
    from torchvision import transforms

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for item in dlzh.data.get_spec("fashion-mnist").files:
            src = dlzh.data.fetch("fashion-mnist", item.filename)
            with gzip.open(src, "rb") as fin, open(raw / item.filename[:-3], "wb") as fout:
                shutil.copyfileobj(fin, fout)
        started = time.perf_counter()
        dataset = torchvision.datasets.FashionMNIST(
            tmp, train=True, transform=transforms.ToTensor(), download=False
        )
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=True,
            num_workers=num_workers,
            generator=torch.Generator().manual_seed(0),
        )
        loaded = time.perf_counter()
        loss, seen = train_one_epoch(make_model(), loader)
        done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "epoch_s": done - loaded,
        "total_s": done - started,
        "examples": seen,
        "loss": loss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="*", default=[0, 2])
    args = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    print(
        f"PyTorch {torch.__version__}，{dlzh.device_name(torch.device('cpu'))}，"
        f"批量大小 {args.batch_size}，训练集 60000 张，1 个 epoch\n"
    )
    rows = [("dlzh（内存张量 + TensorLoader）", run_dlzh(args.batch_size))]
    for workers in args.workers:
        rows.append(
            (
                f"torchvision（ToTensor + DataLoader, num_workers={workers}）",
                run_torchvision(args.batch_size, workers),
            )
        )
    base = rows[0][1]["total_s"]
    print(
        f"{'管线':<52}{'加载(s)':>9}{'一个epoch(s)':>14}{'合计(s)':>9}{'样本/秒':>10}{'相对dlzh':>10}"
    )
    for name, r in rows:
        print(
            f"{name:<46}{r['load_s']:>9.2f}{r['epoch_s']:>14.2f}{r['total_s']:>9.2f}"
            f"{r['examples'] / r['epoch_s']:>10.0f}{r['total_s'] / base:>9.1f}x"
        )


if __name__ == "__main__":
    main()
