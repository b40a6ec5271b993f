"""Plain JSON for what crosses between a student's kernel and the judge: cases, observations, expectations.

Observations come out of the process that ran student code, so the judge treats
them as untrusted data: JSON only (never pickle, never ``eval``), tensors as a dtype,
a shape and a flat list of numbers, every size bounded. :func:`decode` refuses
anything else with :class:`WireError`, which the judge turns into a failed cell.

Decoded tensors live on the CPU; the device, ``requires_grad`` and whether the
tensor had a ``grad_fn`` when it was observed are kept in :func:`seen`.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import torch

#: Largest number of elements of one tensor sent whole (larger: shape and dtype only).
MAX_ELEMENTS = 1 << 20
#: Deepest nesting accepted.
MAX_DEPTH = 24
#: Longest string kept.
MAX_TEXT = 2000
#: Largest encoded payload accepted by the judge (bytes).
MAX_PAYLOAD = 16 << 20

_DTYPES = {
    str(d).removeprefix("torch."): d
    for d in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.uint8,
              torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128)
}
_SEEN = "_coursekit_seen"


class WireError(ValueError):
    """Data that is not a valid encoding (malformed, too large, or of an unknown kind)."""


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able data; objects of no known kind become their type and short repr."""
    if depth > MAX_DEPTH:
        return {"__other__": {"type": "too deep", "repr": ""}}
    if value is None or isinstance(value, (bool, str)):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, int):
        return value if abs(value) < 2**62 else {"__other__": {"type": "int", "repr": str(value)[:100]}}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, torch.Tensor):
        return {"__tensor__": _encode_tensor(value)}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, torch.dtype):
        return {"__dtype__": dtype_name(value)}
    if isinstance(value, torch.nn.Module):
        return {"__module__": {"type": type(value).__name__, "training": bool(value.training),
                               "state": encode(dict(value.state_dict()), depth + 1)}}
    if isinstance(value, (list, tuple)):
        kind = "__list__" if isinstance(value, list) else "__tuple__"
        return {kind: [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return {"__other__": {"type": type(value).__name__, "repr": _safe_repr(value)}}


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # noqa: BLE001 - a broken __repr__ is still an observation
        return "<no repr>"


def _encode_tensor(t: torch.Tensor) -> dict[str, Any]:
    meta = {"dtype": dtype_name(t.dtype), "shape": list(t.shape), "device": str(t.device),
            "requires_grad": bool(t.requires_grad), "grad_fn": t.grad_fn is not None}
    if t.device.type == "meta" or t.numel() > MAX_ELEMENTS or dtype_name(t.dtype) not in _DTYPES:
        return {**meta, "data": None}
    flat = t.detach().to("cpu").reshape(-1)
    if flat.is_complex():
        flat = torch.view_as_real(flat).reshape(-1)
    if flat.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    data = [v if isinstance(v, (bool, int)) or math.isfinite(v) else repr(v) for v in flat.tolist()]
    return {**meta, "data": data}


def decode(data: Any, depth: int = 0) -> Any:
    """The value :func:`encode` made; :class:`WireError` for anything else."""
    if depth > MAX_DEPTH:
        raise WireError("nested too deep")
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, str):
        if len(data) > MAX_TEXT:
            raise WireError("string too long")
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise WireError(f"not an encoded value: {type(data).__name__}")
    (kind, body), = data.items()
    if kind == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if kind == "__tensor__":
        return _decode_tensor(body)
    if kind == "__device__" and isinstance(body, str):
        return body
    if kind == "__dtype__" and body in _DTYPES:
        return _DTYPES[body]
    if kind in ("__list__", "__tuple__") and isinstance(body, list):
        items = [decode(v, depth + 1) for v in body]
        return items if kind == "__list__" else tuple(items)
    if kind == "__dict__" and isinstance(body, list):
        out = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise WireError("malformed dict")
            key = decode(pair[0], depth + 1)
            if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                raise WireError("unhashable dict key")
            out[key] = decode(pair[1], depth + 1)
        return out
    if kind == "__module__" and isinstance(body, dict):
        state = decode(body.get("state"), depth + 1)
        if not isinstance(state, dict):
            raise WireError("malformed module")
        return ModuleRecord(str(body.get("type", ""))[:100], bool(body.get("training")), state)
    if kind == "__other__" and isinstance(body, dict):
        return Other(str(body.get("type", ""))[:100], str(body.get("repr", ""))[:200])
    raise WireError(f"unknown kind {kind!r}")


def _decode_tensor(body: Any) -> torch.Tensor | Other:
    if not isinstance(body, dict):
        raise WireError("malformed tensor")
    dtype = _DTYPES.get(body.get("dtype"))
    shape = body.get("shape")
    if dtype is None or not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise WireError("malformed tensor")
    count = math.prod(shape)
    data = body.get("data")
    if data is None:
        values = None
    else:
        if not isinstance(data, list) or len(data) != count * (2 if dtype.is_complex else 1) or count > MAX_ELEMENTS:
            raise WireError("tensor data does not match its shape")
        numbers = [float(v) if isinstance(v, str) and v in ("nan", "inf", "-inf") else v for v in data]
        if not all(isinstance(v, (bool, int, float)) for v in numbers):
            raise WireError("tensor data is not numbers")
        if dtype.is_complex:
            real = torch.tensor(numbers, dtype=torch.float64).reshape(-1, 2)
            values = torch.view_as_complex(real).to(dtype).reshape(shape)
        else:
            values = torch.tensor(numbers, dtype=torch.float64 if dtype.is_floating_point else None)
            values = values.to(dtype).reshape(shape)
    if values is None:  # a meta tensor, or too large to send: shape and dtype only
        values = torch.empty(shape, dtype=dtype, device="meta") if count <= MAX_ELEMENTS * 64 else None
        if values is None:
            raise WireError("tensor too large")
    setattr(values, _SEEN, Seen(str(body.get("device", "cpu"))[:40], bool(body.get("requires_grad")),
                                bool(body.get("grad_fn")), body.get("data") is not None))
    return values


class Seen:
    """What a decoded tensor was like where it was observed."""

    def __init__(self, device: str, requires_grad: bool, grad_fn: bool, has_values: bool) -> None:
        self.device, self.requires_grad, self.grad_fn, self.has_values = device, requires_grad, grad_fn, has_values

    def __repr__(self) -> str:
        return f"Seen(device={self.device!r}, requires_grad={self.requires_grad}, grad_fn={self.grad_fn})"


def seen(t: torch.Tensor) -> Seen:
    """Where and how tensor ``t`` was observed (its own device and flags for a tensor made here)."""
    found = getattr(t, _SEEN, None)
    if isinstance(found, Seen):
        return found
    return Seen(str(t.device), bool(t.requires_grad), t.grad_fn is not None, t.device.type != "meta")


class ModuleRecord:
    """An ``nn.Module`` as observed: its class name, training flag and state_dict (decoded)."""

    def __init__(self, type_name: str, training: bool, state: dict) -> None:
        self.type_name, self.training, self.state = type_name, training, state

    def __repr__(self) -> str:
        return f"<{self.type_name} module with {len(self.state)} tensors>"


class Other:
    """A value of a kind the wire does not carry: its type name and a short repr."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


def dumps(value: Any) -> str:
    """Encode and serialize, canonically (sorted keys): equal values give equal strings."""
    return json.dumps(encode(value), sort_keys=True, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value of :func:`dumps` output, bounded in size."""
    if len(text) > MAX_PAYLOAD:
        raise WireError(f"payload of {len(text)} bytes is over the {MAX_PAYLOAD}-byte limit")
    try:
        return decode(json.loads(text))
    except (ValueError, RecursionError) as error:
        if isinstance(error, WireError):
            raise
        raise WireError(f"not JSON: {error}") from None


def roundtrip(value: Any) -> Any:
    """``value`` as the judge would receive it (the in-process path takes the same road)."""
    return loads(dumps(value))


def key(check: str, case: Any) -> str:
    """A stable key of one case of one check (for shipped expectations and caches)."""
    return hashlib.sha256(f"{check}\n{dumps(case)}".encode()).hexdigest()[:32]
