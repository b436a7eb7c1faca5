"""全书的示意图，按部分分成子模块；页面只需 ``from dlzh.plot import diagrams`` 后调用 ``diagrams.名字()``。

共用的画法（方框、箭头、网格、白色背景）在 :mod:`dlzh.plot.diagrams.basic` 里，
各部分的模块复用它们；每个模块的 ``__all__`` 列出它的图，这里全部导出。
"""

from dlzh.plot.diagrams.attention import *  # noqa: F403
from dlzh.plot.diagrams.attention import __all__ as _attention
from dlzh.plot.diagrams.basic import *  # noqa: F403
from dlzh.plot.diagrams.basic import __all__ as _basic
from dlzh.plot.diagrams.detection import *  # noqa: F403
from dlzh.plot.diagrams.detection import __all__ as _detection
from dlzh.plot.diagrams.diffusion import *  # noqa: F403
from dlzh.plot.diagrams.diffusion import __all__ as _diffusion
from dlzh.plot.diagrams.federated import *  # noqa: F403
from dlzh.plot.diagrams.federated import __all__ as _federated
from dlzh.plot.diagrams.rnn import *  # noqa: F403
from dlzh.plot.diagrams.rnn import __all__ as _rnn
from dlzh.plot.diagrams.seq2seq import *  # noqa: F403
from dlzh.plot.diagrams.seq2seq import __all__ as _seq2seq
from dlzh.plot.diagrams.transformer import *  # noqa: F403
from dlzh.plot.diagrams.transformer import __all__ as _transformer
from dlzh.plot.diagrams.vision import *  # noqa: F403
from dlzh.plot.diagrams.vision import __all__ as _vision
from dlzh.plot.diagrams.vit import *  # noqa: F403
from dlzh.plot.diagrams.vit import __all__ as _vit

__all__ = [
    *_basic,
    *_rnn,
    *_seq2seq,
    *_attention,
    *_transformer,
    *_vit,
    *_detection,
    *_vision,
    *_diffusion,
    *_federated,
]
