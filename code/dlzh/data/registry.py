"""数据集登记表：每个文件的来源 URL、sha256 和字节数都写在这里，且只写在这里。

查找顺序（见 :func:`dlzh.data.download.fetch`）：本地缓存目录 -> 镜像目录 -> 官方 URL。
以后加入的文本、翻译、检测、分割数据集也登记在这张表里，页面只按名字取用。
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataFile:
    """一个需要校验的文件。``urls`` 按顺序尝试，第一个是官方来源。"""

    filename: str
    sha256: str
    size: int
    urls: tuple[str, ...]


@dataclass(frozen=True)
class DatasetSpec:
    """一个数据集：若干文件，加上它在镜像目录里的子目录名和许可信息。"""

    name: str
    description: str
    files: tuple[DataFile, ...]
    mirror_subdir: str
    license: str
    homepage: str = ""

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


_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_D2L = "http://d2l-data.s3-accelerate.amazonaws.com/"
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
                (_FASHION + "train-images-idx3-ubyte.gz",),
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                29515,
                (_FASHION + "train-labels-idx1-ubyte.gz",),
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                4422102,
                (_FASHION + "t10k-images-idx3-ubyte.gz",),
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                5148,
                (_FASHION + "t10k-labels-idx1-ubyte.gz",),
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
                (_MNIST + "train-images-idx3-ubyte.gz",),
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                28881,
                (_MNIST + "train-labels-idx1-ubyte.gz",),
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                1648877,
                (_MNIST + "t10k-images-idx3-ubyte.gz",),
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                4542,
                (_MNIST + "t10k-labels-idx1-ubyte.gz",),
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
                (_D2L + "timemachine.txt",),
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
                (_D2L + "airfoil_self_noise.dat",),
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
                (_D2L + "kaggle_house_pred_train.csv",),
            ),
            DataFile(
                "kaggle_house_pred_test.csv",
                "8fdd3d829d4d986b58f845c9553b225e67dd8383624d90fb6ca1d4bed5798c1e",
                451405,
                (_D2L + "kaggle_house_pred_test.csv",),
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
