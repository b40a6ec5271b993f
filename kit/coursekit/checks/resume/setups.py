"""What 06_resume's checks build from a case: data, models, optimizers and generators in known states.

Every number here comes from integers (exact float32 values such as multiples of 1/64,
or one correctly rounded operation on them), so a case builds the same tensors on every
machine and the judge, which rebuilds it, sees what the kernel saw. Nothing here trains
or saves: a state "as after k epochs" is made up from the case (scripted), not computed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from coursekit.checks.engine import Case

#: Distance (in tens of miles) and rain (0 or 1): the two features of the courier's delivery log.
FEATURES = 2
#: Momentum of every SGD optimizer the checks build.
MOMENTUM = 0.9


def exact(g: torch.Generator, shape: Any, scale: int) -> torch.Tensor:
    """float32 multiples of 1/scale in [-1, 1] (scale a power of two: exact on every machine)."""
    return torch.randint(-scale, scale + 1, tuple(shape), generator=g).to(torch.float32) / scale


def deliveries(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n deliveries: X [n, 2] (tens of miles, rain), y [n, 1] (hours), the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    miles = torch.randint(5, 101, (n, 1), generator=g).to(torch.float32) / 10
    rain = torch.randint(0, 2, (n, 1), generator=g).to(torch.float32)
    overhead = float(torch.randint(5, 16, (1,), generator=g)) / 60
    per_mile = float(torch.randint(30, 61, (1,), generator=g)) / 600
    delay = float(torch.randint(4, 11, (1,), generator=g)) / 60
    noise = torch.randint(-20, 21, (n, 1), generator=g).to(torch.float32) / 600
    minutes = overhead + per_mile * miles + delay * rain + noise
    return torch.cat([miles / 10, rain], dim=1), minutes


class RecordingDataset(TensorDataset):
    """The deliveries as a Dataset that notes the index of every sample read, in order."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        super().__init__(X, y)
        self.reads: list[int] = []

    def __getitem__(self, index: Any) -> Any:
        self.reads.append(int(index))
        return super().__getitem__(index)


class RecordingLoss(nn.Module):
    """nn.MSELoss that notes every loss value it computes (and where pred and target were)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []
        self.devices: list[tuple[str, str]] = []

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(pred, target)
        self.values.append(float(loss.detach().cpu()))
        self.devices.append((str(pred.device), str(target.device)))
        return loss


class DeviceLoss(nn.Module):
    """For a model on ``meta`` (shapes, no values): notes the devices, returns a CPU number.

    A real loss on meta tensors could not become a float; this one lets a correct loop run
    to its end while it records whether the predictions and the targets reached the device.
    """

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []
        self.devices: list[tuple[str, str]] = []

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.devices.append((str(pred.device), str(target.device)))
        self.values.append(1.0)
        return torch.ones((), requires_grad=True) * 1.0


def courier_net(hidden: int) -> nn.Module:
    """A small network for the delivery log: Linear(2, hidden), ReLU, Linear(hidden, 1)."""
    return nn.Sequential(nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def seeded_net(hidden: int, seed: int) -> nn.Module:
    """``courier_net(hidden)`` with exact weights drawn from ``seed`` (no init arithmetic)."""
    model = courier_net(hidden)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(exact(g, p.shape, 32))
    return model


def make_optimizer(kind: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """SGD with momentum, or Adam: optimizers whose state a resume must carry over."""
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)


def script_optimizer_state(optimizer: torch.optim.Optimizer, seed: int, steps: int) -> None:
    """Give ``optimizer`` a made-up state as after ``steps`` steps (momentum, or Adam's averages)."""
    g = torch.Generator().manual_seed(seed)
    adam = isinstance(optimizer, torch.optim.Adam)
    state: dict[int, dict[str, torch.Tensor]] = {}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        if adam:
            average = exact(g, p.shape, 256) / 4
            state[i] = {"step": torch.tensor(float(steps)), "exp_avg": average,
                        "exp_avg_sq": average * average + 1 / 1024}
        else:
            state[i] = {"momentum_buffer": exact(g, p.shape, 256) / 2}
    saved = optimizer.state_dict()
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def shuffled_generator(seed: int, n: int, batch_size: int, epochs: int) -> torch.Generator:
    """``torch.Generator().manual_seed(seed)`` as after ``epochs`` epochs of a shuffling DataLoader of n samples."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for _ in DataLoader(range(n), batch_size=batch_size, shuffle=True, generator=g):
            pass
    return g


def _hook_optimizer_classes() -> None:
    """Build one SGD and one Adam now, when the kit is imported.

    torch wraps an optimizer class's ``step`` (for its profiler hooks) the first time the
    class is instantiated. Under ``autograder grade`` a class of torch.optim changed inside
    a test cell reads as tampering; the kit is imported before any student code runs, so
    the classes these checks use are wrapped here, once, before the grader's snapshot.
    """
    parameter = nn.Parameter(torch.zeros(1))
    torch.optim.SGD([parameter], lr=0.1, momentum=MOMENTUM)
    torch.optim.Adam([parameter], lr=0.1)


_hook_optimizer_classes()


def batches_per_epoch(n: int, batch_size: int) -> int:
    return -(-n // batch_size)


# --- what observations hold -----------------------------------------------------------------------

def sha(state: torch.Tensor) -> str:
    """A short fingerprint of a generator's state (a uint8 tensor): equal states, equal strings."""
    data = bytes(state.detach().to("cpu", torch.uint8).flatten().tolist())
    return hashlib.sha256(data).hexdigest()[:20]


def model_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state_dict, copied (to the CPU, or as meta tensors for a model on ``meta``)."""
    out = {}
    for name, t in model.state_dict().items():
        t = t.detach()
        out[name] = t.clone() if t.device.type == "meta" else t.to("cpu", copy=True)
    return out


def optimizer_snapshot(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The optimizer's state as plain data: per-parameter tensors (on the CPU), the lr of each group."""
    saved = optimizer.state_dict()
    state = {}
    for index, entry in saved["state"].items():
        state[index] = {key: (value.detach().to("cpu", copy=True)
                              if isinstance(value, torch.Tensor) and value.device.type != "meta" else value)
                        for key, value in entry.items()}
    return {"state": state, "lr": [group.get("lr") for group in saved["param_groups"]]}


def optimizer_devices(optimizer: torch.optim.Optimizer) -> list[str]:
    """Where the optimizer's per-parameter tensors are (Adam's step counter left out: it stays on the CPU)."""
    found = set()
    for entry in optimizer.state.values():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and key != "step":
                found.add(str(value.device))
    return sorted(found)


def parameter_devices(model: nn.Module) -> list[str]:
    return sorted({str(p.device) for p in model.parameters()})


# --- the objects of each check --------------------------------------------------------------------

def saving_objects(case: Case) -> tuple[nn.Module, torch.optim.Optimizer, torch.Generator]:
    """A model, an optimizer and a generator in the made-up state of a run ``case["epoch"]`` epochs in."""
    seed, epoch = case["seed"], case["epoch"]
    model = seeded_net(case["hidden"], 16 * seed + 1).to(case.get("device", "cpu"))
    optimizer = make_optimizer(case["optimizer"], model, case["lr"])
    script_optimizer_state(optimizer, 16 * seed + 2, epoch * 4)
    generator = shuffled_generator(16 * seed + 3, 24, 8, epoch)
    return model.train(), optimizer, generator


def checkpoint_content(case: Case) -> dict[str, Any]:
    """The dict a checkpoint of ``case`` holds, in the format of the exercise (made up, not saved by anyone)."""
    model, optimizer, generator = saving_objects({**case, "device": "cpu"})
    return {"model": model_snapshot(model), "optimizer": optimizer.state_dict(), "epoch": case["epoch"],
            "generator": generator.get_state()}


def loading_objects(case: Case) -> tuple[nn.Module, torch.optim.Optimizer, torch.Generator]:
    """What a resumed run has before it loads: a fresh model, an optimizer without state, a new generator."""
    seed = case["seed"]
    model = seeded_net(case["hidden"], 16 * seed + 5)
    optimizer = make_optimizer(case["optimizer"], model, case["lr"])
    generator = torch.Generator().manual_seed(16 * seed + 6)
    return model.train(), optimizer, generator


def scripted_gradients(model: nn.Module, seed: int) -> list[torch.Tensor]:
    """Exact gradients for one optimizer step after a load (one per parameter, in order)."""
    g = torch.Generator().manual_seed(seed)
    return [exact(g, p.shape, 64) for p in model.parameters()]


def loader_seed(case: Case) -> int:
    """The ``seed`` the test hands train_with_resume for its generator."""
    return 16 * case["seed"] + 9


def training_objects(case: Case, resumed: bool) -> tuple[RecordingDataset, nn.Module, torch.optim.Optimizer, nn.Module]:
    """(dataset, model, optimizer, loss_fn) of one run of train_with_resume.

    A fresh run gets its model in eval mode (each epoch must switch to training mode); a
    resumed run gets other weights and an optimizer without state, as a new process would.
    """
    seed = case["seed"]
    dataset = RecordingDataset(*deliveries(16 * seed + 7, case["n"]))
    model = seeded_net(case["hidden"], 16 * seed + (10 if resumed else 8))
    if not resumed:
        model.eval()
    optimizer = make_optimizer(case["optimizer"], model, case["lr"])
    loss_fn = DeviceLoss() if case["device"] == "meta" else RecordingLoss()
    return dataset, model, optimizer, loss_fn


def resume_state(case: Case) -> dict[str, Any]:
    """The state the stand-in load puts in place: made up, as a run ``resume_at`` epochs in might have it."""
    seed, k = case["seed"], case["resume_at"]
    model = seeded_net(case["hidden"], 16 * seed + 11)
    optimizer = make_optimizer(case["optimizer"], model, case["lr"])
    script_optimizer_state(optimizer, 16 * seed + 12, k * batches_per_epoch(case["n"], case["batch_size"]))
    generator = shuffled_generator(loader_seed(case), case["n"], case["batch_size"], k)
    return {"model": model_snapshot(model), "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
            "epoch": k}
