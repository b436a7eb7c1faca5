"""数据层：登记表、校验下载（pooch）、原子解压、IDX 解析与张量缓存、内存迭代器和合成数据。"""

from dlzh.data.download import (
    ChecksumError,
    DataNotFoundError,
    cache_dir,
    fetch,
    fetch_all,
    fetch_extracted,
    file_digest,
    mirror_dir,
    sha256_of,
)
from dlzh.data.idx import IdxFormatError, read_idx, write_idx
from dlzh.data.loader import TensorLoader, balanced_subset, resize_batch
from dlzh.data.registry import REGISTRY, DataFile, DatasetSpec, get_spec
from dlzh.data.slow import SlowDataset
from dlzh.data.synthetic import array_loader, synthetic_linear
from dlzh.data.tabular import load_airfoil
from dlzh.data.vision import (
    FASHION_MNIST_LABELS,
    fashion_mnist_text_labels,
    load_fashion_mnist,
    load_image_split,
    load_mnist,
)

__all__ = [
    "FASHION_MNIST_LABELS",
    "REGISTRY",
    "ChecksumError",
    "DataFile",
    "DataNotFoundError",
    "DatasetSpec",
    "IdxFormatError",
    "SlowDataset",
    "TensorLoader",
    "array_loader",
    "balanced_subset",
    "cache_dir",
    "fashion_mnist_text_labels",
    "fetch",
    "fetch_all",
    "fetch_extracted",
    "file_digest",
    "get_spec",
    "load_airfoil",
    "load_fashion_mnist",
    "load_image_split",
    "load_mnist",
    "mirror_dir",
    "read_idx",
    "resize_batch",
    "sha256_of",
    "synthetic_linear",
    "write_idx",
]
