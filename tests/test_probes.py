"""The probes see zero_grad, piled-up gradients, grad mode, training mode and devices."""

from __future__ import annotations

import torch
from torch import nn

from coursekit.probes import ForwardRecorder, GradientWatch, RecordingOptimizer


def _model():
    torch.manual_seed(0)
    return nn.Linear(2, 1)


def _batch():
    return torch.randn(5, 2), torch.randn(5, 1)


def _train(model, optimizer, steps, clear):
    X, y = _batch()
    for _ in range(steps):
        clear()
        nn.functional.mse_loss(model(X), y).backward()
        optimizer.step()


def test_recording_optimizer_logs_calls_and_still_optimizes():
    model = _model()
    before = model.weight.detach().clone()
    optimizer = RecordingOptimizer(torch.optim.SGD(model.parameters(), lr=0.1))
    _train(model, optimizer, 3, optimizer.zero_grad)
    assert optimizer.events == ["zero_grad", "step"] * 3
    assert optimizer.steps == 3
    assert not torch.equal(before, model.weight)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_gradient_watch_sees_clean_gradients_with_zero_grad():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with GradientWatch(model.parameters()) as watch:
        _train(model, optimizer, 3, optimizer.zero_grad)
    assert watch.backward_passes == 3
    assert watch.always_cleared


def test_gradient_watch_accepts_grad_none_style():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def clear():
        for p in model.parameters():
            p.grad = None

    with GradientWatch(model.parameters()) as watch:
        _train(model, optimizer, 3, clear)
    assert watch.always_cleared


def test_gradient_watch_catches_missing_zero_grad():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with GradientWatch(model.parameters()) as watch:
        _train(model, optimizer, 3, lambda: None)
    assert watch.backward_passes == 3
    assert not watch.always_cleared
    assert watch.piled_up == 2 * 2  # passes 2 and 3, two parameters each


def test_gradient_watch_removes_its_hooks():
    model = _model()
    with GradientWatch(model.parameters()) as watch:
        pass
    X, y = _batch()
    nn.functional.mse_loss(model(X), y).backward()
    assert watch.backward_passes == 0


def test_forward_recorder_records_modes_and_devices():
    model = _model()
    X, _ = _batch()
    with ForwardRecorder(model) as recorder:
        model(X)
        model.eval()
        with torch.no_grad():
            model(X[:1])
    first, second = recorder.calls
    assert first.grad_enabled and first.training
    assert not second.grad_enabled and not second.training
    assert second.batch_shapes == ((1, 2),)
    assert second.input_devices == ("cpu",) and second.parameter_devices == ("cpu",)
    model(X)
    assert len(recorder.calls) == 2  # the hook is gone


def test_forward_recorder_sees_meta_inputs():
    model = _model().to("meta")
    with ForwardRecorder(model) as recorder:
        model(torch.zeros(3, 2, device="meta"))
    assert recorder.calls[0].input_devices == ("meta",)
    assert recorder.calls[0].parameter_devices == ("meta",)
