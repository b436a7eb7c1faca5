"""取数据文件：缓存 -> 镜像 -> 登记的 URL，按来源公布的摘要校验，原子写入与原子解压。

下载本身交给 `pooch <https://www.fatiando.org/pooch/>`_：它先写临时文件、按
``算法:摘要``（sha256、sha1、md5）校验、通过后才改成正式文件名，并在网络出错时退避重试。
这里保留 pooch 没有的部分：

- **查找顺序**：本地缓存（``DLZH_DATA_DIR``）-> 只读镜像（``DLZH_DATA_MIRROR``）-> 每个 URL；
  ``DLZH_DATA_MIRROR_LAST=1`` 把镜像挪到 URL 之后（CI 借此走读者的下载路径）。
  缓存里校验失败的文件改名为 ``*.corrupt`` 留作排查，绝不会再被当成好文件。
- **换下一个来源**：某个 URL 的任何失败（``OSError``、``http.client.IncompleteRead``、
  错误的 Content-Length、摘要不符……）都只记下原因、接着试下一个 URL，
  最后才抛出一个 :class:`DataNotFoundError`，写明查过的每个位置、原因和手动提供文件的办法。
- **不写 stderr**：书构建时内核写到 stderr 的任何东西都会变成构建警告（``-W`` 下即失败）。
  所以 pooch 的日志被压低，进度写到 stdout：终端里是 tqdm 进度条，笔记本和构建里是两行文字。
- **原子解压**：压缩包先解到同目录下的临时文件夹，检查登记的 ``members`` 都在，
  写入来源摘要，再一步改名；半解压的文件夹从不会被使用，来源摘要变了就重新解压。
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from tqdm import TqdmWarning

with warnings.catch_warnings():
    # pooch 在导入时就导入 tqdm.auto；在没有 ipywidgets 的 Jupyter 内核里（书构建正是如此），
    # tqdm.auto 会往 stderr 发一条 TqdmWarning（"IProgress not found"），构建因此得到一条警告。
    # 我们从不使用 tqdm.auto 的笔记本进度条，所以只在这次导入时忽略它。
    warnings.filterwarnings("ignore", category=TqdmWarning)
    import pooch

from dlzh.data.registry import DataFile, DatasetSpec, get_spec

CACHE_ENV = "DLZH_DATA_DIR"
MIRROR_ENV = "DLZH_DATA_MIRROR"
MIRROR_LAST_ENV = "DLZH_DATA_MIRROR_LAST"
RETRIES_ENV = "DLZH_DOWNLOAD_RETRIES"
# 每个 URL 失败后再试的次数（pooch 在两次之间等待 1、2、… 秒）；环境变量
# DLZH_DOWNLOAD_RETRIES 可以改它（如离线的 CI 里设为 0，不必在注定失败的来源上等待）。
RETRIES = 2
TIMEOUT_S = 60.0
# 小于这个大小的文件一闪而过，不打印进度，免得给页面输出添乱。
PROGRESS_MIN_BYTES = 1 << 20
_CHUNK = 1 << 20
_EXTRACTED_STAMP = ".dlzh-source"


class DataNotFoundError(FileNotFoundError):
    """所有来源都拿不到一个通过校验的文件。"""


class ChecksumError(ValueError):
    """文件的大小或摘要与登记表不符。"""


def cache_dir() -> Path:
    """本地缓存目录：``DLZH_DATA_DIR``，默认 ``~/.cache/dlzh/data``。"""
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dlzh" / "data"


def mirror_dir() -> Path | None:
    """只读镜像目录（``DLZH_DATA_MIRROR``）；未设置时返回 ``None``。"""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """按块计算文件摘要，避免把大文件整个读进内存。"""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """文件的 sha256。"""
    return file_digest(path, "sha256")


def verify(path: Path, expected: DataFile) -> None:
    """大小（若登记了）和摘要都对才算通过；先比大小，错了就不必再算摘要。"""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        raise ChecksumError(
            f"{path} 大小为 {size} 字节，应为 {expected.size} 字节。"
            f" / {path} has {size} bytes, expected {expected.size}."
        )
    actual = file_digest(path, expected.algorithm)
    if actual != expected.digest:
        raise ChecksumError(
            f"{path} 的 {expected.algorithm} 为 {actual}，应为 {expected.digest}。"
            f" / {expected.algorithm} mismatch for {path}: got {actual}, expected {expected.digest}."
        )


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    # pooch 的日志器自带一个写 stderr 的 StreamHandler（"Downloading data from …"），
    # 在书构建里那就是一条警告。这里只在下载期间把它调到 WARNING，之后原样恢复。
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class _LineProgress:
    """pooch 的自定义进度对象（要有 ``total``、``update``、``reset``、``close``）。

    只往 stdout 写开始和结束两行，不用回车符：笔记本的输出和构建出的页面里都能正常显示。
    """

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        self.total, self.done, self.started = 0, 0, time.perf_counter()
        self.announced = False

    def update(self, n: int) -> None:
        if not self.announced:
            self.announced = True
            self.started = time.perf_counter()
            size = f"{self.total / 2**20:.1f} MiB" if self.total else "大小未知 / unknown size"
            print(f"下载 downloading {self.name}（{size}）：{self.url}", flush=True)
        self.done += n

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        seconds = time.perf_counter() - self.started
        rate = self.done / max(seconds, 1e-6) / 2**20
        print(f"下载完成 done {self.name}：{seconds:.1f} 秒，{rate:.1f} MiB/s", flush=True)


class _TerminalProgress:
    """交互终端里的 tqdm 进度条，画在 stdout 上。

    不直接把 tqdm 对象交给 pooch：pooch 用 ``if progressbar:`` 判断要不要更新，而总量未知的
    tqdm 对象求真值时会抛 TypeError，那样每次下载都会失败。
    """

    def __init__(self, name: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit="B", unit_scale=True, desc=name, file=sys.stdout, leave=True)

    def __bool__(self) -> bool:
        return True

    @property
    def total(self) -> int:
        return self.bar.total or 0

    @total.setter
    def total(self, value: int) -> None:
        self.bar.total = value or None

    def update(self, n: int) -> None:
        self.bar.update(n)

    def reset(self) -> None:
        self.bar.reset(total=self.bar.total)

    def close(self) -> None:
        self.bar.close()


def _progress_for(expected: DataFile, url: str):
    if expected.size is not None and expected.size < PROGRESS_MIN_BYTES:
        return False
    if sys.stdout.isatty():
        return _TerminalProgress(expected.filename)
    return _LineProgress(expected.filename, url)


def download(
    url: str,
    target: Path,
    expected: DataFile,
    *,
    timeout: float | None = None,
    retries: int | None = None,
) -> Path:
    """用 pooch 把 ``url`` 下载到 ``target``：临时文件 -> 校验摘要 -> 改名；失败时不留任何文件。

    pooch 对连接错误和摘要不符会退避重试 ``retries`` 次；其他异常原样抛出，由调用者换下一个 URL。
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(
        progressbar=_progress_for(expected, url),
        chunk_size=1 << 16,
        timeout=TIMEOUT_S if timeout is None else timeout,
    )
    fetcher = pooch.create(
        path=target.parent,
        base_url="",
        registry={target.name: expected.known_hash},
        urls={target.name: url},
        retry_if_failed=_retries() if retries is None else retries,
    )
    with _quiet_pooch():
        try:
            path = Path(fetcher.fetch(target.name, downloader=downloader))
        except ValueError as err:
            if "does not match the known hash" not in str(err):
                raise
            # pooch 已删掉下载的文件；换成本包的异常类型和双语说明。
            raise ChecksumError(
                f"从 {url} 下载的 {target.name} 与登记的 {expected.algorithm} 摘要不符"
                f"（来源的文件变了，或传输出错）。 / {target.name} from {url} does not match "
                f"the registered {expected.algorithm} digest: {err}"
            ) from err
    verify(path, expected)  # pooch 只核对摘要；登记了字节数就再核对一次
    return path


def _retries() -> int:
    value = os.environ.get(RETRIES_ENV)
    if value is None:
        return RETRIES
    try:
        return max(int(value), 0)
    except ValueError:
        raise ValueError(
            f"环境变量 {RETRIES_ENV} 应为非负整数，收到 {value!r}。"
            f" / {RETRIES_ENV} must be a non-negative integer, got {value!r}."
        ) from None


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _from_mirror(spec: DatasetSpec, expected: DataFile, searched: list[str]) -> Path | None:
    mirror = mirror_dir()
    if mirror is None:
        searched.append(f"镜像 mirror: 未设置环境变量 {MIRROR_ENV} / not set")
        return None
    candidate = mirror / spec.mirror_subdir / expected.filename
    if not candidate.exists():
        searched.append(f"镜像 mirror: {candidate}（不存在 / missing）")
        return None
    try:
        verify(candidate, expected)
        return candidate
    except ChecksumError as err:
        searched.append(f"镜像 mirror: {candidate}（校验失败 / checksum failed：{err}）")
        return None


def _from_urls(expected: DataFile, cached: Path, searched: list[str]) -> Path | None:
    for url in expected.urls:
        try:
            return download(url, cached, expected)
        except Exception as err:
            # 网络层的异常五花八门（OSError、IncompleteRead、坏的 Content-Length 引起的
            # ValueError……）：不论哪种，都记下来并换下一个来源，最后统一报告。
            searched.append(f"下载 download: {url}（失败 / failed：{_describe(err)}）")
    return None


def _copy_into_cache(source: Path, cached: Path) -> Path:
    # 镜像排在最后时，镜像里取到的文件也复制进缓存（先写临时文件再改名），
    # 和真的下载一样：下一次直接命中缓存，不再把每个 URL 重新试一遍。
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{cached.name}.", suffix=".part", dir=cached.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, cached)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return cached


def fetch(dataset: str | DatasetSpec, filename: str, *, allow_download: bool = True) -> Path:
    """返回一个已通过校验的本地文件路径。

    查找顺序：``cache_dir()/<数据集>/<文件>`` -> ``mirror_dir()/<镜像子目录>/<文件>`` ->
    登记表里的每个 URL（下载进缓存目录）。任何一步校验失败都不会使用该文件。
    设置 ``DLZH_DATA_MIRROR_LAST=1`` 时镜像排到 URL 之后（CI 用它走读者的下载路径，
    只有下载不到的文件才取自镜像，并复制进缓存）。
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

    mirror_last = os.environ.get(MIRROR_LAST_ENV, "") not in ("", "0")
    if not mirror_last and (found := _from_mirror(spec, expected, searched)) is not None:
        return found
    if allow_download:
        if (found := _from_urls(expected, cached, searched)) is not None:
            return found
    else:
        searched.append("下载 download: 已禁用 / disabled (allow_download=False)")
    if mirror_last and (found := _from_mirror(spec, expected, searched)) is not None:
        return _copy_into_cache(found, cached)

    places = "\n  - ".join(searched)
    digest = f"{expected.algorithm} {expected.digest[:12]}…"
    size = f"{expected.size} 字节" if expected.size is not None else "大小未登记"
    raise DataNotFoundError(
        f"找不到数据文件 {spec.name}/{filename}（{digest}，{size}）。查找过：\n  - {places}\n"
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


def _extractor(kind: str, extract_dir: Path):
    # pooch 的处理器负责真正的解压（tar 在 Python 3.12+ 用 filter="data" 防路径穿越）；
    # 原子性由 fetch_extracted 的“临时目录 + 改名”保证。
    if kind == "zip":
        return pooch.Unzip(extract_dir=str(extract_dir))
    return pooch.Untar(extract_dir=str(extract_dir))


def fetch_extracted(dataset: str | DatasetSpec, filename: str) -> Path:
    """取一个登记为压缩包的文件并解压，返回解压后的根目录（登记的 ``members`` 相对于它）。

    解压目录是缓存里的 ``<文件名>.extracted``。它只会由一次完整、检查过 ``members`` 的解压
    改名得到，里面记着来源摘要；摘要与登记表不一致（来源更新了）就重新解压。
    """
    spec = get_spec(dataset) if isinstance(dataset, str) else dataset
    expected = spec.file(filename)
    if expected.archive is None:
        raise ValueError(
            f"{spec.name}/{filename} 不是登记的压缩包，请用 fetch()。"
            f" / {spec.name}/{filename} is not a registered archive; use fetch()."
        )
    final = cache_dir() / spec.name / f"{filename}.extracted"
    stamp = final / _EXTRACTED_STAMP
    if stamp.is_file() and stamp.read_text("utf-8").strip() == expected.known_hash:
        return final

    archive = fetch(spec, filename)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{filename}.", suffix=".part", dir=final.parent))
    try:
        with _quiet_pooch():
            _extractor(expected.archive, tmp)(str(archive), "download", None)
        missing = [m for m in expected.members if not (tmp / m).exists()]
        if missing:
            raise ChecksumError(
                f"{archive} 解压后缺少登记的成员 {missing}：来源的目录结构变了，请更新登记表。"
                f" / {archive} lacks registered members {missing}; update the registry."
            )
        (tmp / _EXTRACTED_STAMP).write_text(expected.known_hash + "\n", "utf-8")
        if final.exists():
            # 旧的（来源摘要不同或不完整的）解压结果先整体挪开再删，不与新结果混在一起。
            stale = Path(
                tempfile.mkdtemp(prefix=f".{filename}.", suffix=".stale", dir=final.parent)
            )
            os.replace(final, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:
            # 另一个进程同时解压并先完成了改名：它的结果同样完整，直接使用。
            if not (stamp.is_file() and stamp.read_text("utf-8").strip() == expected.known_hash):
                raise
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
