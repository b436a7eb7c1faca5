"""计算机视觉部分的工具：边界框与锚框、检测的目标与指标、语义分割、转置卷积、风格迁移。

按子模块使用（``from dlzh.vision import boxes``），这里不集中导出，
以免一个子模块的导入开销（或错误）波及其他页面。层次上与 :mod:`dlzh.models` 同级：
可以导入 ``dlzh.data``、``dlzh.models``，不导入 ``dlzh.train``/``dlzh.plot``。
"""
