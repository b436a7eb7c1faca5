"""文本与序列：词元化、词表、语言模型的语料与小批量、机器翻译数据、BLEU 和解码（贪心/束搜索）。"""

from dlzh.text.bleu import bleu, ngram_precision
from dlzh.text.decoding import BeamStep, Hypothesis, beam_search, greedy_search
from dlzh.text.sequences import (
    RandomSequenceIterator,
    SequentialSequenceIterator,
    load_time_machine,
    read_time_machine,
    time_machine_iter,
)
from dlzh.text.translation import (
    BOS,
    EOS,
    PAD,
    TensorBatches,
    TranslationData,
    build_array,
    load_translation,
    parse_pairs,
    preprocess_translation,
    read_translation_text,
    truncate_pad,
)
from dlzh.text.vocab import UNK, Vocab, count_corpus, tokenize

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "UNK",
    "BeamStep",
    "Hypothesis",
    "RandomSequenceIterator",
    "SequentialSequenceIterator",
    "TensorBatches",
    "TranslationData",
    "Vocab",
    "beam_search",
    "bleu",
    "build_array",
    "count_corpus",
    "greedy_search",
    "load_time_machine",
    "load_translation",
    "ngram_precision",
    "parse_pairs",
    "preprocess_translation",
    "read_time_machine",
    "read_translation_text",
    "time_machine_iter",
    "tokenize",
    "truncate_pad",
]
