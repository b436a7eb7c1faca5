"""数据集登记表：每个文件的来源 URL、摘要（算法按来源公布的写）和字节数都写在这里，且只写在这里。

查找顺序（见 :func:`dlzh.data.download.fetch`）：本地缓存目录 -> 镜像目录 -> 登记的 URL。
以后加入的文本、翻译、检测、分割数据集也登记在这张表里，页面只按名字取用。
压缩包（zip/tar）登记 ``archive`` 和解压后必须存在的 ``members``，
由 :func:`dlzh.data.download.fetch_extracted` 原子地解压。
"""

from __future__ import annotations

from dataclasses import dataclass

# 摘要算法 -> 十六进制摘要的长度。只收来源实际公布的算法：
# sha256（我们自己核对的文件）、sha1（d2l 的 DATA_HUB）、md5（MNIST/Fashion-MNIST 作者公布的）。
DIGEST_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}
ARCHIVE_KINDS = ("zip", "tar")


@dataclass(frozen=True)
class DataFile:
    """一个需要校验的文件。``urls`` 按顺序尝试，第一个是官方来源，其后是固定版本的备用来源。

    ``size`` 为 ``None`` 表示来源只公布了摘要（如 d2l 的压缩包），此时只核对摘要。
    ``archive`` 为 ``"zip"`` 或 ``"tar"`` 时，``members`` 列出解压后必须存在的相对路径，
    用来发现来源换了目录结构。
    """

    filename: str
    digest: str
    size: int | None
    urls: tuple[str, ...]
    algorithm: str = "sha256"
    archive: str | None = None
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # 登记表写错（摘要长度不对、没有 URL）应当在导入时就暴露，而不是等读者下载失败。
        where = f"登记项 {self.filename!r} / registry entry {self.filename!r}"
        length = DIGEST_LENGTHS.get(self.algorithm)
        if length is None:
            raise ValueError(
                f"{where}：不支持的摘要算法 {self.algorithm!r}，可选 {sorted(DIGEST_LENGTHS)}。"
                f" / unsupported digest algorithm."
            )
        if len(self.digest) != length or self.digest.strip("0123456789abcdef"):
            raise ValueError(
                f"{where}：{self.algorithm} 摘要应为 {length} 位小写十六进制数，"
                f"收到 {self.digest!r}。 / a {self.algorithm} digest has {length} lowercase hex digits."
            )
        if not self.urls or not all(u.startswith(("http://", "https://")) for u in self.urls):
            raise ValueError(
                f"{where}：至少要有一个 http(s) URL。 / needs at least one http(s) URL."
            )
        if self.size is not None and self.size <= 0:
            raise ValueError(f"{where}：字节数必须为正。 / size must be positive.")
        if self.archive is not None and self.archive not in ARCHIVE_KINDS:
            raise ValueError(
                f"{where}：archive 只能是 {ARCHIVE_KINDS}。 / archive must be zip|tar."
            )
        if self.members and self.archive is None:
            raise ValueError(f"{where}：只有压缩包才有 members。 / members need an archive.")

    @property
    def known_hash(self) -> str:
        """pooch 的写法：``算法:摘要``。"""
        return f"{self.algorithm}:{self.digest}"

    @property
    def sha256(self) -> str:
        """sha256 摘要；登记的是别的算法时报错，而不是返回一个名不副实的值。"""
        if self.algorithm != "sha256":
            raise AttributeError(
                f"{self.filename} 登记的是 {self.algorithm} 摘要，没有 sha256；请用 .digest。"
                f" / {self.filename} is registered with {self.algorithm}; use .digest."
            )
        return self.digest


@dataclass(frozen=True)
class DatasetSpec:
    """一个数据集：若干文件，加上它在镜像目录里的子目录名和许可信息。"""

    name: str
    description: str
    files: tuple[DataFile, ...]
    mirror_subdir: str
    license: str
    homepage: str = ""

    def __post_init__(self) -> None:
        names = [f.filename for f in self.files]
        if not names or len(set(names)) != len(names):
            raise ValueError(
                f"数据集 {self.name!r} 的文件名必须非空且不重复：{names}"
                f" / dataset {self.name!r} needs unique file names."
            )

    def file(self, filename: str) -> DataFile:
        for item in self.files:
            if item.filename == filename:
                return item
        known = ", ".join(f.filename for f in self.files)
        raise KeyError(
            f"数据集 {self.name!r} 中没有文件 {filename!r}（已登记：{known}）。"
            f" / Dataset {self.name!r} has no file {filename!r} (registered: {known})."
        )


REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """登记一个数据集；重名说明登记表写错了，直接报错。"""
    if spec.name in REGISTRY:
        raise ValueError(f"数据集 {spec.name!r} 重复登记 / dataset registered twice")
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    """按名字取登记项，名字拼错时列出所有可选项。"""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(
            f"未登记的数据集 {name!r}；可选：{known}。 / Unknown dataset {name!r}; known: {known}."
        ) from None


# 第一个 URL 是官方来源；第二个是固定版本（提交号写死）的 HTTPS 副本，内容逐字节相同：
# Zalando 仓库里的 Fashion-MNIST 文件、d2l-zh 仓库 data/ 下的文件，以及 TensorFlow/JAX
# 示例使用的 MNIST CVDF 镜像。任一来源失效或内容改变，都由 python -m dlzh.data.check_sources 报告。
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_GH = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/"
    "b2617bb6d3ffa2e429640350f613e3291e10b141/data/fashion/"
)
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_MNIST_CVDF = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_D2L = "http://d2l-data.s3-accelerate.amazonaws.com/"
_D2L_GH = (
    "https://raw.githubusercontent.com/d2l-ai/d2l-zh/56bcc80ce123633356b58208d20ace0b4c2b0e71/data/"
)
_D2L_IMG = (
    "https://raw.githubusercontent.com/d2l-ai/d2l-zh/e6b18ccea71451a55fcd861d7b96fddf2587b09a/img/"
)

register(
    DatasetSpec(
        name="fashion-mnist",
        description="Fashion-MNIST：10 类服饰的 28x28 灰度图像，训练集 60000 张、测试集 10000 张",
        mirror_subdir="fashion-mnist",
        license="MIT (Zalando SE)",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        files=(
            DataFile(
                "train-images-idx3-ubyte.gz",
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                26421880,
                (
                    _FASHION + "train-images-idx3-ubyte.gz",
                    _FASHION_GH + "train-images-idx3-ubyte.gz",
                ),
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                29515,
                (
                    _FASHION + "train-labels-idx1-ubyte.gz",
                    _FASHION_GH + "train-labels-idx1-ubyte.gz",
                ),
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                4422102,
                (_FASHION + "t10k-images-idx3-ubyte.gz", _FASHION_GH + "t10k-images-idx3-ubyte.gz"),
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                5148,
                (_FASHION + "t10k-labels-idx1-ubyte.gz", _FASHION_GH + "t10k-labels-idx1-ubyte.gz"),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="mnist",
        description="MNIST：手写数字 0-9 的 28x28 灰度图像，训练集 60000 张、测试集 10000 张",
        mirror_subdir="mnist",
        license="MNIST (LeCun, Cortes, Burges)",
        homepage="https://yann.lecun.com/exdb/mnist/",
        files=(
            DataFile(
                "train-images-idx3-ubyte.gz",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                9912422,
                (_MNIST + "train-images-idx3-ubyte.gz", _MNIST_CVDF + "train-images-idx3-ubyte.gz"),
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                28881,
                (_MNIST + "train-labels-idx1-ubyte.gz", _MNIST_CVDF + "train-labels-idx1-ubyte.gz"),
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                1648877,
                (_MNIST + "t10k-images-idx3-ubyte.gz", _MNIST_CVDF + "t10k-images-idx3-ubyte.gz"),
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                4542,
                (_MNIST + "t10k-labels-idx1-ubyte.gz", _MNIST_CVDF + "t10k-labels-idx1-ubyte.gz"),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="time-machine",
        description="H. G. Wells《时间机器》英文全文（d2l 的 time_machine），语言模型章节使用",
        mirror_subdir="timemachine",
        license="public domain (Project Gutenberg)",
        files=(
            DataFile(
                "timemachine.txt",
                "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516",
                178979,
                (_D2L + "timemachine.txt", _D2L_GH + "timemachine.txt"),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="airfoil",
        description="UCI 翼型自噪声数据：1503 行 x 6 列，优化算法章节使用",
        mirror_subdir="airfoil",
        license="CC BY 4.0 (UCI ML Repository)",
        files=(
            DataFile(
                "airfoil_self_noise.dat",
                "74c75fd71783f1e6b71f8a622b993dc592897a97cd689c5090a07147a1b097b3",
                59984,
                (_D2L + "airfoil_self_noise.dat", _D2L_GH + "airfoil_self_noise.dat"),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="kaggle-house",
        description="Kaggle 房价预测（Ames Housing）：训练集 1460 行，测试集 1459 行",
        mirror_subdir="kaggle_house",
        license="Kaggle competition data (Ames Housing, Dean De Cock)",
        files=(
            DataFile(
                "kaggle_house_pred_train.csv",
                "1e18addf81e5e4d347cc17ee6075bbe4a42b7fa26b9e5b063e8f692a5f929d41",
                460676,
                (_D2L + "kaggle_house_pred_train.csv", _D2L_GH + "kaggle_house_pred_train.csv"),
            ),
            DataFile(
                "kaggle_house_pred_test.csv",
                "8fdd3d829d4d986b58f845c9553b225e67dd8383624d90fb6ca1d4bed5798c1e",
                451405,
                (_D2L + "kaggle_house_pred_test.csv", _D2L_GH + "kaggle_house_pred_test.csv"),
            ),
        ),
    )
)

_IMAGES = {
    "catdog.jpg": ("7580ea4555a01bc18c3e1a21ae6b8099026634034a8a08b4fe443fbc9f849dd2", 32576),
    "rainier.jpg": ("014381e94081625e5e5279fd81f50d01b75ebf10f1e85189d66e2fc93adbc768", 578469),
    "autumn-oak.jpg": ("a277e6926333bcb06f8fa7e68d24e4d3027ecb87802227ed4b514ab1906af557", 2850502),
    "banana.jpg": ("2e1f327573bde0fc18c1fafe6f314a192904e33dc4302a8b7a72ea89a97c20ec", 44367),
    "cat1.jpg": ("be3040de58a5c818a725f03b5acc281423a6ed7fa1e58b2f94f60034656e600b", 53081),
    "cat2.jpg": ("2500d904578adb5f3f7d5e255fc417a66fac92758e5995dec7c3b5d4a74811a1", 554473),
    "cat3.jpg": ("532c5f0a440f819e1151aa6ce16682c46f1ff1a5bc8e2f894f510a1f170adac7", 323684),
    "dog1.jpg": ("53f2ee072ca8f3c064e8f2339c36be0d5f8dddd5e34c2b65142b0e58e62faa21", 277917),
    "dog2.jpg": ("939daf34d0a0ec23125a27402ebcaddaee2e240d191e9a2d2415d2c82abdb1d4", 332881),
    "pikachu.jpg": ("197cd8c176ed3d6860c33da0590a6e2989791b28f31fba7a481c942ba0f3a05d", 90387),
}

register(
    DatasetSpec(
        name="d2l-images",
        description="d2l 书中的示例照片（猫狗、雷尼尔山、秋叶等），目标检测和风格迁移章节使用",
        mirror_subdir="d2l-img/img",
        license="Apache-2.0 (d2l-zh repository)",
        files=tuple(
            DataFile(name, digest, size, (_D2L_IMG + name,))
            for name, (digest, size) in _IMAGES.items()
        ),
    )
)


# d2l 以后几部分要用的压缩包：摘要是 d2l 的 DATA_HUB 公布的 sha1，d2l 没有公布字节数。
# members 是 d2l 的读取代码（download_extract 之后）要打开的路径，用来发现来源改了目录结构。
register(
    DatasetSpec(
        name="fra-eng",
        description="英语-法语句子对（Tatoeba，d2l 的 fra-eng.zip），机器翻译章节使用",
        mirror_subdir="fra-eng-zip",
        license="CC BY 2.0 FR (Tatoeba; www.manythings.org/anki)",
        homepage="https://www.manythings.org/anki/",
        files=(
            DataFile(
                "fra-eng.zip",
                "94646ad1522d915e7b0f9296181140edcf86a4f5",
                None,
                (_D2L + "fra-eng.zip",),
                algorithm="sha1",
                archive="zip",
                members=("fra-eng/fra.txt",),
            ),
        ),
    )
)

# quick 档位与离线构建用的英法句子对：Tatoeba（manythings.org/anki）两列版 fra.txt 的前 51,976 对，
# 与 d2l 的 fra-eng.zip 不逐字节相同（缺少 "Hi.\tSalut !" 等早期行）。固定到一个提交的 GitHub 副本；
# 离线镜像的 fra-eng/fra.txt 就是它（见镜像的 MANIFEST.md）。
register(
    DatasetSpec(
        name="fra-eng-tatoeba",
        description="英语-法语句子对（Tatoeba 两列版 fra.txt 的前 51,976 对，截断版），quick 档位的机器翻译数据",
        mirror_subdir="fra-eng",
        license="CC BY 2.0 FR (Tatoeba; www.manythings.org/anki)",
        homepage="https://www.manythings.org/anki/",
        files=(
            DataFile(
                "fra.txt",
                "0c81471277034274f243836a743b601e3a98e71fc72c9671df210a3513e31131",
                2394529,
                (
                    "https://raw.githubusercontent.com/goonadutch/translator/"
                    "2f378881a61e146ffe92436d17e118bcd1519727/fra.txt",
                ),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="banana-detection",
        description="d2l 的香蕉检测数据集：1000 张 256x256 训练图像和 100 张验证图像及其边界框",
        mirror_subdir="banana-detection",
        license="d2l 生成并发布，未单独声明许可 / published by d2l, no separate license stated",
        files=(
            DataFile(
                "banana-detection.zip",
                "5de26c8fce5ccdea9f91267273464dc968d20d72",
                None,
                (_D2L + "banana-detection.zip",),
                algorithm="sha1",
                archive="zip",
                members=(
                    "banana-detection/bananas_train/label.csv",
                    "banana-detection/bananas_val/label.csv",
                ),
            ),
        ),
    )
)

# Tiny-ImageNet（200 类，64x64）：官方压缩包在 cs231n 的网站上。来源没有公布摘要；这里的 md5 是
# 社区代码普遍使用的值，与 ContinualAI/avalanche 的
# avalanche/benchmarks/datasets/tiny_imagenet/tiny_imagenet.py 中写的一致。字节数没有可靠的公开来源。
register(
    DatasetSpec(
        name="tiny-imagenet",
        description="Tiny-ImageNet-200：ImageNet 的 200 个类别，64x64 图像，每类 500 张训练、50 张验证，ViT 微调使用",
        mirror_subdir="tiny-imagenet",
        license="仅限非商业研究与教学（ImageNet 使用条款） / ImageNet terms: non-commercial research",
        homepage="http://cs231n.stanford.edu/",
        files=(
            DataFile(
                "tiny-imagenet-200.zip",
                "90528d7ca1a48142e341f4ef8d21d0de",
                None,
                ("http://cs231n.stanford.edu/tiny-imagenet-200.zip",),
                algorithm="md5",
                archive="zip",
                members=(
                    "tiny-imagenet-200/wnids.txt",
                    "tiny-imagenet-200/words.txt",
                    "tiny-imagenet-200/val/val_annotations.txt",
                ),
            ),
        ),
    )
)

# 计算机视觉部分（微调、语义分割、图像增广）：摘要是 d2l 的 DATA_HUB 公布的 sha1（hotdog、VOC2012），
# CIFAR-10 是 torchvision 公布的 md5。VOC2012 的第二个 URL 是官方来源。
register(
    DatasetSpec(
        name="hotdog",
        description="d2l 的热狗识别数据集：训练集 2000 张、测试集 1000 张，两个类别",
        mirror_subdir="hotdog",
        license="d2l 发布，图像来自网络，未单独声明许可 / published by d2l, no separate license stated",
        files=(
            DataFile(
                "hotdog.zip",
                "fba480ffa8aa7e0febbb511d181409f899b9baa5",
                None,
                (_D2L + "hotdog.zip",),
                algorithm="sha1",
                archive="zip",
                members=("hotdog/train/hotdog", "hotdog/test/not-hotdog"),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="voc2012",
        description="Pascal VOC2012 训练验证集（语义分割用 SegmentationClass 与 ImageSets/Segmentation）",
        mirror_subdir="voc2012",
        license="Flickr 图像各有其许可；标注见 VOC 的使用条款 / see the PASCAL VOC terms of use",
        homepage="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/",
        files=(
            DataFile(
                "VOCtrainval_11-May-2012.tar",
                "4e443f8a2eca6b1dac8a6c57641b67dd40621a49",
                None,
                (
                    _D2L + "VOCtrainval_11-May-2012.tar",
                    "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                ),
                algorithm="sha1",
                archive="tar",
                members=(
                    "VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt",
                    "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt",
                    "VOCdevkit/VOC2012/SegmentationClass",
                    "VOCdevkit/VOC2012/JPEGImages",
                ),
            ),
        ),
    )
)

register(
    DatasetSpec(
        name="cifar-10",
        description="CIFAR-10：10 类 32x32 彩色图像，训练集 50000 张、测试集 10000 张（Python 版）",
        mirror_subdir="cifar-10",
        license="CIFAR-10 (Krizhevsky, 2009), no explicit license",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files=(
            DataFile(
                "cifar-10-python.tar.gz",
                "c58f30108f718f92721af3b95e74349a",
                None,
                ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                algorithm="md5",
                archive="tar",
                members=(
                    "cifar-10-batches-py/data_batch_1",
                    "cifar-10-batches-py/test_batch",
                    "cifar-10-batches-py/batches.meta",
                ),
            ),
        ),
    )
)
