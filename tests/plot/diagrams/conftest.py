"""各部分示意图测试的公共设置：每个测试之后关闭它画的图，免得 Matplotlib 累积几十张图占内存。"""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
