"""数据增广：transforms.v2 的类型转换与归一化，MixUp/CutMix 的批量语义。"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms as v1
from PIL import Image
from torchvision.transforms import v2

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@pytest.fixture
def pil_image():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))


def test_to_image_to_dtype_equals_v1_to_tensor(pil_image):
    old = v1.ToTensor()(pil_image)
    new = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])(pil_image)
    assert new.shape == old.shape == (3, 12, 10)  # HWC -> CHW
    assert new.dtype == torch.float32 and 0.0 <= new.min() and new.max() <= 1.0
    assert torch.allclose(new, old, atol=1e-6)


def test_normalize_is_per_channel_standardisation(pil_image):
    x = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])(pil_image)
    y = v2.Normalize(MEAN, STD)(x)
    expected = (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
    assert torch.allclose(y, expected, atol=1e-6)


def test_normalize_rejects_uint8_images(pil_image):
    with pytest.raises(TypeError):
        v2.Normalize(MEAN, STD)(v2.ToImage()(pil_image))


def test_flip_and_crop_shapes(pil_image):
    x = v2.ToImage()(pil_image)
    assert torch.equal(v2.RandomHorizontalFlip(p=1.0)(x), x.flip(-1))
    assert torch.equal(v2.RandomVerticalFlip(p=1.0)(x), x.flip(-2))
    assert v2.RandomCrop(8)(x).shape == (3, 8, 8)
    assert v2.Resize((6, 5), antialias=True)(x).shape == (3, 6, 5)


def test_v1_random_erasing_needs_a_tensor(pil_image):
    with pytest.raises((TypeError, AttributeError)):
        v1.RandomErasing(p=1.0)(pil_image)
    x = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])(pil_image)
    erased = v2.RandomErasing(p=1.0, value=0.0)(x)
    assert (erased == 0).any() and erased.shape == x.shape


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.rand(4, 3, 16, 16, generator=g), torch.tensor([0, 1, 2, 3])


def test_mixup_labels_and_images():
    x, y = _batch()
    torch.manual_seed(0)
    xm, ym = v2.MixUp(num_classes=5, alpha=1.0)(x, y)
    assert ym.shape == (4, 5)
    assert torch.allclose(ym.sum(1), torch.ones(4))
    lam = ym[0, 0].item()
    assert torch.allclose(xm, lam * x + (1 - lam) * x.roll(1, 0), atol=1e-6)
    expected = lam * torch.nn.functional.one_hot(y, 5) + (1 - lam) * torch.nn.functional.one_hot(
        y.roll(1, 0), 5
    )
    assert torch.allclose(ym, expected.float(), atol=1e-6)


def test_cutmix_lambda_equals_fraction_of_pixels_kept():
    x, y = _batch()
    torch.manual_seed(3)
    xc, yc = v2.CutMix(num_classes=5, alpha=1.0)(x, y)
    assert yc.shape == (4, 5) and torch.allclose(yc.sum(1), torch.ones(4))
    lam = yc[0, 0].item()
    kept = (xc == x).all(dim=1).float().mean(dim=(1, 2))  # 每张图保留下来的像素比例
    assert torch.allclose(kept, torch.full((4,), lam), atol=1e-6)
    pasted = (xc == x.roll(1, 0)).all(dim=1).float().mean(dim=(1, 2))
    assert torch.allclose(pasted, torch.full((4,), 1 - lam), atol=1e-6)


def test_mixup_needs_a_batch():
    x, y = _batch()
    with pytest.raises(ValueError):
        v2.MixUp(num_classes=5)(x[0], y[0])


def test_random_choice_of_mixup_or_cutmix_in_collate():
    from torch.utils.data import DataLoader, TensorDataset

    x, y = _batch()
    mix = v2.RandomChoice([v2.MixUp(num_classes=5), v2.CutMix(num_classes=5)])
    loader = DataLoader(
        TensorDataset(x, y),
        batch_size=4,
        collate_fn=lambda b: mix(*torch.utils.data.default_collate(b)),
    )
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 3, 16, 16) and yb.shape == (4, 5)
