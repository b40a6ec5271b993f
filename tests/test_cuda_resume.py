"""06_resume on a real CUDA GPU: the reference, the checks with ``device="cuda"``, and GPU-only mistakes.

Run with ``pytest -m cuda`` on a machine with an NVIDIA GPU; everywhere else these tests
are skipped with the reason below. The grader itself has no GPU: there the checks load
checkpoints stamped as written on ``cuda:0`` and train on ``meta``. Here the same checks
run with the model really on the GPU (their cases are not in the shipped expectations,
so the judge computes them in-process, as under stock nbgrader).
"""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from autograder.reference import resume as ref
from coursekit.checks import resume as check
from coursekit.checks.expect import CheckFailed
from coursekit.checks.resume import cases, setups
from tests.corpus.resume import SUBMISSIONS

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason="needs a CUDA GPU: torch.cuda.is_available() is False on this machine"),
]

CUDA = torch.device("cuda")
CPU = torch.device("cpu")


def _define(code: str, name: str):
    namespace = {"torch": torch, "nn": nn, "os": os, "DataLoader": DataLoader, "TensorDataset": TensorDataset}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - corpus code written by us
    return namespace[name]


def _run(plan: list[int], path, device: torch.device) -> nn.Module:
    X, y = setups.deliveries(3, 36)
    for i, epochs in enumerate(plan):
        model = setups.seeded_net(6, 1 + i)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        ref.train_with_resume(model, TensorDataset(X, y), nn.MSELoss(), optimizer, epochs, path, seed=4,
                              batch_size=8, device=device)
    return model


def test_a_resumed_run_on_the_gpu_matches_the_uninterrupted_one(tmp_path):
    whole = _run([5], tmp_path / "whole.pt", CUDA)
    resumed = _run([2, 5], tmp_path / "resumed.pt", CUDA)
    for p, q in zip(whole.parameters(), resumed.parameters(), strict=True):
        assert p.is_cuda and torch.allclose(p, q, rtol=1e-5, atol=1e-6)


def test_a_gpu_run_stays_within_the_stated_tolerance_of_the_cpu_run(tmp_path):
    on_gpu = _run([2, 5], tmp_path / "gpu.pt", CUDA)
    on_cpu = _run([2, 5], tmp_path / "cpu.pt", CPU)
    for p, q in zip(on_gpu.parameters(), on_cpu.parameters(), strict=True):
        assert torch.allclose(p.cpu(), q, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(("written", "read"), [(CUDA, CPU), (CPU, CUDA), (CUDA, CUDA)],
                         ids=["cuda-to-cpu", "cpu-to-cuda", "cuda-to-cuda"])
def test_the_reference_checkpoint_crosses_devices(tmp_path, written, read):
    model, optimizer, generator = setups.saving_objects({**cases.saving(0), "device": written.type})
    ref.save_training_state(tmp_path / "c.pt", model, optimizer, 3, generator)
    fresh, fresh_optimizer, fresh_generator = setups.loading_objects(cases.loading(0))
    assert ref.load_training_state(tmp_path / "c.pt", fresh, fresh_optimizer, fresh_generator, read) == 3
    assert {p.device.type for p in fresh.parameters()} == {read.type} and fresh.training
    assert setups.optimizer_devices(fresh_optimizer) == [str(next(fresh.parameters()).device)]
    assert torch.equal(fresh_generator.get_state(), generator.get_state())


def test_the_checks_pass_the_reference_on_the_gpu():
    check.save_training_state(ref.save_training_state, device="cuda")
    check.save_training_state(ref.save_training_state, optimizer="adam", device="cuda")
    check.load_training_state(ref.load_training_state, device="cuda")
    check.load_training_state(ref.load_training_state, optimizer="adam", written_on="cuda:0", device="cuda")
    check.load_training_state(ref.load_training_state, written_on="cuda:0", device="cpu")
    check.train_with_resume(ref.train_with_resume, device="cuda")
    check.train_with_resume(ref.train_with_resume, optimizer="adam", epochs=4, resume_at=1, device="cuda")


@pytest.mark.parametrize("name", ["save_training_state", "load_training_state", "train_with_resume"])
def test_the_hidden_checks_pass_the_reference_on_a_gpu_machine(name):
    getattr(check, f"{name}_hidden")(getattr(ref, name), seeds=[3, 14])


def test_right_but_different_answers_pass_on_the_gpu():
    for submission in [s for s in SUBMISSIONS if not s.loses]:
        functions = {cell: _define(code, cell) for cell, code in submission.edits.items()}
        check.save_training_state(functions["save_training_state"], device="cuda")
        check.load_training_state(functions["load_training_state"], device="cuda")
        check.train_with_resume(functions["train_with_resume"], device="cuda")


def _load(body: str):
    return _define("def load_training_state(path, model, optimizer, generator, device):\n" + body,
                   "load_training_state")


@pytest.mark.parametrize(("body", "code"), [
    # map_location=device puts the generator's state on the GPU; set_state wants a CPU tensor
    ("""    state = torch.load(path, map_location=device, weights_only=True)
    model.to(device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    model.train()
    return state["epoch"]
""", "generator_state_not_cpu"),
    # the model loaded but never moved: on a CPU-only grader the CPU is the right place
    ("""    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    model.train()
    return state["epoch"]
""", "model_not_on_device"),
    # the optimizer's state loaded while the model was still on the CPU, the model moved after
    ("""    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    model.to(device)
    generator.set_state(state["generator"])
    model.train()
    return state["epoch"]
""", "optimizer_state_wrong_device"),
], ids=["generator-state-on-gpu", "model-left-on-cpu", "momentum-left-on-cpu"])
def test_gpu_only_loading_mistakes_are_named(body, code):
    with pytest.raises(CheckFailed) as failed:
        check.load_training_state(_load(body), device="cuda")
    assert failed.value.code == code, str(failed.value)


#: Mistakes that only a machine without a GPU shows: on a GPU machine the checkpoint "written on
#: cuda:0" loads without map_location, and the generator's state is then brought back with .cpu().
CPU_ONLY = {"load_no_map_location"}
WRONG = [s for s in SUBMISSIONS if s.loses and s.student not in CPU_ONLY]


@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_corpus_mistakes_fail_on_the_gpu_too(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here
    (cell, code), = submission.edits.items()
    function = _define(code, cell)
    with pytest.raises(CheckFailed):
        getattr(check, cell)(function, device="cuda")
        getattr(check, f"{cell}_hidden")(function, seeds=[3])


@pytest.mark.slow
def test_source_notebook_runs_top_to_bottom_on_the_gpu_machine(tmp_path):
    """The instructor's notebook, hidden tests included, runs without an error where there is a GPU."""
    import nbformat
    from nbclient import NotebookClient

    from tests.conftest import ROOT

    nb = nbformat.read(ROOT / "source" / "06_resume" / "resume.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for name in ("save_training_state", "load_training_state", "train_with_resume"):
        assert f"✓ {name}" in printed
    assert "bit for bit: True" in printed
