import pytest
import torch

from dlzh.models.unet import MLPDenoiser, ResBlock, UNet, timestep_embedding


def test_timestep_embedding_matches_the_transformer_formula():
    t = torch.tensor([0, 1, 7, 999])
    emb = timestep_embedding(t, 8)
    assert emb.shape == (4, 8)
    for row, step in zip(emb, t.tolist(), strict=True):
        for i in range(4):
            freq = 10000 ** (-i / 4)
            assert row[i].item() == pytest.approx(
                torch.sin(torch.tensor(step * freq)).item(), abs=1e-5
            )
            assert row[4 + i].item() == pytest.approx(
                torch.cos(torch.tensor(step * freq)).item(), abs=1e-5
            )
    with pytest.raises(ValueError):
        timestep_embedding(t, 7)


def test_timestep_embedding_matches_diffusers():
    embeddings = pytest.importorskip("diffusers.models.embeddings")
    t = torch.tensor([0, 3, 50, 999])
    ref = embeddings.get_timestep_embedding(t, 32, flip_sin_to_cos=False, downscale_freq_shift=0)
    torch.testing.assert_close(timestep_embedding(t, 32), ref, atol=1e-5, rtol=0)


def test_mlp_denoiser_keeps_the_shape_and_depends_on_time():
    torch.manual_seed(0)
    net = MLPDenoiser(dim=2, num_hiddens=16, num_layers=2)
    x = torch.randn(5, 2)
    out0, out9 = net(x, torch.zeros(5, dtype=torch.long)), net(x, torch.full((5,), 9))
    assert out0.shape == (5, 2)
    assert not torch.allclose(out0, out9)


@pytest.mark.parametrize(("size", "mults"), [(28, (1, 2, 2)), (16, (1, 2)), (28, (1,))])
def test_unet_output_has_the_input_shape_and_gradients_reach_every_parameter(size, mults):
    torch.manual_seed(0)
    net = UNet(in_channels=1, base_channels=8, channel_mults=mults, groups=4)
    x = torch.randn(3, 1, size, size)
    out = net(x, torch.tensor([0, 5, 99]))
    assert out.shape == x.shape
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_unet_is_time_conditioned_and_processes_examples_independently():
    torch.manual_seed(0)
    net = UNet(base_channels=8, channel_mults=(1, 2), groups=4).eval()
    x = torch.randn(4, 1, 16, 16)
    t = torch.tensor([1, 2, 3, 4])
    full = net(x, t)
    # 组归一化不跨样本：单独前向与整批前向一致（采样时批量大小不影响结果）
    torch.testing.assert_close(net(x[1:2], t[1:2]), full[1:2], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(net(x, t + 50), full)


def test_res_block_projects_the_skip_connection_when_channels_change():
    block = ResBlock(4, 8, time_dim=6, groups=4)
    out = block(torch.randn(2, 4, 5, 5), torch.randn(2, 6))
    assert out.shape == (2, 8, 5, 5)
    assert isinstance(block.skip, torch.nn.Conv2d)
