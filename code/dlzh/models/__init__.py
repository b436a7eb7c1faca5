"""模型：从零实现的各章模型，与 ``torch.nn`` 的对应实现一起在测试中对照。"""

from dlzh.models.alexnet import create_alexnet
from dlzh.models.cam import class_activation_map, compute_cam, split_gap_model, upsample_cam
from dlzh.models.conv import (
    Conv2DScratch,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)
from dlzh.models.densenet import DenseBlock, create_densenet, transition_block
from dlzh.models.googlenet import Inception, create_googlenet
from dlzh.models.lenet import create_lenet, create_lenet_bn
from dlzh.models.linear import (
    LinearRegressionScratch,
    SoftmaxRegressionScratch,
    softmax,
)
from dlzh.models.mlp import DropoutScratch, create_mlp, dropout_layer, relu
from dlzh.models.nin import create_nin, nin_block
from dlzh.models.norms import (
    BatchNormScratch,
    GroupNormScratch,
    InstanceNormScratch,
    LayerNormScratch,
)
from dlzh.models.resnet import Residual, create_resnet18, resnet_block
from dlzh.models.vgg import create_vgg, vgg_block
from dlzh.models.weight_init import init_kaiming_, init_xavier_

__all__ = [
    "BatchNormScratch",
    "Conv2DScratch",
    "DenseBlock",
    "DropoutScratch",
    "GroupNormScratch",
    "Inception",
    "InstanceNormScratch",
    "LayerNormScratch",
    "LinearRegressionScratch",
    "Residual",
    "SoftmaxRegressionScratch",
    "class_activation_map",
    "compute_cam",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "create_alexnet",
    "create_densenet",
    "create_googlenet",
    "create_lenet",
    "create_lenet_bn",
    "create_mlp",
    "create_nin",
    "create_resnet18",
    "create_vgg",
    "dropout_layer",
    "init_kaiming_",
    "init_xavier_",
    "nin_block",
    "pool2d",
    "relu",
    "resnet_block",
    "softmax",
    "split_gap_model",
    "transition_block",
    "upsample_cam",
    "vgg_block",
]
