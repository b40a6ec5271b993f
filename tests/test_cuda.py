"""05_devices_checkpoints on a real CUDA GPU: the reference, the checks, the corpus and the notebook.

Run with ``pytest -m cuda`` on a machine with an NVIDIA GPU; everywhere else these tests
are skipped with the reason below. The checks add a GPU to the devices each case runs
on whenever ``torch.cuda.is_available()`` (see ``coursekit.checks.devices.machine``), so
here they move batches, models and checkpoints between the CPU and the GPU for real,
with the same cases and the same shipped expectations as on a machine without one.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.reference import devices as ref
from coursekit.checks import devices as check
from coursekit.checks import engine
from coursekit.checks.expect import CheckFailed
from tests.corpus.devices import SUBMISSIONS
from tests.test_checks_devices import EXERCISES, courier, failure, visible

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
    assert check.devices_here() == [torch.device("meta"), CPU, CUDA]
    assert check.missing_device() == f"cuda:{torch.cuda.device_count()}"


def test_reference_picks_cuda():
    assert ref.pick_device().type == "cuda"


def test_reference_moves_a_nested_batch_to_the_gpu_and_back():
    batch = {"features": (torch.rand(4, 1), torch.arange(4).reshape(4, 1)), "minutes": [torch.rand(4, 1)]}
    there = ref.to_device(batch, CUDA)
    assert there["features"][0].is_cuda and there["features"][1].is_cuda and there["minutes"][0].is_cuda
    back = ref.to_device(there, CPU)
    assert torch.equal(back["features"][1], batch["features"][1]) and back["features"][1].dtype == torch.int64


def test_reference_predicts_on_the_gpu_and_answers_on_the_cpu():
    model = courier()
    found = ref.predict_on_device(model, torch.tensor([[7.0]]), CUDA)
    assert found.device.type == "cpu" and next(model.parameters()).is_cuda
    assert found.item() == pytest.approx(46.8, abs=1e-4)


@pytest.mark.parametrize(("written", "read"), [(CUDA, CPU), (CPU, CUDA), (CUDA, CUDA)],
                         ids=["cuda-to-cpu", "cpu-to-cuda", "cuda-to-cuda"])
def test_reference_checkpoint_crosses_devices(tmp_path, written, read):
    path = tmp_path / "courier.pt"
    ref.save_checkpoint(courier().to(written), path)
    model = ref.load_checkpoint(path, lambda: nn.Sequential(nn.Linear(1, 1)), read)
    assert next(model.parameters()).device.type == read.type and not model.training
    with torch.no_grad():
        assert model(torch.tensor([[7.0]], device=read)).item() == pytest.approx(46.8, abs=1e-4)


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_passes_the_visible_and_hidden_checks_on_the_gpu(name):
    """The visible checks read the same shipped expectations as on a machine without a GPU."""
    visible(name, getattr(ref, name))
    getattr(check, f"{name}_hidden")(getattr(ref, name), seeds=SEEDS)


@pytest.mark.parametrize("name", EXERCISES[1:])
def test_every_observation_holds_gpu_runs(name):
    records = []
    engine.set_sink(records.append)
    try:
        getattr(check, f"{name}_hidden")(getattr(ref, name), seeds=[7])
    finally:
        engine.set_sink(None)
    text = str(records)
    assert "cuda" in text


WRONG = [s for s in SUBMISSIONS if s.loses]
RIGHT = [s for s in SUBMISSIONS if not s.loses]


@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_corpus_mistakes_fail_on_the_gpu_too(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here
    (cell, code), = submission.edits.items()
    with pytest.raises(CheckFailed):
        getattr(check, f"{cell}_hidden")(_define(code, cell), seeds=SEEDS)


@pytest.mark.parametrize("submission", RIGHT, ids=[s.student for s in RIGHT])
def test_corpus_right_answers_pass_on_the_gpu(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for cell, code in submission.edits.items():
        student = _define(code, cell)
        visible(cell, student)
        getattr(check, f"{cell}_hidden")(student, seeds=SEEDS)


def test_a_loaded_model_left_on_the_cpu_fails_on_the_gpu_run_too():
    def load_not_moved(path, build_fn, device):
        model = build_fn()
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        return model.eval()

    error = failure(check.load_checkpoint_hidden, load_not_moved, seeds=SEEDS)
    assert error.code == "model_not_on_device"


def test_a_prediction_left_on_the_gpu_fails():
    def left_on_gpu(model, X, device):
        model.to(device).eval()
        with torch.no_grad():
            out = model(X.to(device))
        return out if out.is_cuda else out.cpu()  # right everywhere but on the GPU

    error = failure(check.predict_on_device, left_on_gpu, courier(), torch.tensor([[7.0]]))
    assert error.code == "left_on_device" and "cuda" in str(error)


def test_a_batch_that_never_comes_back_from_the_gpu_fails():
    def one_way(batch, device):
        if isinstance(batch, torch.Tensor):
            return batch if torch.device(device).type == "cpu" else batch.to(device)
        return type(batch)(one_way(x, device) for x in batch)

    error = failure(check.to_device, one_way, [torch.rand(3, 1), torch.rand(3, 1)])
    assert error.code == "tensor_not_moved" and "starting on cuda" in str(error)


@pytest.mark.slow
def test_source_notebook_runs_top_to_bottom_on_the_gpu(tmp_path):
    """The instructor's notebook, hidden tests included, runs on the GPU machine without an error."""
    import nbformat
    from nbclient import NotebookClient

    from tests.conftest import ROOT

    nb = nbformat.read(ROOT / "source" / "05_devices_checkpoints" / "devices_checkpoints.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for name in EXERCISES:
        assert f"✓ {name}" in printed
    assert "on cuda" in printed
