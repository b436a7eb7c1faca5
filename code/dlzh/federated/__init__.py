"""联邦学习：客户端数据划分（``split``）与联邦平均 FedAvg（``fedavg``）。

按子模块使用：``from dlzh.federated import fedavg, split``。联邦平均的本地训练就是
:func:`dlzh.train.fit`（每个客户端一次），所以本子包位于 ``dlzh.train`` 之上。
"""
