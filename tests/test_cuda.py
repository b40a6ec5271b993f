"""05_devices_checkpoints on a real CUDA GPU: the reference, the hidden checks, and the notebook.

Run with ``pytest -m cuda`` on a machine with an NVIDIA GPU; everywhere else these
tests are skipped with the reason below. The same hidden checks add the GPU to the
devices they use whenever ``torch.cuda.is_available()``, so here they move batches,
models and checkpoints between the CPU and the GPU for real.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.checks import devices as check
from autograder.reference import devices as ref
from coursekit.checks.expect import CheckFailed
from tests.corpus.devices import SUBMISSIONS

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason="needs a CUDA GPU: torch.cuda.is_available() is False on this machine"),
]

CUDA = torch.device("cuda")
CPU = torch.device("cpu")
SEEDS = [3, 14]


def _define(code: str, name: str):
    namespace = {"torch": torch, "nn": nn}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - corpus code written by us
    return namespace[name]


def test_the_checks_use_the_gpu():
    assert CUDA.type in {d.type for d in check.devices_here()}
    assert check.missing_device() in ("mps", None)


def test_reference_picks_cuda():
    assert ref.pick_device().type == "cuda"


def test_reference_moves_a_nested_batch_to_the_gpu_and_back():
    batch = {"features": (torch.rand(4, 1), torch.arange(4)), "minutes": [torch.rand(4, 1)]}
    there = ref.to_device(batch, CUDA)
    assert there["features"][0].is_cuda and there["features"][1].is_cuda and there["minutes"][0].is_cuda
    back = ref.to_device(there, CPU)
    assert torch.equal(back["features"][1], batch["features"][1])


def test_reference_predicts_on_the_gpu_and_answers_on_the_cpu():
    model = ref.courier_neuron()
    found = ref.predict_on_device(model, torch.tensor([[7.0]]), CUDA)
    assert found.device.type == "cpu" and next(model.parameters()).is_cuda
    assert found.item() == pytest.approx(46.8, abs=1e-4)


@pytest.mark.parametrize(("written", "read"), [(CUDA, CPU), (CPU, CUDA), (CUDA, CUDA)],
                         ids=["cuda-to-cpu", "cpu-to-cuda", "cuda-to-cuda"])
def test_reference_checkpoint_crosses_devices(tmp_path, written, read):
    path = tmp_path / "courier.pt"
    ref.save_checkpoint(ref.courier_neuron().to(written), path)
    model = ref.load_checkpoint(path, ref.courier_neuron, read)
    assert next(model.parameters()).device.type == read.type and not model.training
    with torch.no_grad():
        assert model(torch.tensor([[7.0]], device=read)).item() == pytest.approx(46.8, abs=1e-4)


@pytest.mark.parametrize("name", ["pick_device", "to_device", "predict_on_device", "save_checkpoint",
                                  "load_checkpoint"])
def test_reference_passes_the_hidden_checks_on_the_gpu(name):
    getattr(check, f"{name}_hidden")(getattr(ref, name), seeds=SEEDS)


WRONG = [s for s in SUBMISSIONS if s.loses]


@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_corpus_mistakes_fail_on_the_gpu_too(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here
    (cell, code), = submission.edits.items()
    with pytest.raises(CheckFailed):
        getattr(check, f"{cell}_hidden")(_define(code, cell), seeds=SEEDS)


def test_a_loaded_model_left_on_the_cpu_fails_on_the_gpu():
    """Only a real GPU shows this one: on a CPU-only grader, the CPU is the right answer."""

    def load_not_moved(path, build_fn, device):
        model = build_fn()
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        return model.eval()

    with pytest.raises(CheckFailed, match="model.to\\(device\\)"):
        check.load_checkpoint_hidden(load_not_moved, seeds=SEEDS)


def test_a_prediction_left_on_the_gpu_fails():
    def left_on_gpu(model, X, device):
        model.to(device).eval()
        with torch.no_grad():
            return model(X.to(device))

    with pytest.raises(CheckFailed, match=r"\.cpu\(\)"):
        check.predict_on_device(left_on_gpu, ref.courier_neuron(), torch.tensor([[7.0]]), CUDA)


@pytest.mark.slow
def test_source_notebook_runs_top_to_bottom_on_the_gpu(tmp_path):
    """The instructor's notebook, hidden tests included, runs on the GPU machine without an error."""
    import nbformat
    from nbclient import NotebookClient

    from tests.conftest import ROOT

    nb = nbformat.read(ROOT / "source" / "05_devices_checkpoints" / "devices_checkpoints.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for name in ("pick_device", "to_device", "predict_on_device", "save_checkpoint", "load_checkpoint"):
        assert f"✓ {name}" in printed
    assert "on cuda" in printed
