"""取数据文件：缓存 -> 镜像 -> 官方 URL，校验 sha256，原子写入。

设计要点：

- 下载先写到同目录下的临时文件，校验通过后才 ``os.replace`` 成正式文件名，
  所以中途断网或校验失败都不会留下半个文件，更不会被下次当成好文件使用。
- 校验失败的缓存文件改名为 ``*.corrupt`` 留作排查，而不是静默删除或继续使用。
- 什么都找不到时抛出一个 :class:`DataNotFoundError`，写明文件名、查过的每个位置及原因、
  以及读者可以怎样手动提供这个文件。
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from dlzh.data.registry import DataFile, DatasetSpec, get_spec

CACHE_ENV = "DLZH_DATA_DIR"
MIRROR_ENV = "DLZH_DATA_MIRROR"
_CHUNK = 1 << 20


class DataNotFoundError(FileNotFoundError):
    """所有来源都拿不到一个通过校验的文件。"""


class ChecksumError(ValueError):
    """文件内容的 sha256 与登记表不符。"""


def cache_dir() -> Path:
    """本地缓存目录：``DLZH_DATA_DIR``，默认 ``~/.cache/dlzh/data``。"""
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dlzh" / "data"


def mirror_dir() -> Path | None:
    """只读镜像目录（``DLZH_DATA_MIRROR``）；未设置时返回 ``None``。"""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def sha256_of(path: Path) -> str:
    """按块计算文件的 sha256，避免把大文件整个读进内存。"""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: DataFile) -> None:
    """大小和 sha256 都对才算通过；先比大小，错了就不必再算哈希。"""
    size = path.stat().st_size
    if size != expected.size:
        raise ChecksumError(
            f"{path} 大小为 {size} 字节，应为 {expected.size} 字节。"
            f" / {path} has {size} bytes, expected {expected.size}."
        )
    actual = sha256_of(path)
    if actual != expected.sha256:
        raise ChecksumError(
            f"{path} 的 sha256 为 {actual}，应为 {expected.sha256}。"
            f" / sha256 mismatch for {path}: got {actual}, expected {expected.sha256}."
        )


def _progress(done: int, total: int, started: float, name: str) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6) / 1e6
    percent = 100.0 * done / total if total else 0.0
    print(
        f"\r下载 {name}: {percent:5.1f}% ({done / 1e6:.1f}/{total / 1e6:.1f} MB, {rate:.1f} MB/s)",
        end="",
        file=sys.stderr,
        flush=True,
    )


def download(url: str, target: Path, expected: DataFile, timeout: float = 30.0) -> Path:
    """把 ``url`` 下载到 ``target``：临时文件 -> 校验 -> 原子改名。失败时不留任何文件。"""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or expected.size)
            started, done, last = time.perf_counter(), 0, 0.0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                # 只给大文件显示进度，小文件一闪而过反而干扰阅读。
                if total > 5 * _CHUNK and time.perf_counter() - last > 0.5:
                    _progress(done, total, started, target.name)
                    last = time.perf_counter()
            if total > 5 * _CHUNK:
                _progress(done, total, started, target.name)
                print(file=sys.stderr)
        verify(tmp, expected)
        os.replace(tmp, target)
        return target
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch(dataset: str | DatasetSpec, filename: str, *, allow_download: bool = True) -> Path:
    """返回一个已通过校验的本地文件路径。

    查找顺序：``cache_dir()/<数据集>/<文件>`` -> ``mirror_dir()/<镜像子目录>/<文件>`` ->
    登记表里的 URL（下载进缓存目录）。任何一步校验失败都不会使用该文件。
    """
    spec = get_spec(dataset) if isinstance(dataset, str) else dataset
    expected = spec.file(filename)
    searched: list[str] = []

    cached = cache_dir() / spec.name / filename
    if cached.exists():
        try:
            verify(cached, expected)
            return cached
        except ChecksumError as err:
            # 坏文件留着以便排查，但改名后绝不会再被当成好文件读取。
            corrupt = cached.with_name(cached.name + ".corrupt")
            os.replace(cached, corrupt)
            searched.append(f"缓存 cache: {cached}（校验失败，已改名为 {corrupt.name}：{err}）")
    else:
        searched.append(f"缓存 cache: {cached}（不存在 / missing）")

    mirror = mirror_dir()
    if mirror is not None:
        candidate = mirror / spec.mirror_subdir / filename
        if candidate.exists():
            try:
                verify(candidate, expected)
                return candidate
            except ChecksumError as err:
                searched.append(f"镜像 mirror: {candidate}（校验失败 / checksum failed：{err}）")
        else:
            searched.append(f"镜像 mirror: {candidate}（不存在 / missing）")
    else:
        searched.append(f"镜像 mirror: 未设置环境变量 {MIRROR_ENV} / not set")

    if allow_download:
        for url in expected.urls:
            try:
                return download(url, cached, expected)
            except (urllib.error.URLError, OSError, ChecksumError, TimeoutError) as err:
                searched.append(f"下载 download: {url}（失败 / failed：{err}）")
    else:
        searched.append("下载 download: 已禁用 / disabled (allow_download=False)")

    places = "\n  - ".join(searched)
    raise DataNotFoundError(
        f"找不到数据文件 {spec.name}/{filename}（sha256 {expected.sha256[:12]}…，"
        f"{expected.size} 字节）。查找过：\n  - {places}\n"
        f"解决办法：联网后重试；或从 {expected.urls[0]} 手动下载，放到 {cached}；"
        f"或把环境变量 {MIRROR_ENV} 设为含有 {spec.mirror_subdir}/{filename} 的镜像目录。\n"
        f"Data file {spec.name}/{filename} not found. Fix: go online and retry, download it "
        f"from {expected.urls[0]} into {cached}, or set {MIRROR_ENV} to a mirror directory "
        f"containing {spec.mirror_subdir}/{filename}."
    )


def fetch_all(dataset: str) -> dict[str, Path]:
    """取一个数据集的全部文件，返回 文件名 -> 路径。"""
    spec = get_spec(dataset)
    return {item.filename: fetch(spec, item.filename) for item in spec.files}
