"""执行缓存的守卫：包代码变了就重新执行所有页面；上次执行失败的页面每次都重新读取。

jupyter-cache 只对单元源码、元数据和 kernelspec 取哈希，``import dlzh`` 的代码改了它并不知道，
于是页面会继续显示旧输出。这里对“被监视的路径”（默认是 dlzh 包和锁文件）取一个内容哈希，
与上次构建时记下的值比较：不同就清空执行缓存，并让 Sphinx 重新读取所有页面。
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

STAMP_NAME = "dlzh-watch.sha256"


def tree_hash(paths: list[Path]) -> str:
    """对若干文件/目录的**内容**和相对路径取 sha256（忽略 __pycache__ 和 .pyc）。"""
    digest = hashlib.sha256()
    for root in sorted(paths):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def check_and_invalidate(
    watch: list[Path], cache_path: Path, stamp_dir: Path, profile: str = ""
) -> tuple[bool, str]:
    """监视的内容变了就删除（该档位的）执行缓存，返回 ``(是否失效, 当前哈希)``。

    两个档位各有一份执行缓存和一个印记：档位不写在单元源码里，混用一份缓存会把
    quick 档位的输出当成 full 档位的结果。

    印记要等构建成功结束后再用 :func:`write_stamp` 写入：构建中途被打断时，
    下次构建仍会认为包已改变，从而重新执行所有页面。
    """
    stamp = stamp_dir / stamp_name(profile)
    current = tree_hash([p for p in watch if p.exists()])
    previous = stamp.read_text().strip() if stamp.exists() else None
    changed = previous != current
    if changed and cache_path.exists():
        shutil.rmtree(cache_path)
    return changed, current


def stamp_name(profile: str = "") -> str:
    return f"dlzh-watch-{profile}.sha256" if profile else STAMP_NAME


def profile_switched(stamp_dir: Path, profile: str) -> bool:
    """上次成功构建用的档位与这次不同吗？不同则所有页面都要重新读取（输出来自另一份缓存）。"""
    last = stamp_dir / "last-profile"
    return not last.exists() or last.read_text().strip() != profile


def write_stamp(
    stamp_dir: Path, digest: str, profile: str = "", env_dir: Path | None = None
) -> None:
    """构建成功后记下包哈希（``stamp_dir``）和本次档位（``env_dir``，默认同一目录）。"""
    env_dir = env_dir or stamp_dir
    for folder in (stamp_dir, env_dir):
        folder.mkdir(parents=True, exist_ok=True)
    (stamp_dir / stamp_name(profile)).write_text(digest + "\n")
    (env_dir / "last-profile").write_text(profile + "\n")
