"""基准：softmax 回归在 Fashion-MNIST 上训练一个迭代周期，dlzh 管线 vs torchvision 管线。

两边用同一个模型、同一个优化器、同一个种子，差别只在数据管线：

- dlzh：解析好的张量（第一次运行后以 ``.pt`` 缓存在校验过的下载文件旁边）整体放在内存里，
  按批量切片（:class:`dlzh.data.TensorLoader`）；
- torchvision：``FashionMNIST`` + ``ToTensor`` + ``DataLoader``，每个样本都经过 PIL 图像
  和 ``ToTensor`` 转换，再由 ``default_collate`` 拼成批量。

测量方法：每条管线先完整跑一遍热身（吸收 PyTorch 第一次运行的开销，不计入结果），
再重复 ``--repeats`` 次（至少 5 次），报告中位数和最小~最大值。“加载”与“一个迭代周期”
分开计时，“合计”是两者之和；倍数按合计的中位数计算。dlzh 的“加载”每次都清空进程内缓存，
相当于一个新进程第二次及以后的加载；第一次（没有 ``.pt`` 时要解压和解析）单独报告一次。

运行：``make bench`` 或 ``.venv/bin/python benchmarks/fashion_mnist_epoch.py``。
数据来自 dlzh 的数据层（缓存 -> ``DLZH_DATA_MIRROR`` -> 官方 URL），torchvision 读取
同样的文件（解压到临时目录），因此两边都不需要额外下载。
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import dlzh
import dlzh.data.vision as vision


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_one_epoch(model: nn.Module, loader, lr: float = 0.1) -> int:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    seen = 0
    for features, labels in loader:
        loss = loss_fn(model(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(labels)
    if seen != 60000:
        raise RuntimeError(f"一个迭代周期应看到 60000 个样本，实际 {seen} / saw {seen} examples")
    return seen


def dlzh_loader(batch_size: int):
    vision._load_idx_pair.cache_clear()  # 不用进程内缓存：计入从磁盘读取的时间
    train_iter, _ = dlzh.data.load_fashion_mnist(batch_size)
    return train_iter


def first_ever_dlzh_load(batch_size: int) -> float:
    """删掉解析好的 ``.pt`` 后加载一次：读者第一次运行时（解压 + 解析 IDX）的加载时间。"""
    for item in dlzh.data.get_spec("fashion-mnist").files:
        vision.decoded_path("fashion-mnist", item.filename).unlink(missing_ok=True)
    started = time.perf_counter()
    dlzh_loader(batch_size)
    return time.perf_counter() - started


def torchvision_loader_factory(root: str, batch_size: int, num_workers: int) -> Callable:
    import torchvision
    from torchvision import transforms

    def make():
        dataset = torchvision.datasets.FashionMNIST(
            root, train=True, transform=transforms.ToTensor(), download=False
        )
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=True,
            num_workers=num_workers,
            generator=torch.Generator().manual_seed(0),
        )

    return make


def measure(make_loader: Callable, repeats: int) -> dict[str, list[float]]:
    """热身一次，然后重复 ``repeats`` 次，分别记录加载、一个迭代周期（训练）的时间，
    以及只遍历数据、不训练的时间（数据管线本身的开销）。"""
    train_one_epoch(make_model(), make_loader())  # 热身，不计入
    load, epoch, data_only = [], [], []
    for _ in range(repeats):
        loader = make_loader()
        started = time.perf_counter()
        seen = sum(len(labels) for _, labels in loader)
        data_only.append(time.perf_counter() - started)
        if seen != 60000:
            raise RuntimeError(f"应有 60000 个样本，实际 {seen} / saw {seen} examples")
        started = time.perf_counter()
        loader = make_loader()
        loaded = time.perf_counter()
        train_one_epoch(make_model(), loader)
        done = time.perf_counter()
        load.append(loaded - started)
        epoch.append(done - loaded)
    return {
        "load": load,
        "epoch": epoch,
        "total": [a + b for a, b in zip(load, epoch, strict=True)],
        "data": data_only,
    }


def cell(values: list[float]) -> str:
    """中位数（最小~最大）。"""
    return f"{statistics.median(values):.3f} ({min(values):.3f}~{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="*", default=[0, 2])
    parser.add_argument("--repeats", type=int, default=5)
    # 一个线程：softmax 回归的小矩阵乘法用不上多线程，而在忙碌的机器上多线程的等待会让
    # 结果忽快忽慢；两条管线用同样的设置。
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.repeats < 5:
        parser.error("--repeats 至少为 5，中位数才有意义 / need at least 5 repeats")
    print(
        f"PyTorch {torch.__version__}，{dlzh.device_name(torch.device('cpu'))}，"
        f"{torch.get_num_threads()} 个线程，批量大小 {args.batch_size}，训练集 60000 张，"
        f"每条管线热身 1 次 + 重复 {args.repeats} 次，单位：秒，中位数（最小~最大）\n"
    )
    first_load = first_ever_dlzh_load(args.batch_size)
    rows = [
        (
            "dlzh（内存张量 + TensorLoader）",
            measure(lambda: dlzh_loader(args.batch_size), args.repeats),
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for item in dlzh.data.get_spec("fashion-mnist").files:
            src = dlzh.data.fetch("fashion-mnist", item.filename)
            with gzip.open(src, "rb") as fin, open(raw / item.filename[:-3], "wb") as fout:
                shutil.copyfileobj(fin, fout)
        for workers in args.workers:
            make = torchvision_loader_factory(tmp, args.batch_size, workers)
            name = f"torchvision（ToTensor + DataLoader, num_workers={workers}）"
            rows.append((name, measure(make, args.repeats)))

    base = rows[0][1]
    header = (
        f"{'管线':<44}{'加载':>24}{'一个迭代周期（训练）':>20}{'加载+迭代周期':>22}"
        f"{'只遍历数据':>20}"
    )
    print(header)
    for name, r in rows:
        print(
            f"{name:<40}{cell(r['load']):>26}{cell(r['epoch']):>26}{cell(r['total']):>26}"
            f"{cell(r['data']):>26}"
        )
    print(f"\ndlzh 第一次加载（没有解析好的 .pt：解压 + 解析 IDX）：{first_load:.3f} 秒")
    for name, r in rows[1:]:
        ratios = {
            key: statistics.median(r[key]) / statistics.median(base[key])
            for key in ("epoch", "total", "data")
        }
        print(
            f"{name} 比 dlzh 慢：一个迭代周期 {ratios['epoch']:.1f} 倍，"
            f"加载 + 一个迭代周期 {ratios['total']:.1f} 倍，只遍历数据 {ratios['data']:.1f} 倍"
        )
    print(
        "（两边训练的是同一个模型，前向、反向和参数更新的时间相同；"
        "“只遍历数据”是两条数据管线本身的差别。）"
    )


if __name__ == "__main__":
    main()
