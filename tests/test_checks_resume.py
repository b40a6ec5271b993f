"""The checks of 06_resume: the reference passes, every corpus mistake is named, the judge is not lenient.

Judging runs in-process here (``autograder`` is importable), as under stock nbgrader.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from autograder import judges
from autograder.reference import resume as ref
from coursekit.checks import engine, wire
from coursekit.checks import resume as check
from coursekit.checks.expect import CheckFailed
from coursekit.checks.resume import cases, compare, observe, setups, standins
from tests.corpus.resume import CODES, SUBMISSIONS

SEEDS = [5, 55]
KIT = Path(check.__file__).resolve().parent


def _define(code: str, name: str):
    namespace = {"torch": torch, "nn": nn, "os": os, "DataLoader": DataLoader, "TensorDataset": TensorDataset}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - corpus code written by us
    return namespace[name]


def _code(error: pytest.ExceptionInfo) -> str | None:
    return getattr(error.value, "code", None)


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here


# ----------------------------------------------------------------------------- the reference


def test_reference_passes_the_visible_checks():
    check.save_training_state(ref.save_training_state)
    check.save_training_state(ref.save_training_state, optimizer="adam", epoch=7)
    check.load_training_state(ref.load_training_state)
    check.load_training_state(ref.load_training_state, optimizer="adam", epoch=4, written_on="cuda:0")
    check.train_with_resume(ref.train_with_resume)
    check.train_with_resume(ref.train_with_resume, optimizer="adam", epochs=4, resume_at=3)
    check.train_with_resume(ref.train_with_resume, epochs=2, device="meta")


@pytest.mark.parametrize("name", ["save_training_state", "load_training_state", "train_with_resume"])
def test_reference_passes_the_hidden_checks(name):
    getattr(check, f"{name}_hidden")(getattr(ref, name), seeds=SEEDS)


def test_the_notebooks_visible_checks_pass_from_the_shipped_expectations(monkeypatch):
    """What a student's machine does: no instructor judge, only kit/coursekit/expected/resume.json."""
    monkeypatch.setattr(engine, "_instructor_judge", lambda: None)
    test_reference_passes_the_visible_checks()


def test_a_resumed_reference_run_is_the_uninterrupted_one_bit_for_bit(tmp_path):
    X, y = setups.deliveries(3, 36)
    dataset = TensorDataset(X, y)

    def run(plan: list[int], path: Path) -> nn.Module:
        for i, epochs in enumerate(plan):
            model = setups.seeded_net(6, 1 + i)  # every restart starts from other weights
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            ref.train_with_resume(model, dataset, nn.MSELoss(), optimizer, epochs, path, seed=4, batch_size=8)
        return model

    whole = run([5], tmp_path / "whole.pt")
    for plan in ([2, 5], [1, 3, 5], [4, 5]):
        resumed = run(plan, tmp_path / f"plan{len(plan)}-{plan[0]}.pt")
        assert all(torch.equal(p, q) for p, q in zip(whole.parameters(), resumed.parameters(), strict=True)), plan


def test_the_reference_checkpoint_loads_with_weights_only(tmp_path):
    model, optimizer, generator = setups.saving_objects(cases.saving(0))
    ref.save_training_state(tmp_path / "c.pt", model, optimizer, 3, generator)
    content = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(content) == {"model", "optimizer", "epoch", "generator"} and content["epoch"] == 3


# ----------------------------------------------------------------------------- the corpus, one code each

WRONG = [s for s in SUBMISSIONS if s.loses]


def test_every_wrong_submission_has_its_code():
    assert {s.student for s in WRONG} == set(CODES)


@pytest.mark.slow
@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_each_corpus_mistake_is_named_by_its_hidden_check(submission):
    (cell, code), = submission.edits.items()
    with pytest.raises(CheckFailed) as failed:
        getattr(check, f"{cell}_hidden")(_define(code, cell), seeds=SEEDS[:1])
    assert _code(failed) == CODES[submission.student], str(failed.value)
    message = str(failed.value)
    assert "expected:" in message and "found:" in message and "likely cause:" in message


@pytest.mark.slow
def test_right_but_different_answers_pass():
    for submission in [s for s in SUBMISSIONS if not s.loses]:
        for cell, code in submission.edits.items():
            getattr(check, f"{cell}_hidden")(_define(code, cell), seeds=SEEDS)


# ----------------------------------------------------------------------------- hidden messages


def test_a_hidden_message_shows_neither_inputs_nor_expected_values():
    def off_by_one(path, model, optimizer, epoch, generator):
        ref.save_training_state(path, model, optimizer, epoch + 1, generator)

    seed = 7
    with pytest.raises(CheckFailed) as failed:
        check.save_training_state_hidden(off_by_one, seeds=[seed])
    epoch = cases.save_training_state(seed)[0]["epoch"]
    message = str(failed.value)
    assert "the epoch given + 1" in message
    assert not re.search(rf"\b({epoch}|{epoch + 1})\b", message), message


def test_a_hidden_epoch_count_is_not_shown():
    from tests.corpus.resume import loop

    with pytest.raises(CheckFailed) as failed:
        check.train_with_resume_hidden(_define(loop(loop="range(epochs)"), "train_with_resume"), seeds=[9])
    assert _code(failed) == "epoch_restarted"
    message = str(failed.value)
    assert "every epoch again" in message and not re.search(r"\d+ epochs?\b", message), message


# ----------------------------------------------------------------------------- not lenient


def test_a_slightly_different_training_run_fails_on_the_cpu():
    """A learning rate 0.01% off: within the GPU's tolerance, not within the CPU's."""
    from tests.corpus.resume import loop

    nudged = loop().replace("    model.to(device)\n", "    model.to(device)\n    for group in optimizer.param_groups:\n"
                            "        group['lr'] *= 1.0001\n")
    with pytest.raises(CheckFailed) as failed:
        check.train_with_resume(_define(nudged, "train_with_resume"))
    assert _code(failed) == "training_differs"


def test_the_gpu_tolerance_is_looser_than_the_cpu_one_and_still_tight():
    cpu, gpu = compare.tolerance({"device": "cpu"}), compare.tolerance({"device": "cuda"})
    assert cpu == (1e-5, 1e-6) and gpu[0] > cpu[0] and gpu[0] <= 1e-3


def test_one_weight_off_by_a_little_fails_the_save_check():
    def nudged(path, model, optimizer, epoch, generator):
        state = model.state_dict()
        state = {k: (v + 1e-6 if i == 0 else v) for i, (k, v) in enumerate(state.items())}
        torch.save({"model": state, "optimizer": optimizer.state_dict(), "epoch": epoch,
                    "generator": generator.get_state()}, path)

    with pytest.raises(CheckFailed) as failed:
        check.save_training_state(nudged)
    assert _code(failed) == "model_state_wrong"


def test_a_momentum_buffer_off_by_a_little_fails_the_load_check():
    def nudged(path, model, optimizer, generator, device):
        epoch = ref.load_training_state(path, model, optimizer, generator, device)
        for entry in optimizer.state.values():
            for value in entry.values():
                if value.dim() > 0:
                    value.add_(1e-6)
        return epoch

    with pytest.raises(CheckFailed) as failed:
        check.load_training_state(nudged)
    assert _code(failed) == "optimizer_state_wrong"


def test_a_generator_one_draw_ahead_fails_the_load_check():
    def one_draw_more(path, model, optimizer, generator, device):
        epoch = ref.load_training_state(path, model, optimizer, generator, device)
        torch.rand(1, generator=generator)
        return epoch

    with pytest.raises(CheckFailed) as failed:
        check.load_training_state(one_draw_more)
    assert _code(failed) == "generator_state_wrong"


def test_a_model_left_behind_fails_on_the_meta_device():
    def model_left(model, dataset, loss_fn, optimizer, epochs, path, seed=0, batch_size=16, device="cpu"):
        return ref.train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed, batch_size, "cpu")

    with pytest.raises(CheckFailed) as failed:
        check.train_with_resume(model_left, epochs=2, device="meta")
    assert _code(failed) in ("model_not_moved", "batch_not_moved")


def test_a_save_that_draws_from_the_generator_fails():
    def draws(path, model, optimizer, epoch, generator):
        torch.randint(0, 10, (1,), generator=generator)
        ref.save_training_state(path, model, optimizer, epoch, generator)

    with pytest.raises(CheckFailed) as failed:
        check.save_training_state(draws)
    assert _code(failed) == "generator_state_wrong"  # the saved state is not the one given


def test_a_generator_given_to_the_wrong_place_fails_the_training_check():
    from tests.corpus.resume import loop

    other = _define(loop(save="        save_training_state(path, model, optimizer, epoch + 1, torch.Generator())"),
                    "train_with_resume")
    with pytest.raises(CheckFailed) as failed:
        check.train_with_resume(other)
    assert _code(failed) == "wrong_generator_saved"


# ----------------------------------------------------------------------------- the kit observes only


def test_the_kit_holds_no_answer_key():
    for path in KIT.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) autograder", text, re.M), f"{path.name} imports the answer key"
        assert "def save_training_state(path, model" not in text or path.name == "standins.py"
    source = (KIT / "standins.py").read_text()
    assert not re.search(r"torch\.(load|save)\(", source), "the stand-ins neither read nor write checkpoints"


def test_the_stand_in_load_puts_the_scripted_state_not_the_saved_one(tmp_path):
    case = cases.training(1)
    _, model, optimizer, _ = setups.training_objects(case, resumed=True)
    scripted = setups.resume_state(case)
    path = str(tmp_path / "c.pt")
    fakes = standins.StandIns(path, model, optimizer, scripted)
    before = setups.model_snapshot(model)
    generator = torch.Generator().manual_seed(0)
    fakes.save_training_state(path, model, optimizer, 2, generator)
    assert fakes.load_training_state(path, model, optimizer, generator, "cpu") == case["resume_at"]
    after = setups.model_snapshot(model)
    assert compare.states_close(after, scripted["model"]) and not compare.states_close(after, before)
    assert open(path, "rb").read() == standins.PLACEHOLDER


def test_a_fresh_runs_stand_in_load_fails_like_torch_load(tmp_path):
    case = cases.training(1)
    _, model, optimizer, _ = setups.training_objects(case, resumed=False)
    fakes = standins.StandIns(str(tmp_path / "none.pt"), model, optimizer, None)
    with pytest.raises(FileNotFoundError):
        fakes.load_training_state(str(tmp_path / "none.pt"), model, optimizer, torch.Generator(), "cpu")
    assert fakes.loads == [{"path_ok": True, "file_existed": False, "same_model": True, "same_optimizer": True,
                            "generator_ok": True, "device": "cpu"}]


@pytest.mark.parametrize("name", ["save_training_state", "load_training_state", "train_with_resume"])
def test_hidden_cases_are_plain_and_the_same_for_the_same_seed(name):
    build = getattr(cases, name)
    assert wire.dumps(build(11)) == wire.dumps(build(11)) != wire.dumps(build(12))
    for case in build(11):
        assert case["kind"] and all(isinstance(v, (int, float, str, type(None))) for v in case.values())


def test_observations_cross_the_wire_as_plain_data():
    seen = engine.observe(check.SAVE_TRAINING_STATE, ref.save_training_state, cases.saving(0))
    assert seen["content"]["generator"][observe.RNG_KEY]
    assert "Other" not in repr(wire.roundtrip(seen))
    trained = engine.observe(check.TRAIN_WITH_RESUME, ref.train_with_resume, cases.training(0))
    assert "Other" not in repr(wire.roundtrip(trained))


def test_a_forged_observation_fails_the_cell_and_does_not_crash_the_judge():
    record = {"check": "resume.train_with_resume_hidden", "seed": 1,
              "observations": [wire.encode({"fresh": {"reads": "not a list"}, "resumed": 3})] * 3}
    with pytest.raises(CheckFailed):
        judges.judge_record(record)
    record = {"check": "resume.load_training_state_hidden", "seed": 1, "observations": [wire.encode({})] * 2}
    with pytest.raises(CheckFailed):
        judges.judge_record(record)
