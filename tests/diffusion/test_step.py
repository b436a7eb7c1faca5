import torch
from torch import nn

from dlzh.diffusion import DiffusionStep, NoiseSchedule
from dlzh.train import fit


class Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(()))

    def forward(self, x, t):
        self.seen = (x.detach(), t)
        return self.scale * x


def test_step_loss_is_mse_between_predicted_and_true_noise():
    s = NoiseSchedule.linear(20, 1e-3, 0.2)
    model = Recorder()
    x0 = torch.randn(5, 3)
    step = DiffusionStep(s, generator=torch.Generator().manual_seed(0))
    out = step(model, (x0, torch.zeros(5)), None)
    # 同一个种子重新抽出时间步和噪声
    g = torch.Generator().manual_seed(0)
    t = torch.randint(0, 20, (5,), generator=g)
    noise = torch.randn(5, 3, generator=g)
    assert torch.equal(model.seen[1], t)
    torch.testing.assert_close(model.seen[0], s.add_noise(x0, t, noise))
    # 模型输出 0 时，损失就是噪声的均方
    torch.testing.assert_close(out.loss, (noise**2).mean())
    assert out.weight == 5 and out.outputs is None


def test_fit_with_the_step_learns_the_noise_of_a_constant_dataset():
    """数据全为 0 时 x_t = √(1-ᾱ_t) ε，最优的线性预测 ε ≈ x_t/√(1-ᾱ_t)：损失应远低于起点 1。"""
    torch.manual_seed(0)
    s = NoiseSchedule.linear(10, 1e-3, 0.3)
    model = nn.Linear(2, 2)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x, t):
            return self.net(x) / (1 - s.alpha_bars[t][:, None]).sqrt()

    data = [(torch.zeros(64, 2),) for _ in range(20)]
    history = fit(
        Wrap(),
        data,
        5,
        optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
        step=DiffusionStep(s),
        classification=False,
        device="cpu",
        verbose=False,
    )
    assert history["train_loss"][0] > 5 * history["train_loss"][-1]
    assert history["train_loss"][-1] < 0.05
