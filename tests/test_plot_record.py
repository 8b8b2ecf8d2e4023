"""gdlite.plot.PathRecorder and track(): the recorded path is what the loop saw."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
torch = pytest.importorskip("torch")

import gdlite  # noqa: E402
import gdlite.plot as gp  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.random(20).astype(np.float32)
Y = (1 + 2 * X + 0.1 * RNG.standard_normal(20)).astype(np.float32)


def test_hand_written_loop_path_equals_the_values_the_loop_observed():
    x, y = gdlite.tensor(X), gdlite.tensor(Y)
    w = gdlite.tensor(-1.0, requires_grad=True)
    b = gdlite.tensor(0.5, requires_grad=True)
    rec = gp.PathRecorder({"w": w, "b": b})
    seen, seen_losses = [], []
    for _ in range(15):
        loss = ((w * x + b - y) ** 2).mean()
        rec.record(loss)
        seen.append((w.item(), b.item()))
        seen_losses.append(loss.item())
        loss.backward()
        with gdlite.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    assert rec.names == ["w", "b"]
    np.testing.assert_array_equal(rec.path, np.array(seen))
    np.testing.assert_array_equal(rec.losses, np.array(seen_losses))
    assert len(rec) == 15


def _torch_sgd_path(steps, lr=0.1, momentum=0.9):
    w = torch.tensor([[-1.0], [0.5]], requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
    xs = torch.stack([torch.tensor(X), torch.ones(20)], 1)
    rows, losses = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((xs @ w).squeeze(1) - torch.tensor(Y)).pow(2).mean()
        rows.append(w.detach().numpy().ravel().astype(np.float64))
        losses.append(loss.item())
        loss.backward()
        opt.step()
    rows.append(w.detach().numpy().ravel().astype(np.float64))
    return np.array(rows), np.array(losses)


def _gdlite_setup():
    w = gdlite.tensor([[-1.0], [0.5]], requires_grad=True)
    xs = gdlite.stack([gdlite.tensor(X), gdlite.ones(20)], 1)
    opt = gdlite.optim.SGD([w], lr=0.1, momentum=0.9)

    def loss_fn():
        return ((xs @ w).squeeze(1) - gdlite.tensor(Y)).pow(2).mean()

    return w, opt, loss_fn


def test_optimizer_loop_matches_torch():
    want, want_losses = _torch_sgd_path(12)
    w, opt, loss_fn = _gdlite_setup()
    rec = gp.PathRecorder([w])
    for _ in range(12):
        opt.zero_grad()
        loss = loss_fn()
        rec.record(loss)
        loss.backward()
        opt.step()
    assert rec.names == ["p0[0]", "p0[1]"]
    np.testing.assert_allclose(rec.path, want[:-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rec.losses, want_losses, rtol=1e-5)


def test_track_records_start_and_every_step_without_changing_the_loop():
    want, want_losses = _torch_sgd_path(12)
    w, opt, loss_fn = _gdlite_setup()
    rec = gp.track(opt, {"wb": w}, loss_fn=loss_fn)
    for _ in range(12):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    assert rec.path.shape == (13, 2)
    np.testing.assert_allclose(rec.path, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rec.losses[:-1], want_losses, rtol=1e-5)
    rec.handle.remove()
    opt.step()
    assert len(rec) == 13


def test_track_without_loss_fn_records_nan_losses_and_module_names():
    model = gdlite.nn.Linear(1, 1)
    opt = gdlite.optim.SGD(model.parameters(), lr=0.1)
    rec = gp.track(opt, model)
    assert rec.names == ["weight", "bias"]
    model(gdlite.ones(3, 1)).sum().backward()
    opt.step()
    assert rec.path.shape == (2, 2)
    np.testing.assert_array_equal(
        rec.path[-1], [model.weight.item(), model.bias.item()]
    )
    assert np.isnan(rec.losses).all()


def test_epochs_average_their_steps():
    w = gdlite.tensor(0.0)
    rec = gp.PathRecorder({"w": w})
    values = RNG.random(12)
    for epoch in range(3):
        for k in range(4):
            w.fill_(epoch * 10 + k)
            rec.record(float(values[epoch * 4 + k]))
        rec.end_epoch()
    np.testing.assert_allclose(rec.epoch_losses, values.reshape(3, 4).mean(1))
    np.testing.assert_array_equal(rec.epoch_path[:, 0], [3, 13, 23])
    with pytest.raises(ValueError, match="no step recorded"):
        rec.end_epoch()


def test_bad_arguments_raise_clear_errors():
    w = gdlite.tensor([1.0, 2.0], requires_grad=True)
    rec = gp.PathRecorder({"w": w})
    with pytest.raises(ValueError, match="must be a scalar"):
        rec.record(w * 2)
    with pytest.raises(TypeError, match="dict of tensors"):
        gp.PathRecorder(3.0)
    with pytest.raises(TypeError, match="not a tensor"):
        gp.PathRecorder({"w": 1.0})
    with pytest.raises(ValueError, match="empty"):
        gp.PathRecorder({})
    with pytest.raises(TypeError, match="register_step_post_hook"):
        gp.track(object())


def test_a_parameter_changing_size_is_a_clear_error():
    w = gdlite.zeros(2)
    rec = gp.PathRecorder({"w": w})
    rec.record(0.0)
    w.data = gdlite.zeros(3)
    with pytest.raises(ValueError, match="now have 3 elements, but 2"):
        rec.record(0.0)
