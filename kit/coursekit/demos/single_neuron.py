"""Helpers of 03_single_neuron's demo cells and visible tests.

``line_model`` makes a one-neuron model with weights set by hand: the notebook uses it
for lines it already knows (the least-squares line), never as an answer. A line with
hand-set weights is exactly what ``build_model`` must *not* return (its start is
nn.Linear's own random one).
"""

from __future__ import annotations

import torch
from torch import nn


def line_model(w: float, b: float) -> nn.Module:
    """A one-neuron model that predicts ``w * miles + b``, with the weight and bias set by hand.

    Making it leaves the notebook's random numbers as they were.
    """
    with torch.random.fork_rng(devices=[]):
        model = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(float(w))
        model[0].bias.fill_(float(b))
    return model
