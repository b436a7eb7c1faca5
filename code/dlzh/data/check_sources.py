"""检查登记表里的每一个来源：``python -m dlzh.data.check_sources``。

对每个数据集的每个文件的**每个** URL 都真正下载一次（写到临时目录，不碰数据缓存），
核对字节数和摘要；压缩包还要核对登记的 ``members`` 都在。这样，一个失效或内容变了的来源
会在定时任务里先暴露出来，而不是等读者第一次构建时才撞上。

结果逐行写到 stdout；有任何来源失效（DEAD）、内容改变（CHANGED）或目录结构改变（LAYOUT）
时，退出码为 1，最后列出每一个有问题的来源。``--list`` 只列出来源，不下载。
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlzh.data import download as download_module
from dlzh.data.download import pooch  # 经由 download 导入：那里处理了 tqdm 的导入警告
from dlzh.data.registry import REGISTRY, DataFile, DatasetSpec


@dataclass(frozen=True)
class SourceResult:
    """一个来源的检查结果；``status`` 为 OK、DEAD、CHANGED 或 LAYOUT。"""

    dataset: str
    filename: str
    url: str
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    def line(self) -> str:
        text = f"{self.status:<8}{self.dataset}/{self.filename}  {self.url}"
        return f"{text}  {self.detail}" if self.detail else text


def _archive_members(path: Path, kind: str) -> set[str]:
    if kind == "zip":
        with zipfile.ZipFile(path) as archive:
            return {name.rstrip("/") for name in archive.namelist()}
    with tarfile.open(path) as archive:
        return {name.rstrip("/") for name in archive.getnames()}


def _download_plain(url: str, target: Path, timeout: float, retries: int) -> None:
    # 不带摘要地下载（摘要不符时也要拿到文件，才能报告它变成了什么）；
    # 连接类错误按 download.RETRIES 的办法退避重试，避免一次网络抖动就报“失效”。
    downloader = pooch.HTTPDownloader(progressbar=False, chunk_size=1 << 16, timeout=timeout)
    for attempt in range(retries + 1):
        try:
            with download_module._quiet_pooch():
                downloader(url, str(target), None)
            return
        except Exception:
            if attempt == retries:
                raise
            time.sleep(min(attempt + 1, 10))


def check_source(
    spec: DatasetSpec, item: DataFile, url: str, workdir: Path, timeout: float, retries: int
) -> SourceResult:
    """下载一个来源到 ``workdir`` 并核对；下载完即删除。"""
    target = workdir / f"{spec.name}--{item.filename}"
    try:
        try:
            _download_plain(url, target, timeout, retries)
        except Exception as err:
            return SourceResult(
                spec.name, item.filename, url, "DEAD", f"{type(err).__name__}: {err}"
            )
        size = target.stat().st_size
        digest = download_module.file_digest(target, item.algorithm)
        problems = []
        if item.size is not None and size != item.size:
            problems.append(f"大小 size {size} != 登记 {item.size}")
        if digest != item.digest:
            problems.append(f"{item.algorithm} {digest} != 登记 {item.digest}")
        if problems:
            return SourceResult(spec.name, item.filename, url, "CHANGED", "; ".join(problems))
        if item.archive is not None:
            try:
                names = _archive_members(target, item.archive)
            except (zipfile.BadZipFile, tarfile.TarError) as err:
                return SourceResult(spec.name, item.filename, url, "LAYOUT", f"无法打开 / {err}")
            missing = [m for m in item.members if m not in names]
            if missing:
                detail = f"缺少成员 missing members {missing}"
                return SourceResult(spec.name, item.filename, url, "LAYOUT", detail)
        return SourceResult(spec.name, item.filename, url, "OK", f"{size} 字节 bytes")
    finally:
        target.unlink(missing_ok=True)


def check(
    specs: Iterable[DatasetSpec], *, timeout: float = 120.0, retries: int = 2, echo: bool = True
) -> list[SourceResult]:
    """检查 ``specs`` 中每个文件的每个 URL；``echo`` 时每检查完一个就打印一行。"""
    results = []
    with tempfile.TemporaryDirectory(prefix="dlzh-check-") as tmp:
        for spec in specs:
            for item in spec.files:
                for url in item.urls:
                    result = check_source(spec, item, url, Path(tmp), timeout, retries)
                    if echo:
                        print(result.line(), flush=True)
                    results.append(result)
    return results


def main(argv: Sequence[str] | None = None, registry: dict[str, DatasetSpec] | None = None) -> int:
    registry = REGISTRY if registry is None else registry
    parser = argparse.ArgumentParser(
        prog="python -m dlzh.data.check_sources",
        description="下载登记表中每个文件的每个来源并核对字节数和摘要 / "
        "download every source of every registered file and check its size and digest",
    )
    parser.add_argument(
        "--dataset", action="append", choices=sorted(registry), help="只查这些数据集"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="每次请求的超时（秒）")
    parser.add_argument("--retries", type=int, default=2, help="连接失败时的重试次数")
    parser.add_argument("--list", action="store_true", help="只列出来源，不下载")
    args = parser.parse_args(argv)
    specs = [registry[name] for name in (args.dataset or sorted(registry))]

    if args.list:
        for spec in specs:
            for item in spec.files:
                for url in item.urls:
                    print(f"{spec.name}/{item.filename}  {item.known_hash}  {url}")
        return 0

    results = check(specs, timeout=args.timeout, retries=args.retries)
    bad = [r for r in results if not r.ok]
    print(
        f"\n共检查 {len(results)} 个来源，{len(bad)} 个有问题。 / {len(results)} sources, {len(bad)} bad."
    )
    if bad:
        print("有问题的来源 / bad sources:")
        for result in bad:
            print("  " + result.line())
        print(
            "请修正 code/dlzh/data/registry.py：换掉失效的 URL，或在核实新文件后更新摘要和字节数。"
            " / Fix code/dlzh/data/registry.py: replace dead URLs, or update digest and size "
            "after verifying the new file."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
