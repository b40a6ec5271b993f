"""Inputs of 06_resume's tests: small dicts of numbers (inputs only: no answers here).

A case names what its objects are built from (seeds, sizes, the optimizer's kind); the
objects themselves are built from it by :mod:`coursekit.checks.resume.setups`, in the
kernel and again in the judge, so the two see the same numbers.
"""

from __future__ import annotations

import random

from coursekit.checks.engine import Case

#: Learning rates that keep each optimizer's runs on the delivery log well-behaved.
LEARNING_RATES = {"sgd": (0.05, 0.1), "adam": (0.01, 0.02)}


def saving(seed: int, optimizer: str = "sgd", epoch: int = 3, hidden: int = 6, lr: float | None = None,
           device: str = "cpu", kind: str = "") -> Case:
    return {"seed": seed, "optimizer": optimizer, "epoch": epoch, "hidden": hidden,
            "lr": lr if lr is not None else LEARNING_RATES[optimizer][0], "device": device,
            "kind": kind or f"{'Adam' if optimizer == 'adam' else 'SGD with momentum'}, {epoch} epochs in"}


def loading(seed: int, optimizer: str = "sgd", epoch: int = 3, hidden: int = 6, lr: float | None = None,
            written_on: str | None = None, device: str = "cpu", kind: str = "") -> Case:
    where = f"written on {written_on}" if written_on else "written on the CPU"
    return {"seed": seed, "optimizer": optimizer, "epoch": epoch, "hidden": hidden,
            "lr": lr if lr is not None else LEARNING_RATES[optimizer][0], "written_on": written_on,
            "device": device,
            "kind": kind or f"{'Adam' if optimizer == 'adam' else 'SGD with momentum'}, {where}, loaded on {device}"}


def training(seed: int, optimizer: str = "sgd", epochs: int = 5, resume_at: int = 2, n: int = 32,
             batch_size: int = 8, hidden: int = 6, lr: float | None = None, device: str = "cpu",
             kind: str = "") -> Case:
    if device != "meta" and not 0 < resume_at < epochs:
        raise ValueError("resume_at must be an epoch between the first and the last")
    name = "Adam" if optimizer == "adam" else "SGD with momentum"
    default_kind = (f"{name}, a fresh run on the {device} device" if device == "meta"
                    else f"{name}, stopped after epoch {resume_at} of {epochs} and resumed")
    return {"seed": seed, "optimizer": optimizer, "epochs": epochs, "resume_at": resume_at, "n": n,
            "batch_size": batch_size, "hidden": hidden, "lr": lr if lr is not None else LEARNING_RATES[optimizer][0],
            "device": device, "kind": kind or default_kind}


# --- hidden cases ---------------------------------------------------------------------------------

def save_training_state(seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [
        saving(seed, "sgd", rng.randint(1, 9), rng.randint(3, 8), rng.choice(LEARNING_RATES["sgd"]),
               kind="SGD with momentum, some epochs in"),
        saving(seed + 1, "adam", rng.randint(1, 9), rng.randint(3, 8), rng.choice(LEARNING_RATES["adam"]),
               kind="Adam, some epochs in"),
    ]


def load_training_state(seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [
        loading(seed, "sgd", rng.randint(1, 9), rng.randint(3, 8), rng.choice(LEARNING_RATES["sgd"]),
                kind="SGD with momentum, a checkpoint written on the CPU"),
        loading(seed + 1, "adam", rng.randint(1, 9), rng.randint(3, 8), rng.choice(LEARNING_RATES["adam"]),
                written_on="cuda:0", kind="Adam, a checkpoint written on a GPU this machine does not have"),
    ]


def train_with_resume(seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for optimizer in ("sgd", "adam"):
        epochs = rng.randint(3, 5)
        cases.append(training(seed if optimizer == "sgd" else seed + 1, optimizer, epochs,
                              rng.randint(1, epochs - 1), rng.randint(20, 40), rng.choice((6, 8, 10)),
                              rng.randint(3, 8), rng.choice(LEARNING_RATES[optimizer]),
                              kind=f"{'Adam' if optimizer == 'adam' else 'SGD with momentum'}, "
                                   "stopped after some epoch and resumed"))
    cases.append(training(seed + 2, "sgd", 2, 0, rng.randint(12, 20), 4, rng.randint(3, 8), device="meta",
                          kind="a fresh run with the model on another device"))
    return cases
