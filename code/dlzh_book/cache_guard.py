"""执行缓存的键：页面输出所依赖的一切的摘要，变了就让缓存失效。

jupyter-cache 只对单元源码、元数据和 kernelspec 取哈希，``import dlzh`` 的代码改了它并不知道，
于是页面会继续显示旧输出。输出还取决于锁定的依赖版本、PyTorch/CUDA 版本、设备和档位。
这里把这些写成一个“缓存键”：

- 包：``dlzh`` 包里**受 git 管理**的文件的内容（编辑器的交换文件、未跟踪的草稿、
  ``__pycache__`` 都不算，免得一个 ``.swp`` 让整本书重新执行）。包的代码**按页**计入：
  每页最后的 ``dlzh.run_info()`` 记下内核导入过哪些 ``dlzh`` 模块，改一个子包（如 ``dlzh.optim``）
  只让导入过它的页面重新执行（:func:`doc_key`、:class:`DocKeys`）；包里 Python 以外的文件
  保守地计入整份缓存的键；
- ``locks``：``requirements/*.txt`` 锁文件的内容；
- ``torch`` / ``cuda`` / ``device``：构建进程看到的 PyTorch 版本、CUDA 版本和设备类型
  （内核与构建进程用同一个虚拟环境和同一组环境变量）；
- ``profile`` / ``smoke``：执行档位与冒烟模式。

每种“档位 + 冒烟”组合（见 :func:`flavour`）有自己的一份缓存和印记。整份缓存的键一变就清空
这份缓存并**立即**写下新键：这样即使这次构建中途失败，已经成功执行的页面也以新键留在缓存里，下次不必
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


def package_hashes(package_dirs: list[Path]) -> dict[str, str]:
    """受 git 管理的包文件 -> 内容的 sha256；键是相对包所在目录的路径（如 ``dlzh/optim/scratch.py``）。"""
    hashes = {}
    for folder in sorted(p.resolve() for p in package_dirs):
        for path in [folder] if folder.is_file() else tracked_files(folder):
            rel = str(path.relative_to(folder.parent)).replace("\\", "/")
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def cache_key_parts(
    hashes: dict[str, str], lock_files: list[Path], facts: dict[str, str]
) -> dict[str, str]:
    """整份缓存的键（写进印记，失效时能说清是哪一部分变了）。

    包里的 Python 模块不在这里：它们按页计入（见 :func:`doc_key`），改一个模块只让导入过它的
    页面重新执行。包里的其他文件（数据登记表之类）保守地算作整份缓存的一部分。
    """
    data = hashlib.sha256()
    for rel in sorted(r for r in hashes if not r.endswith(".py")):
        data.update(f"{rel}\0{hashes[rel]}\0".encode())
    locks = [p.resolve() for p in lock_files if p.is_file()]
    return {
        "package-data": data.hexdigest(),
        "locks": files_digest(locks, locks[0].parent) if locks else "none",
        **facts,
    }


def module_files(module: str, hashes: dict[str, str]) -> list[str]:
    """一个模块所属的子包的全部文件（``dlzh.optim.scratch`` -> ``dlzh/optim/`` 下的所有文件）。

    按子包而不是按单个文件计：页面可能在子进程里运行同一子包里的脚本（如
    ``dlzh.distributed`` 的 torchrun 演示），这些脚本不会出现在内核的 ``sys.modules`` 里。
    顶层包本身（``dlzh``）只算它的 ``__init__.py``。
    """
    parts = module.split(".")
    if len(parts) == 1:
        return [r for r in (f"{module}/__init__.py",) if r in hashes]
    prefix = "/".join(parts[:2])
    return sorted(r for r in hashes if r == f"{prefix}.py" or r.startswith(f"{prefix}/"))


def doc_key(base_key: str, hashes: dict[str, str], modules: list[str] | None) -> str:
    """一页的键：整份缓存的键 + 这一页的内核导入过的子包的全部文件的内容。

    ``modules`` 为 None（页面没有调用 ``dlzh.run_info()``，不知道它导入了什么）时，
    保守地取包里所有的文件。
    """
    digest = hashlib.sha256(base_key.encode())
    if modules is None:
        files = sorted(hashes)
    else:
        wanted: set[str] = set()
        for module in set(modules):
            # 导入过、但已不在包里（或没有受 git 管理）的模块：记下名字，删掉或改名也算变化
            wanted.update(module_files(module, hashes) or [f"missing:{module}"])
        files = sorted(wanted)
    for rel in files:
        digest.update(f"{rel}\0{hashes.get(rel, '')}\0".encode())
    return digest.hexdigest()


class DocKeys:
    """每页的键，存在执行缓存旁边（``dlzh-doc-keys-<档位>.json``）。

    与缓存放在一起而不是放在 Sphinx 的环境里：CI 只恢复执行缓存、没有 Sphinx 环境时，
    也要知道缓存里的哪些页面已经过时。
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict] = {}
        if path.exists():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                self.entries = {}

    def set(self, uri: str, modules: list[str] | None, key: str) -> None:
        self.entries[str(Path(uri).resolve())] = {"modules": modules, "key": key}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.entries, ensure_ascii=False, indent=1, sort_keys=True)
        self.path.write_text(text + "\n", encoding="utf-8")

    def outdated(self, base_key: str, hashes: dict[str, str]) -> set[str]:
        """键已经变了的页面（源文件的绝对路径）。"""
        return {
            uri
            for uri, entry in self.entries.items()
            if doc_key(base_key, hashes, entry.get("modules")) != entry.get("key")
        }

    def invalidate(self, cache_path: Path, uris: set[str]) -> None:
        """从执行缓存里删掉这些页面的记录，下次读取时它们一定重新执行。"""
        if uris and cache_path.exists():
            from jupyter_cache import get_cache

            cache = get_cache(str(cache_path))
            for record in cache.list_cache_records():
                if str(Path(record.uri).resolve()) in uris:
                    cache.remove_cache(record.pk)
        for uri in uris:
            self.entries.pop(uri, None)
        self.save()


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
