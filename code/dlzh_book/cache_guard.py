"""执行缓存的键：页面输出所依赖的一切的摘要，变了就让缓存失效。

jupyter-cache 只对单元源码、元数据和 kernelspec 取哈希，``import dlzh`` 的代码改了它并不知道，
于是页面会继续显示旧输出。输出还取决于锁定的依赖版本、PyTorch/CUDA 版本、设备和档位。
这里把这些写成一个“缓存键”：

- ``package``：``dlzh`` 包里**受 git 管理**的文件的内容（编辑器的交换文件、未跟踪的草稿、
  ``__pycache__`` 都不算，免得一个 ``.swp`` 让整本书重新执行）；
- ``locks``：``requirements/*.txt`` 锁文件的内容；
- ``torch`` / ``cuda`` / ``device``：构建进程看到的 PyTorch 版本、CUDA 版本和设备类型
  （内核与构建进程用同一个虚拟环境和同一组环境变量）；
- ``profile`` / ``smoke``：执行档位与冒烟模式。

每种“档位 + 冒烟”组合（见 :func:`flavour`）有自己的一份缓存和印记。键一变就清空这份缓存并
**立即**写下新键：这样即使这次构建中途失败，已经成功执行的页面也以新键留在缓存里，下次不必
重跑（失败的页面 jupyter-cache 本来就不缓存）。哪些页面需要 Sphinx 重新读取，由扩展按页记下的
键决定（见 :mod:`dlzh_book`），与缓存是否被清空无关。
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

STAMP_PREFIX = "dlzh-cache-key-"
# 没有 git（如从压缩包解开的源码）时按文件名排除的杂物。
_JUNK_SUFFIXES = (".pyc", ".pyo", ".swp", ".swo", ".swx", "~", ".orig", ".rej", ".tmp")


def flavour(profile: str, smoke: bool = False) -> str:
    """缓存的子目录名：``quick``、``full``、``full-smoke``。"""
    return f"{profile}-smoke" if smoke else profile


def _is_junk(path: Path, root: Path) -> bool:
    rel = path.relative_to(root)
    return (
        "__pycache__" in rel.parts
        or any(part.startswith(".") for part in rel.parts)
        or path.name.endswith(_JUNK_SUFFIXES)
        or path.name.startswith("#")
    )


def tracked_files(package_dir: Path) -> list[Path]:
    """``package_dir`` 下受 git 管理的文件（含已修改未提交的）；不在 git 仓库里时退回按名过滤。"""
    package_dir = package_dir.resolve()
    try:
        result = subprocess.run(
            ["git", "-C", str(package_dir), "ls-files", "-z", "--", "."],
            capture_output=True,
            check=True,
            timeout=60,
        )
        names = [n for n in result.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = []
    if names:
        # 已删除但尚未提交删除的文件仍在索引里：只算磁盘上存在的。
        return sorted(p for p in (package_dir / n for n in names) if p.is_file())
    return sorted(p for p in package_dir.rglob("*") if p.is_file() and not _is_junk(p, package_dir))


def files_digest(files: list[Path], root: Path) -> str:
    """若干文件的相对路径和内容的 sha256（与修改时间无关）。"""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).replace("\\", "/").encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def runtime_facts() -> dict[str, str]:
    """构建进程看到的运行环境中影响输出的部分。"""
    import torch

    from dlzh.config import get_device, get_profile
    from dlzh.profile import is_smoke

    return {
        "torch": torch.__version__,
        "cuda": str(torch.version.cuda or "none"),
        "device": get_device().type,
        "profile": get_profile(),
        "smoke": "1" if is_smoke() else "0",
    }


def cache_key_parts(
    package_dirs: list[Path], lock_files: list[Path], facts: dict[str, str]
) -> dict[str, str]:
    """缓存键的各个组成部分（写进印记，失效时能说清是哪一部分变了）。"""
    package = hashlib.sha256()
    for folder in sorted(p.resolve() for p in package_dirs):
        files = [folder] if folder.is_file() else tracked_files(folder)
        package.update(files_digest(files, folder.parent).encode())
    locks = [p.resolve() for p in lock_files if p.is_file()]
    return {
        "package": package.hexdigest(),
        "locks": files_digest(locks, locks[0].parent) if locks else "none",
        **facts,
    }


def digest_of(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def sync_cache(cache_path: Path, stamp_path: Path, parts: dict) -> list[str]:
    """键变了就清空 ``cache_path`` 并立即写下新键；返回变化了的部分名（没变则为空列表）。"""
    previous: dict = {}
    if stamp_path.exists():
        try:
            previous = json.loads(stamp_path.read_text(encoding="utf-8"))
        except ValueError:
            previous = {}
    changed = sorted(k for k in set(parts) | set(previous) if parts.get(k) != previous.get(k))
    if changed:
        if cache_path.exists():
            shutil.rmtree(cache_path)
        stamp_path.parent.mkdir(parents=True, exist_ok=True)
        stamp_path.write_text(json.dumps(parts, indent=1, sort_keys=True) + "\n", "utf-8")
    return changed
