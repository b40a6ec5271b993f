"""The courier's delivery data: the course material's two bike data sets, and fresh ones.

Distances are in miles, times in minutes. Tensors are float32 of shape [N, 1]:
one row per delivery, one column per feature, as ``nn.Linear`` expects.
"""

from __future__ import annotations

import torch

#: Bike-only data set A of the course material (least squares: w = 5.1, b = 11.1).
BIKE_A_MILES = [1.0, 3.0, 5.0, 7.0]
BIKE_A_MINUTES = [15.0, 27.0, 39.0, 45.0]

#: Bike-only data set B (least squares: w ≈ 3.19831, b ≈ 6.13729).
BIKE_B_MILES = [5.0, 6.0, 8.0, 10.0]
BIKE_B_MINUTES = [22.2, 25.6, 31.0, 38.5]


def column(values: list[float]) -> torch.Tensor:
    """A float32 [N, 1] tensor from N numbers."""
    return torch.tensor(values, dtype=torch.float32).reshape(-1, 1)


def bike_a() -> tuple[torch.Tensor, torch.Tensor]:
    """(miles, minutes) of data set A as [4, 1] float32 tensors."""
    return column(BIKE_A_MILES), column(BIKE_A_MINUTES)


def bike_b() -> tuple[torch.Tensor, torch.Tensor]:
    """(miles, minutes) of data set B as [4, 1] float32 tensors."""
    return column(BIKE_B_MILES), column(BIKE_B_MINUTES)


def fresh_bike_data(seed: int, n: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """A new plausible bike data set, the same for the same seed (for hidden tests).

    Distances 0.5 to 10 miles; about 3 to 6 minutes a mile after 5 to 15
    minutes of pick-up, with a minute or two of noise.
    """
    g = torch.Generator().manual_seed(seed)
    miles = 0.5 + 9.5 * torch.rand(n, 1, generator=g)
    per_mile = 3.0 + 3.0 * torch.rand(1, generator=g)
    overhead = 5.0 + 10.0 * torch.rand(1, generator=g)
    minutes = overhead + per_mile * miles + 1.5 * torch.randn(n, 1, generator=g)
    return miles, minutes


def least_squares_line(miles: torch.Tensor, minutes: torch.Tensor) -> tuple[float, float]:
    """(w, b) of the best straight line, in float64: the exact target for training checks."""
    x = miles.double().flatten()
    y = minutes.double().flatten()
    w = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    b = y.mean() - w * x.mean()
    return float(w), float(b)


def delivery_table(seed: int, n: int = 240) -> tuple[torch.Tensor, torch.Tensor]:
    """A larger, plausible log of deliveries for data loaders, the same for the same seed.

    X is float32 [n, 2]: the distance (0.5 to 10 miles) and whether it rained (0 or 1).
    y is float32 [n, 1]: 5 to 15 minutes of pick-up, 3 to 6 minutes a mile, 4 to 10 minutes
    more in the rain, and two minutes or so of noise. Every row of X differs from the others
    (continuous distances), so a check can recognise each sample after a shuffle.
    """
    g = torch.Generator().manual_seed(seed)
    miles = 0.5 + 9.5 * torch.rand(n, 1, generator=g)
    rain = (torch.rand(n, 1, generator=g) < 0.3).float()
    overhead = 5.0 + 10.0 * torch.rand(1, generator=g)
    per_mile = 3.0 + 3.0 * torch.rand(1, generator=g)
    rain_delay = 4.0 + 6.0 * torch.rand(1, generator=g)
    minutes = overhead + per_mile * miles + rain_delay * rain + 2.0 * torch.randn(n, 1, generator=g)
    return torch.cat([miles, rain], dim=1), minutes


def fresh_feature_data(seed: int, n: int = 12, features: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """A fresh [n, features] batch and its [n, 1] times, the same for the same seed (hidden tests).

    Column 0 is the distance (0.5 to 10 miles); the others are small extra
    features in [0, 1] (rain, traffic...). Times are a linear function of all of
    them plus noise, so a line X @ W + b fits them well.
    """
    g = torch.Generator().manual_seed(seed)
    miles = 0.5 + 9.5 * torch.rand(n, 1, generator=g)
    extras = torch.rand(n, features - 1, generator=g)
    X = torch.cat([miles, extras], dim=1)
    weights = torch.cat([3.0 + 3.0 * torch.rand(1, 1, generator=g), 10.0 * torch.rand(features - 1, 1, generator=g)])
    overhead = 5.0 + 10.0 * torch.rand(1, generator=g)
    minutes = X @ weights + overhead + 1.5 * torch.randn(n, 1, generator=g)
    return X, minutes
