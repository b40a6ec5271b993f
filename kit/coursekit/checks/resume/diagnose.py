"""06_resume's verdicts on save_training_state and load_training_state (and how visible calls are named).

``expected`` is the observation of the reference function on the same case, made by the
judge; each verdict names the mistake it diagnoses with a stable ``code``.
"""

from __future__ import annotations

from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, raised_message
from coursekit.checks.expect import describe, expect, fail
from coursekit.checks.resume.compare import optimizer_states_close, shown, states_close
from coursekit.checks.resume.observe import RNG_KEY

KEYS = ("model", "optimizer", "epoch", "generator")


def describe_save(case: Case) -> str:
    return (f"save_training_state(path, model, optimizer, epoch={case['epoch']}, generator) "
            f"[{case['kind']}]")


def describe_load(case: Case) -> str:
    return f"load_training_state(path, model, optimizer, generator, {case['device']!r}) [{case['kind']}]"


def describe_training(case: Case) -> str:
    return (f"train_with_resume(model, dataset, loss_fn, optimizer, epochs={case['epochs']}, path, seed, "
            f"batch_size={case['batch_size']}, device={case['device']!r}) [{case['kind']}]")


# --- save_training_state --------------------------------------------------------------------------

_PICKLED = (
    ("Generator", "the generator itself", "generator.get_state(), the tensor of its state",
     "generator_object_pickled"),
    ("optim", "the optimizer itself", "optimizer.state_dict()", "optimizer_object_pickled"),
    ("nn.modules", "the model itself", "model.state_dict()", "model_object_pickled"),
)


def _pickled(call: str, error: dict[str, Any]) -> None:
    """The file did not load with weights_only=True: name what was pickled."""
    name = str(error.get("global") or "")
    found = f"{error.get('type')}: {error.get('message')}" + (f" ({name} was pickled)" if name else "")
    for marker, what, instead, code in _PICKLED:
        if marker in name:
            fail(f"{call}: torch.load(path, weights_only=True)", "a dict of plain data (tensors, state_dicts, ints)",
                 found, f"{what} was pickled: its class must be imported to read the file, and loading it can run "
                 f"code, so the safe reader refuses it. Save {instead} instead", code=code)
    fail(f"{call}: torch.load(path, weights_only=True)", "a file that loads with weights_only=True", found,
         "save with torch.save(...) a dict of state_dicts, tensors and plain numbers only: no objects",
         code="not_weights_only")


def _generator_like(value: Any) -> bool:
    return isinstance(value, dict) and RNG_KEY in value


def _optimizer_like(value: Any) -> bool:
    return isinstance(value, dict) and "state" in value and "param_groups" in value


def save_training_state(case: Case, seen: Observation, expected: Observation, call: str) -> None:
    if seen.get("error"):
        raised_message(call, seen["error"])
    expect(seen.get("exists") is True, call, "a checkpoint file at `path`",
           "no file there" + (f" (the folder holds {seen.get('files')})" if seen.get("files") else ""),
           "save to the path you were given: torch.save(..., path)", code="no_file_at_path")
    if seen.get("load_error"):
        _pickled(call, seen["load_error"])
    content, wanted = seen.get("content"), expected["content"]
    what = f"{call}: the saved checkpoint"
    if not isinstance(content, dict):
        fail(what, "a dict with the keys 'model', 'optimizer', 'epoch' and 'generator'", describe(content),
             "save one dict that holds the four parts: torch.save({'model': ..., 'optimizer': ..., 'epoch': ..., "
             "'generator': ...}, path)", code="not_a_dict")
    if set(content) == set(wanted["model"]):
        fail(what, "a dict with the keys 'model', 'optimizer', 'epoch' and 'generator'",
             "the model's state_dict alone (parameter names as keys)",
             "that is 05's checkpoint, enough to predict but not to resume: a resumed run also needs the "
             "optimizer's state, the epoch and the generator's state", code="state_dict_alone")
    missing = [key for key in KEYS if key not in content]
    extra = sorted(str(key) for key in content if key not in KEYS)
    if missing and extra:
        fail(what, "the keys 'model', 'optimizer', 'epoch' and 'generator'", f"the keys {sorted(map(str, content))}",
             f"{', '.join(repr(k) for k in missing)} missing: name the four parts exactly so, since "
             "load_training_state (yours, and anyone's) reads them by these names", code="wrong_keys")
    if "optimizer" in missing:
        fail(what, "the optimizer's state_dict under 'optimizer'", f"the keys {sorted(map(str, content))}",
             "the optimizer's state was not saved: the momentum (Adam: its running averages) would restart "
             "from zero on resume, and the resumed run would drift away from an uninterrupted one. "
             "Save optimizer.state_dict() too", code="optimizer_state_missing")
    if "generator" in missing:
        fail(what, "the generator's state under 'generator'", f"the keys {sorted(map(str, content))}",
             "the state of the generator that shuffles the data was not saved: a resumed run would see the "
             "samples in another order than an uninterrupted one. Save generator.get_state() too",
             code="generator_state_missing")
    if "epoch" in missing:
        fail(what, "the number of epochs finished under 'epoch'", f"the keys {sorted(map(str, content))}",
             "without the epoch a resumed run cannot know where to go on from: save epoch too",
             code="epoch_missing")
    if "model" in missing:
        fail(what, "the model's state_dict under 'model'", f"the keys {sorted(map(str, content))}",
             "save model.state_dict() under 'model'", code="model_state_missing")
    _saved_parts(case, seen, content, wanted, what)
    changed = [part for part, flag in (seen.get("changed") or {}).items() if flag]
    if changed:
        words = {"model": "the model's parameters", "mode": "the model's mode (training -> eval)",
                 "optimizer": "the optimizer's state", "generator": "the generator's state"}
        fail(f"{call}: what saving changed", "nothing: saving only reads the run's state",
             "it changed " + ", ".join(words.get(part, part) for part in changed),
             "a save in the middle of training must leave the run as it was: do not call model.eval(), "
             "generator.manual_seed(...) or draw from the generator while saving", code="save_changed_state")


def _saved_parts(case: Case, seen: Observation, content: dict, wanted: dict, what: str) -> None:
    model = content["model"]
    if _optimizer_like(model) or not isinstance(model, dict):
        fail(f"{what}['model']", "the model's state_dict (parameter names -> tensors)", describe(model),
             "save model.state_dict() under 'model'", code="model_state_wrong")
    expect(states_close(model, wanted["model"]), f"{what}['model']", "the model's own parameters, unchanged",
           f"the names {sorted(map(str, model))}" if set(model) != set(wanted["model"]) else "other values",
           "save model.state_dict() of the model you were given", code="model_state_wrong")
    optimizer = content["optimizer"]
    if not _optimizer_like(optimizer):
        fail(f"{what}['optimizer']", "the optimizer's state_dict (a dict with 'state' and 'param_groups')",
             describe(optimizer), "save optimizer.state_dict() under 'optimizer'", code="optimizer_state_wrong")
    expect(optimizer_states_close(optimizer.get("state"), wanted["optimizer"]["state"]), f"{what}['optimizer']",
           "the optimizer's state: its momentum buffers (Adam: its running averages)",
           "an optimizer state without them" if not optimizer.get("state") else "another optimizer state",
           "save optimizer.state_dict() of the optimizer you were given", code="optimizer_state_wrong")
    epoch, wanted_epoch = content["epoch"], wanted["epoch"]
    if isinstance(epoch, torch.Tensor):
        fail(f"{what}['epoch']", "a plain int", describe(epoch), "save the epoch as the int you were given, "
             "not a tensor", code="wrong_epoch_saved")
    if not (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch == wanted_epoch):
        cause = "save `epoch` as you were given it: it already counts the epochs finished"
        found = shown(describe(epoch), "another value")
        if isinstance(epoch, int) and abs(epoch - wanted_epoch) == 1:
            cause = "the epoch is off by one: " + cause
            found = shown(describe(epoch), f"the epoch given {'+' if epoch > wanted_epoch else '-'} 1")
        fail(f"{what}['epoch']", shown(wanted_epoch, "the epoch you were given"), found, cause,
             code="wrong_epoch_saved")
    _saved_generator(seen, content["generator"], wanted["generator"], what)


def _saved_generator(seen: Observation, found: Any, wanted: Any, what: str) -> None:
    where = f"{what}['generator']"
    if isinstance(found, int) and not isinstance(found, bool):
        fail(where, "the generator's state (generator.get_state())", "a number (a seed?)",
             "a seed says where the generator started, not how far it has gone: a resumed run would repeat "
             "the first epochs' order. Save generator.get_state()", code="generator_seed_only")
    if not _generator_like(found):
        fail(where, "the generator's state (generator.get_state(), a uint8 tensor)", describe(found),
             "save generator.get_state() of the generator you were given", code="generator_state_wrong")
    if found[RNG_KEY] == wanted[RNG_KEY]:
        return
    if found[RNG_KEY] == seen.get("global_rng"):
        fail(where, "the state of the generator you were given", "the state of torch's global generator",
             "torch.get_rng_state() is the global generator's; the data order comes from the generator given "
             "to the DataLoader: save generator.get_state()", code="global_rng_saved")
    fail(where, "the state of the generator you were given", "the state of another generator",
         "save generator.get_state() of the generator you were given, as it is now", code="generator_state_wrong")


# --- load_training_state --------------------------------------------------------------------------

def load_training_state(case: Case, seen: Observation, expected: Observation, call: str) -> None:
    error = seen.get("error")
    if error:
        _load_raised(case, call, error)
    for load in seen.get("loads") or []:
        expect(load.get("weights_only") != "False", f"{call}: torch.load", "torch.load(..., weights_only=True)",
               "torch.load(..., weights_only=False)",
               "weights_only=False unpickles anything, and a checkpoint from elsewhere can run code as it loads: "
               "keep weights_only=True (a checkpoint of plain data needs nothing more)", code="weights_only_off")
    _returned_epoch(seen.get("returned"), expected["returned"], call)
    _placement(case, seen, call)
    before = seen["before"]
    if not states_close(seen["model"], expected["model"]):
        untouched = states_close(seen["model"], before["model"])
        fail(f"{call}: the model's parameters", "the parameters saved in the checkpoint",
             "the model's own fresh parameters, untouched" if untouched else "other values",
             "load them with model.load_state_dict(state['model'])",
             code="model_not_restored" if untouched else "model_state_wrong")
    found_state = (seen.get("optimizer") or {}).get("state")
    if not optimizer_states_close(found_state, expected["optimizer"]["state"]):
        empty = not found_state
        fail(f"{call}: the optimizer's state", "the momentum buffers (Adam: the running averages) saved in the "
             "checkpoint", "an optimizer without state: its momentum starts again from zero" if empty
             else "another state", "restore it with optimizer.load_state_dict(state['optimizer']), on the "
             "optimizer you were given: without it the first steps after a resume differ from an "
             "uninterrupted run's", code="optimizer_not_restored" if empty else "optimizer_state_wrong")
    if seen.get("next_order") != expected["next_order"]:
        untouched = seen.get("generator") == before["generator"]
        fail(f"{call}: the generator", "the generator's state saved in the checkpoint (the next shuffle as the "
             "stopped run would have drawn it)",
             "the generator untouched: it shuffles as a fresh one" if untouched else "another state",
             "restore it with generator.set_state(state['generator']) on the generator you were given: the "
             "DataLoader draws its order from it", code="generator_not_restored" if untouched
             else "generator_state_wrong")
    eval_modules = seen.get("eval_modules") or []
    expect(not eval_modules, f"{call}: the model's mode", "training mode", f"eval mode ({', '.join(eval_modules)})",
           "a resumed run goes on training: call model.train() (05's load_checkpoint switched to eval mode "
           "because it loaded a model to predict with)", code="eval_mode_after_load")
    step_error = seen.get("step_error")
    if step_error:
        fail(f"{call}: one optimizer step after loading", "a step that runs", step_error,
             "the optimizer's state must sit on the parameters' device: move the model to `device` before "
             "optimizer.load_state_dict(...), which puts each buffer next to its parameter",
             code="optimizer_state_wrong_device")
    if not states_close(seen.get("after_step"), expected["after_step"], 1e-6, 1e-7):
        fail(f"{call}: one optimizer step after loading", "the step the stopped run would have taken next",
             "another step", "restore the model and the optimizer from the checkpoint, and keep the optimizer "
             "tied to the model's parameters (no new optimizer, no load_state_dict(..., assign=True))",
             code="next_step_differs")


def _load_raised(case: Case, call: str, error: dict[str, Any]) -> None:
    message = f"{error.get('type')}: {error.get('message')}"
    if case.get("written_on") and ("CUDA" in message or "deserialize" in message):
        fail(call, "the checkpoint loaded on this machine", message,
             f"the checkpoint was written on {case['written_on']}, which this machine does not have: read it "
             "with torch.load(path, map_location=device, weights_only=True) so that its tensors land on `device`",
             code="no_map_location")
    if "RNG state must be" in message or "ByteTensor" in message:
        fail(call, "the generator's state restored", message,
             "a generator's state must be a CPU tensor, but map_location moved it to the device: "
             "generator.set_state(state['generator'].cpu())", code="generator_state_not_cpu")
    if error.get("type") == "KeyError":
        fail(call, "the parts read by their names", message,
             "the checkpoint holds 'model', 'optimizer', 'epoch' and 'generator', as save_training_state "
             "writes them", code="wrong_keys")
    raised_message(call, error)


def _returned_epoch(found: Any, wanted: Any, call: str) -> None:
    what = f"{call}: the value returned"
    if found is None:
        fail(what, "the number of epochs finished, saved in the checkpoint", "None",
             "return state['epoch']: train_with_resume goes on from there", code="epoch_not_returned")
    if isinstance(found, torch.Tensor) or not isinstance(found, int) or isinstance(found, bool):
        fail(what, "an int (the number of epochs finished)", describe(found), "return state['epoch'] as saved",
             code="wrong_epoch_returned")
    if found != wanted:
        cause = "return the epoch saved, unchanged: it already counts the epochs finished"
        shown_found = shown(found, "another number")
        if abs(found - wanted) == 1:
            cause = "off by one: " + cause + ", and a resumed loop starts at range(start, epochs)"
            shown_found = shown(found, f"the epoch saved {'+' if found > wanted else '-'} 1")
        fail(what, shown(wanted, "the epoch saved in the checkpoint"), shown_found, cause,
             code="wrong_epoch_returned")


def _placement(case: Case, seen: Observation, call: str) -> None:
    device = torch.device(case["device"])
    places = seen.get("param_devices") or []
    expect(all(torch.device(p).type == device.type for p in places), f"{call}: where the model is",
           f"every parameter on {device}", f"parameters on {', '.join(places)}",
           "put the model on the device with model.to(device)", code="model_not_on_device")
    buffers = seen.get("optimizer_devices") or []
    expect(all(torch.device(p).type == device.type for p in buffers), f"{call}: where the optimizer's state is",
           f"on {device}, next to the parameters", f"on {', '.join(buffers)}",
           "move the model to `device` first, then optimizer.load_state_dict(...): it puts each buffer next to "
           "its parameter", code="optimizer_state_wrong_device")
