"""模型：从零实现的各章模型，与 ``torch.nn`` 的对应实现一起在测试中对照。"""

from dlzh.models.alexnet import create_alexnet
from dlzh.models.attention import (
    AdditiveAttention,
    DotProductAttention,
    MultiHeadAttention,
    NadarayaWatsonRegression,
    PositionalEncoding,
    causal_mask,
    convert_torch_attention_state,
    keep_attention_weights,
    masked_softmax,
    nadaraya_watson,
    padding_mask,
    position_shift_matrix,
    sequence_mask,
    sinusoidal_positions,
)
from dlzh.models.bahdanau import BahdanauDecoder
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
from dlzh.models.rnn import RecurrentScratch, RNNLanguageModel, gru_step, lstm_step, rnn_step
from dlzh.models.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, translate
from dlzh.models.transformer import (
    Seq2SeqTransformer,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    greedy_decode,
    transformer_lr,
)
from dlzh.models.vgg import create_vgg, vgg_block
from dlzh.models.vit import (
    PatchEmbedding,
    VisionTransformer,
    ViTBlock,
    convert_torchvision_vit_state,
    count_parameters,
    create_vit,
    freeze_backbone_,
    load_pretrained_vit_,
    resize_pos_embed,
)
from dlzh.models.weight_init import init_kaiming_, init_xavier_

__all__ = [
    "AdditiveAttention",
    "BahdanauDecoder",
    "BatchNormScratch",
    "Conv2DScratch",
    "DenseBlock",
    "DotProductAttention",
    "DropoutScratch",
    "EncoderDecoder",
    "GroupNormScratch",
    "Inception",
    "InstanceNormScratch",
    "LayerNormScratch",
    "LinearRegressionScratch",
    "MultiHeadAttention",
    "NadarayaWatsonRegression",
    "PatchEmbedding",
    "PositionalEncoding",
    "RNNLanguageModel",
    "RecurrentScratch",
    "Residual",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    "Seq2SeqTransformer",
    "SoftmaxRegressionScratch",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "ViTBlock",
    "VisionTransformer",
    "causal_mask",
    "class_activation_map",
    "compute_cam",
    "convert_torch_attention_state",
    "convert_torchvision_vit_state",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "count_parameters",
    "create_alexnet",
    "create_densenet",
    "create_googlenet",
    "create_lenet",
    "create_lenet_bn",
    "create_mlp",
    "create_nin",
    "create_resnet18",
    "create_vgg",
    "create_vit",
    "dropout_layer",
    "freeze_backbone_",
    "greedy_decode",
    "gru_step",
    "init_kaiming_",
    "init_xavier_",
    "keep_attention_weights",
    "load_pretrained_vit_",
    "lstm_step",
    "masked_softmax",
    "nadaraya_watson",
    "nin_block",
    "padding_mask",
    "pool2d",
    "position_shift_matrix",
    "relu",
    "resize_pos_embed",
    "resnet_block",
    "rnn_step",
    "sequence_mask",
    "sinusoidal_positions",
    "softmax",
    "split_gap_model",
    "transformer_lr",
    "transition_block",
    "translate",
    "upsample_cam",
    "vgg_block",
]
