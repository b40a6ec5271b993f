"""Instruments that watch how student code trains, whatever style it is written in.

- :class:`RecordingOptimizer` wraps an optimizer and logs ``zero_grad`` and ``step``.
- :class:`GradientWatch` notices gradients that pile up from one backward pass to the next.
- :class:`ForwardRecorder` records grad mode, training mode and devices of every forward pass.
"""

from coursekit.probes.forward import ForwardCall, ForwardRecorder
from coursekit.probes.gradients import GradientWatch
from coursekit.probes.optimizer import RecordingOptimizer

__all__ = ["ForwardCall", "ForwardRecorder", "GradientWatch", "RecordingOptimizer"]
