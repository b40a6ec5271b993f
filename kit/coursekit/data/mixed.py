"""The course's mixed bike + car delivery data: where one straight line is not enough.

The courier rides a bike on short trips and takes a car on long ones. A bike
starts fast (a few minutes to pick up) but is slow on the road; a car costs a
fixed overhead (walk to it, find parking) but covers each mile much faster.
Time against distance is therefore steep, then flat: two straight pieces with
a bend where the vehicle changes. One neuron can only draw one straight line
through both; a small ReLU network can bend.

Tensors are float32 of shape [N, 1], miles in, minutes out, like ``delivery``.
"""

from __future__ import annotations

import torch

#: Trips shorter than this go by bike, the others by car (miles).
SWITCH_MILES = 3.0
#: The longest trip in the data (miles); the shortest is ``SHORTEST_MILES``.
LONGEST_MILES = 12.0
SHORTEST_MILES = 0.3
#: Bike: minutes to pick up, then minutes a mile (10 mph).
BIKE_PICKUP, BIKE_PER_MILE = 4.0, 6.0
#: Car: minutes of overhead (walk to the car, park), then minutes a mile (40 mph).
CAR_OVERHEAD, CAR_PER_MILE = 17.0, 1.5
#: Standard deviation of the minutes of traffic, weather and luck on a trip.
NOISE_MINUTES = 1.0
#: The seed of the data set the notebook shows.
COURSE_SEED = 2024


def typical_minutes(miles: torch.Tensor) -> torch.Tensor:
    """Minutes a trip takes without noise: by bike below ``SWITCH_MILES``, by car above."""
    bike = BIKE_PICKUP + BIKE_PER_MILE * miles
    car = CAR_OVERHEAD + CAR_PER_MILE * miles
    return torch.where(by_car(miles), car, bike)


def by_car(miles: torch.Tensor) -> torch.Tensor:
    """A bool tensor, True where the trip is long enough to take the car."""
    return miles >= SWITCH_MILES


def mixed_deliveries(seed: int = COURSE_SEED, n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """(miles, minutes), [n, 1] float32: half bike trips, half car trips, in random order.

    The same seed gives the same data; hidden tests draw fresh sets from their own seeds.
    """
    g = torch.Generator().manual_seed(seed)
    bikes = n // 2
    short = SHORTEST_MILES + (SWITCH_MILES - SHORTEST_MILES) * torch.rand(bikes, 1, generator=g)
    long = SWITCH_MILES + (LONGEST_MILES - SWITCH_MILES) * torch.rand(n - bikes, 1, generator=g)
    miles = torch.cat([short, long])[torch.randperm(n, generator=g)]
    minutes = typical_minutes(miles) + NOISE_MINUTES * torch.randn(n, 1, generator=g)
    return miles, minutes


def course_mixed() -> tuple[torch.Tensor, torch.Tensor]:
    """The mixed data set of the notebook: 40 deliveries, half by bike, half by car."""
    return mixed_deliveries(COURSE_SEED, 40)
