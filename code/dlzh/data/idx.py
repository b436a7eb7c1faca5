"""IDX 格式（MNIST/Fashion-MNIST 的原始文件格式）解析。

IDX 头部：两个 0 字节、一个数据类型码（0x08 表示 uint8）、一个维数 ``ndim``，
随后是 ``ndim`` 个大端 32 位整数表示各维大小，最后是按 C 顺序排列的数据。
直接把整块数据读成 NumPy 数组再转张量，比逐张解码 PNG/PIL 快两个数量级。

为什么不用 torchvision 的 ``torchvision.datasets.mnist.read_image_file``：它在一个非公开模块里，
只读未压缩的文件（要先把 ``.gz`` 解压到磁盘），解析本身和这里一样是一次 ``frombuffer``，
速度相同（真正的耗时是 gzip 解压，见 ``benchmarks/``）。这里直接读 ``.gz``、核对头部声明的
长度并给出双语错误，还能写 IDX（测试用），所以保留这几十行。
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

# IDX 类型码 -> (NumPy 大端 dtype)
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxFormatError(ValueError):
    """文件不是合法的 IDX 文件（魔数错误或数据长度与头部不符）。"""


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """把 IDX 字节串解析成数组；头部和长度不一致时给出明确错误。"""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise IdxFormatError(
            f"{source} 不是 IDX 文件（魔数 {raw[:4].hex()} 无效）；文件可能损坏或不是解压前的 .gz。"
            f" / {source} is not an IDX file (bad magic {raw[:4].hex()})."
        )
    dtype, ndim = _DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{source} 头部被截断 / truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IdxFormatError(
            f"{source} 数据长度 {len(raw) - header} 字节与头部声明的形状 {shape}"
            f"（{expected} 字节）不符，文件可能被截断。"
            f" / {source}: payload has {len(raw) - header} bytes, header shape {shape} "
            f"needs {expected}."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    # 转成本机字节序，方便直接交给 torch.from_numpy。
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path) -> torch.Tensor:
    """读取 ``.idx`` 或 ``.idx.gz`` 文件，返回张量（uint8 图像/标签保持 uint8）。"""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    array = parse_idx(raw, source=str(path))
    return torch.from_numpy(array.copy())


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """写 IDX 文件（测试用来生成小样例；后缀为 .gz 时压缩）。"""
    path = Path(path)
    codes = {v.newbyteorder("="): k for k, v in _DTYPES.items()}
    array = np.ascontiguousarray(array)
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IdxFormatError(f"IDX 不支持的 dtype {array.dtype} / unsupported dtype")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(_DTYPES[code], copy=False).tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(payload)
