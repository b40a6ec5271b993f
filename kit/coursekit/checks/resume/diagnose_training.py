"""06_resume's verdict on train_with_resume: a fresh run, then a run resumed from a checkpoint.

The observation holds both runs (see ``observe.train_with_resume``): the samples read in
order, the training mode and batch of every forward pass, the batch losses, every call of
the stand-in save and load, and the weights at the end. ``expected`` is the same
observation of the reference function; the reference's fresh run also shows what a run
whose generator was seeded again would read.
"""

from __future__ import annotations

import torch

from coursekit.checks.engine import Case, Observation, raised_message
from coursekit.checks.expect import describe, expect, fail
from coursekit.checks.resume.compare import (
    epochs_word,
    floats_close,
    optimizer_states_close,
    shown,
    states_close,
    tolerance,
)


def train_with_resume(case: Case, seen: Observation, expected: Observation, call: str) -> None:
    if case["device"] == "meta":
        _on_device(case, seen["fresh"], f"{call}: a fresh run")
        return
    _fresh(case, seen["fresh"], expected["fresh"], f"{call}: a fresh run (no checkpoint at path yet)")
    _resumed(case, seen["resumed"], expected["resumed"], expected["fresh"],
             f"{call}: a new run that finds the checkpoint of a stopped one at path")


def _epochs_read(case: Case, run: Observation) -> list[list[int]]:
    reads, n = run.get("reads") or [], case["n"]
    return [reads[i:i + n] for i in range(0, len(reads), n)]


def _raised(run: Observation, what: str) -> None:
    error = run.get("error")
    if not error:
        return
    if error.get("type") == "FileNotFoundError" and any(not load.get("file_existed") for load in run.get("loads", [])):
        fail(what, "a first run that starts from scratch", f"FileNotFoundError: {error.get('message')}",
             "load_training_state was called although no checkpoint exists yet: load only when "
             "os.path.exists(path)", code="load_without_checkpoint")
    if error.get("type") == "UnexpectedLoad":
        fail(what, "one load, before the first epoch", "load_training_state called in the middle of the run",
             "load once, before the loop, and only when a checkpoint exists", code="load_mid_run")
    raised_message(what, error)


def _common(case: Case, run: Observation, what: str, epochs: int, resumed: bool) -> None:
    """What both runs must show: the data, training mode, the batch size, the epochs run."""
    read = _epochs_read(case, run)
    expect(bool(read), what, "the samples read from `dataset` through a DataLoader", "no sample read from dataset",
           "build the loader on the dataset you were given: DataLoader(dataset, batch_size=batch_size, "
           "shuffle=True, generator=generator)", code="dataset_not_used")
    modes = run.get("modes") or []
    expect(all(modes), f"{what}: the model's mode", "training mode in every forward pass",
           shown(f"eval mode in {modes.count(False)} of {len(modes)} forward passes",
                 "eval mode in every forward pass" if not any(modes) else "eval mode in some forward passes"),
           "start each epoch with model.train(): the model may come in eval mode", code="train_mode_missing")
    sizes = run.get("batch_sizes") or []
    expect(not sizes or sizes[0] == case["batch_size"], f"{what}: the batches",
           shown(f"batches of {case['batch_size']}", "batches of `batch_size` samples"),
           shown(f"a first batch of {sizes[0] if sizes else 0}", "batches of another size"),
           "give the DataLoader batch_size=batch_size",
           code="batch_size_ignored")
    if len(read) != epochs:
        cause = "the loop must run the epochs from the one the checkpoint reached up to `epochs`"
        code, relative = "wrong_epoch_count", "more epochs" if len(read) > epochs else "fewer epochs"
        if resumed and len(read) == case["epochs"]:
            cause = ("the run started over from epoch 0: loop over range(start, epochs), where start is what "
                     "load_training_state returned")
            code, relative = "epoch_restarted", "every epoch again, from the first"
        elif len(read) == epochs - 1:
            cause = ("one epoch too few: the loop is range(start, epochs), with start = 0 for a fresh run and "
                     "start = what load_training_state returned after a stop: the number of epochs already "
                     "finished, which is where the run goes on (no + 1)")
            code, relative = "epoch_skipped", "one epoch fewer"
        elif not resumed:
            cause = "a fresh run trains `epochs` epochs, each one pass over the loader"
        partly = "" if all(len(e) == case["n"] for e in read) else " (some only partly)"
        fail(f"{what}: epochs run", shown(epochs_word(epochs), "the epochs still to run"),
             shown(epochs_word(len(read)), relative) + partly, cause, code=code)


def _order_cause(case: Case, read: list[list[int]], wanted: list[list[int]]) -> tuple[str, str]:
    if all(epoch == sorted(epoch) for epoch in read):
        return ("the samples came in their stored order: the loader must shuffle (shuffle=True)", "not_shuffled")
    if len(read) > 1 and all(epoch == wanted[0] for epoch in read):
        return ("every epoch read the samples in the same order: the generator was made (or seeded) again for "
                "each epoch; make it once, before the loop", "generator_recreated_each_epoch")
    return ("shuffle with the seeded generator: generator = torch.Generator().manual_seed(seed), then "
            "DataLoader(..., shuffle=True, generator=generator). Without it the order comes from torch's global "
            "generator, which no checkpoint of yours restores", "order_not_from_generator")


def _fresh(case: Case, run: Observation, wanted: Observation, what: str) -> None:
    _raised(run, what)
    epochs = case["epochs"]
    _common(case, run, what, epochs, resumed=False)
    read, wanted_read = _epochs_read(case, run), _epochs_read(case, wanted)
    if read != wanted_read:
        cause, code = _order_cause(case, read, wanted_read)
        fail(f"{what}: the order of the samples", "the order the seeded generator gives", "another order",
             cause, code=code)
    _saves(case, run, wanted, what, first=1)
    _results(case, run, wanted, what, "training_differs",
             "train as in 04: for every batch move it to `device`, forward, loss_fn, zero_grad, backward, step")


def _resumed(case: Case, run: Observation, wanted: Observation, fresh: Observation, what: str) -> None:
    _raised(run, what)
    loads = run.get("loads") or []
    expect(bool(loads), what, "load_training_state(path, model, optimizer, generator, device) before training",
           "no call of load_training_state", "when a checkpoint exists at path, load it before the loop: the "
           "run goes on from it instead of starting again", code="never_resumes")
    load = loads[0]
    for flag, words in (("path_ok", "the path you were given"), ("same_model", "the model you were given"),
                        ("same_optimizer", "the optimizer you were given"),
                        ("generator_ok", "the generator that shuffles the loader")):
        expect(bool(load.get(flag)), f"{what}: load_training_state's arguments", f"{words}",
               "something else", "call load_training_state(path, model, optimizer, generator, device) with the "
               "objects this run trains", code="load_arguments_wrong")
    k = case["resume_at"]
    _common(case, run, what, case["epochs"] - k, resumed=True)
    read, wanted_read = _epochs_read(case, run), _epochs_read(case, wanted)
    if read != wanted_read:
        if read == _epochs_read(case, fresh)[:len(read)]:
            fail(f"{what}: the order of the samples", "the order the stopped run would have gone on with",
                 "the order of a fresh run's first epochs",
                 "the generator was seeded again after load_training_state restored it: make the generator "
                 "(torch.Generator().manual_seed(seed)) and the loader before loading, and never reseed it after",
                 code="generator_reseeded_after_load")
        cause, code = _order_cause(case, read, wanted_read)
        if code == "order_not_from_generator":
            cause = ("the loader must draw from the generator load_training_state restored: pass that generator "
                     "to the DataLoader, and to load_training_state")
            code = "order_differs_after_resume"
        fail(f"{what}: the order of the samples", "the order the stopped run would have gone on with",
             "another order", cause, code=code)
    _saves(case, run, wanted, what, first=k + 1)
    _results(case, run, wanted, what, "resumed_run_differs",
             "after loading, train exactly as a fresh run does: same loop, same loss_fn, same optimizer")


def _saves(case: Case, run: Observation, wanted: Observation, what: str, first: int) -> None:
    saves, wanted_saves = run.get("saves") or [], wanted["saves"]
    where = f"{what}: checkpoints"
    expect(bool(saves), where, "save_training_state(path, model, optimizer, epoch, generator) after every epoch",
           "no call of save_training_state", "save after every epoch, so that a stop loses one epoch at most",
           code="not_saved")
    labels = [save.get("epoch") for save in saves]
    wanted_labels = [save["epoch"] for save in wanted_saves]
    batches = sum(1 for _ in run.get("batch_sizes") or [])
    if len(saves) != len(wanted_saves):
        every_batch = len(saves) == batches and batches > len(wanted_saves)
        fail(where, shown(f"{len(wanted_saves)} saves, one after each epoch", "one save after each epoch"),
             shown(f"{len(saves)} saves", "more saves than epochs" if len(saves) > len(wanted_saves)
                   else "fewer saves than epochs"),
             "save once per epoch, after its last step" if not every_batch else
             "a save after every batch: save once per epoch, after its last step (the checkpoint's epoch "
             "counts whole epochs)", code="saved_every_batch" if every_batch else "not_saved_every_epoch")
    if labels != wanted_labels:
        off = all(isinstance(a, int) and a == b - 1 for a, b in zip(labels, wanted_labels, strict=True))
        fail(f"{where}: the epoch saved", shown(f"epochs {wanted_labels}", "the number of epochs finished"),
             shown(f"epochs {labels}", "the loop's epoch index (one less)" if off else "other numbers"),
             "the epoch saved counts the epochs finished: after the loop's epoch `epoch` (from 0), save epoch + 1"
             if off else "save the number of epochs finished (epoch + 1 after the loop's epoch `epoch`)",
             code="epoch_label_off_by_one" if off else "wrong_epoch_saved")
    for save in saves:
        expect(bool(save.get("path_ok")) and bool(save.get("same_model")) and bool(save.get("same_optimizer")),
               where, "the path, model and optimizer you were given", "other ones",
               "call save_training_state(path, model, optimizer, epoch + 1, generator) with this run's objects",
               code="save_arguments_wrong")
    rtol, atol = tolerance(case)
    previous = [run.get("initial")] + [save.get("state") for save in wanted_saves]
    for i, (save, good) in enumerate(zip(saves, wanted_saves, strict=True)):
        if states_close(save.get("state"), good["state"], rtol, atol):
            continue
        if first == 1 and states_close(save.get("state"), previous[i], rtol, atol):
            fail(f"{where}: the model saved", "the weights after the epoch's last step",
                 "the weights from before the epoch's training",
                 "the checkpoint was saved before the epoch's steps: save after the batch loop, so that the epoch "
                 "it says is finished really is", code="saved_before_training")
        break  # other differences: the training itself differs (judged below)
    for save, good in zip(saves, wanted_saves, strict=True):
        if save.get("generator") != good["generator"]:
            fail(f"{where}: the generator saved", "the generator that shuffles the loader, as it is after the epoch",
                 "another generator (or another state of it)" if save.get("generator") else describe(None),
                 "hand save_training_state the generator given to the DataLoader", code="wrong_generator_saved")


def _results(case: Case, run: Observation, wanted: Observation, what: str, code: str, cause: str) -> None:
    rtol, atol = tolerance(case)
    returned = run.get("returned")
    epochs = len(wanted["returned"])
    per_epoch = -(-case["n"] // case["batch_size"])
    values = run.get("loss_values") or []
    if not isinstance(returned, (list, tuple)) or len(returned) != epochs:
        fail(f"{what}: the losses returned", shown(f"a list of {epochs} floats", "one float per epoch run"),
             describe(returned), "return a list with the mean batch loss of every epoch this call ran",
             code="losses_wrong")
    for i, value in enumerate(returned):
        if isinstance(value, torch.Tensor):
            fail(f"{what}: the losses returned", "plain floats", describe(value),
                 "a loss kept as a tensor holds its autograd graph: add loss.item()", code="losses_not_floats")
        batch = values[i * per_epoch:(i + 1) * per_epoch]
        sizes = [case["batch_size"]] * (per_epoch - 1) + [case["n"] - case["batch_size"] * (per_epoch - 1)]
        means = [sum(batch) / len(batch)] if batch else []
        if len(batch) == per_epoch:
            means.append(sum(v * s for v, s in zip(batch, sizes, strict=True)) / case["n"])
        expect(isinstance(value, (int, float)) and any(abs(value - m) <= 1e-5 * abs(m) + 1e-6 for m in means),
               f"{what}: the loss returned for an epoch", "the mean of that epoch's batch losses",
               describe(value), "add up loss.item() of every batch and divide by the number of batches",
               code="losses_wrong")
    if not floats_close(values, wanted["loss_values"], rtol, atol):
        fail(f"{what}: the batch losses", "the losses of the reference run", "other losses", cause, code=code)
    expect(states_close(run.get("final"), wanted["final"], rtol, atol), f"{what}: the weights at the end",
           "the weights of the reference run", "other weights", cause, code=code)
    expect(optimizer_states_close(run.get("final_optimizer"), wanted["final_optimizer"], rtol, atol),
           f"{what}: the optimizer's state at the end", "the momentum (Adam: the averages) of the reference run",
           "another state", cause + "; step the optimizer you were given, once per batch", code=code)


def _on_device(case: Case, run: Observation, what: str) -> None:
    params = run.get("param_devices") or []
    inputs = run.get("input_devices") or []
    error = run.get("error")
    device = case["device"]
    if any(p != device for p in params):
        fail(f"{what}: where the model is", f"the model on {device}", f"parameters on {', '.join(params)}",
             "move the model to the device: model.to(device), before the loop", code="model_not_moved")
    if any(i != device for i in inputs):
        fail(f"{what}: where the batches are", f"every batch on {device}", f"batches on {', '.join(inputs)}",
             "move each batch to the device: X_batch.to(device), y_batch.to(device)", code="batch_not_moved")
    if error and not params:
        message = str(error.get("message", ""))
        if "meta" in message or "device" in message:
            fail(what, "a loop that runs on the device", f"{error.get('type')}: {message}",
                 "move the model with model.to(device) and each batch with .to(device)", code="model_not_moved")
    _raised(run, what)
    targets = run.get("target_devices") or []
    expect(bool(targets), what, "loss_fn called on every batch", "loss_fn never called",
           "compute the loss with the loss_fn you were given", code="loss_fn_ignored")
    expect(all(t == device for t in targets), f"{what}: the targets given to loss_fn", f"targets on {device}",
           f"targets on {', '.join(targets)}", "move the targets too: y_batch.to(device)", code="batch_not_moved")
