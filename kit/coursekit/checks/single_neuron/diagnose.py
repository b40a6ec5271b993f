"""03_single_neuron's verdicts: an observation against its expectation, with messages for beginners.

(``train_model``'s verdict, the longest, is in ``diagnose_training``.)
"""

from __future__ import annotations

from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, is_hidden, raised_message
from coursekit.checks.expect import describe, expect, expect_close, fail
from coursekit.checks.wire import seen as seen_of

#: A ReLU network, trained by the reference loop, must end below this share of the best
#: straight line's error. With 16 to 64 hidden units it reaches at most 0.21 (240 starts on
#: 5 data sets, measured; median 0.13); a network without a bend stays at 1.
NONLINEAR_SHARE = 0.5
#: How close a network's start must be to one nn.Linear draws (they are the same numbers).
_START_ATOL = 1e-6


def describe_build_model(case: Case) -> str:
    return f"build_model() after torch.manual_seed({case['seed']})"


def describe_train_model(case: Case) -> str:
    given = "".join(f", {k}={case[k]}" for k in ("lr", "epochs") if case.get(k) is not None)
    return f"train_model(model, X, y{given})"


def describe_predict_minutes(case: Case) -> str:
    model = "a model with dropout" if case.get("dropout") else "model"
    return f"predict_minutes({model}, {case['miles']!r})"


def describe_take_order(case: Case) -> str:
    promise = "" if case.get("promise") is None else f", promise={case['promise']!r}"
    return f"take_order(model, {case['miles']!r}{promise})"


def describe_build_nonlinear_model(case: Case) -> str:
    hidden = case.get("hidden")
    call = "build_nonlinear_model()" if hidden is None else f"build_nonlinear_model({hidden})"
    return f"{call}, trained on mixed bike + car data" if "X" in case else call


# ----------------------------------------------------------------------------- build_model

def build_model(case: Case, seen: Observation, expected: dict[str, torch.Tensor], call: str) -> None:
    model = seen["model"]
    expect(model.get("is_module") is True, call, "an nn.Module", model.get("what"),
           "return the model itself: did you forget `return`?", code="not_a_module")
    expect(model.get("sequential") is True, call, "nn.Sequential(nn.Linear(1, 1))", model.get("type"),
           "the exercise asks for nn.Sequential holding one nn.Linear(1, 1); its weights are then "
           "named '0.weight' and '0.bias', as the rest of the course expects", code="not_sequential")
    layers, linear = model.get("layers") or [], model.get("linear")
    expect(isinstance(linear, dict), f"{call}: layers", "one layer, nn.Linear(1, 1)",
           ", ".join(str(m) for m in layers) or "no layer",
           "one neuron is one nn.Linear: one distance in, one time out", code="wrong_layers")
    expect((linear["in"], linear["out"]) == (1, 1), f"{call}: layer size", "nn.Linear(1, 1)",
           f"nn.Linear({linear['in']}, {linear['out']})", "one feature (miles) in, one number out",
           code="wrong_layer_size")
    expect(linear["bias"] is True, f"{call}: bias", "a bias (the pick-up time)", "bias=False",
           "keep the bias: without it the line must pass through 0 minutes at 0 miles", code="bias_missing")
    params = list((model.get("params") or {}).items())
    for (name, p), want in zip(params, expected.values(), strict=False):  # in order: a layer may have a name
        expect(p.dtype == torch.float32, f"{call}: {name}", "float32 parameters", p.dtype,
               "leave the layer in float32 (no .double())", code="wrong_dtype")
        expect(seen_of(p).requires_grad, f"{call}: {name}", "a parameter that requires grad", "requires_grad=False",
               "training needs gradients: do not freeze the layer", code="frozen_parameters")
        expect_close(p, want, f"{call}: starting value of {name}", rtol=1e-6, atol=1e-7,
                     cause="the weights must be nn.Linear's own random start: do not set them by hand "
                           "(a line fitted to the notebook's data is a hard-coded answer) and do not "
                           "call torch.manual_seed inside build_model", code="weights_set_by_hand")
    expect(seen.get("fresh") is True, f"{call}, called twice", "two separate models",
           "the same model (or the same parameters) twice",
           "create the model inside build_model, so each call starts fresh", code="same_model_returned")


# ----------------------------------------------------------------------------- predict_minutes

def predict_minutes(case: Case, seen: Observation, expected: float, call: str) -> None:
    error = seen.get("error")
    if error is not None:
        message = str(error.get("message"))
        if error.get("type") == "RuntimeError" and "Long" in message:
            fail(call, "a prediction", f"RuntimeError: {message[:120]}",
                 "a tensor built from a whole number (such as 7) is int64, and the model computes in "
                 "float32: ask for dtype=torch.float32 (or write float(miles))", code="int64_input")
        if error.get("type") == "RuntimeError" and "Double" in message:
            fail(call, "a prediction", f"RuntimeError: {message[:120]}",
                 "the batch is float64 (dtype=torch.float64 or a NumPy array), and the model computes in "
                 "float32: build the batch with dtype=torch.float32", code="float64_input")
        raised_message(call, error)
    forwards = seen.get("forwards") or []
    expect(len(forwards) >= 1, call, "a forward pass of the model", "the model was never called",
           "compute the prediction with model(x)", code="model_not_called")
    for forward in forwards:
        shapes = forward.get("shapes") or []
        expect(shapes[:1] == [[1, 1]], f"{call}: input of the model", "a batch of one sample, shape [1, 1]",
               f"shape {shapes[0] if shapes else 'none'}",
               "the model takes a batch: wrap the distance as torch.tensor([[miles]])", code="batch_shape")
        expect(forward.get("training") is False, f"{call}: model mode", "eval mode during the forward pass",
               "training mode", "call model.eval() before predicting: layers such as dropout behave "
               "differently in training", code="train_mode")
        expect(forward.get("grad_enabled") is False, f"{call}: autograd", "the forward pass under torch.no_grad()",
               "autograd recording a graph nobody will use", "wrap the prediction in `with torch.no_grad():`",
               code="no_grad_missing")
    found = seen.get("returned")
    if isinstance(found, torch.Tensor):
        fail(call, "a Python float", describe(found), "turn the one-number tensor into a float with .item()",
             code="returned_tensor")
    expect(isinstance(found, float), call, "a Python float", describe(found), "return prediction.item()",
           code="not_a_float")
    expect_close(found, expected, call, rtol=1e-5, atol=1e-4,
                 cause="return the model's own prediction for this distance, nothing added or rounded",
                 code="wrong_prediction")


# ----------------------------------------------------------------------------- take_order

def _same_miles(asked: Any, given: Any) -> bool:
    if isinstance(asked, torch.Tensor) and asked.numel() == 1:
        asked = float(asked.reshape(-1)[0])
    return isinstance(asked, (int, float)) and not isinstance(asked, bool) and float(asked) == float(given)


def take_order(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    found = seen.get("returned")
    expect(isinstance(found, bool), call, "True or False (a Python bool)", describe(found),
           "compare two floats, for example `return predict_minutes(model, miles) <= promise`", code="not_a_bool")
    asked = [c for c in seen.get("predict_calls") or [] if isinstance(c, dict)]
    for question in asked:
        expect(question.get("model_given") is True and _same_miles(question.get("miles"), case["miles"]), call,
               "predict_minutes asked about the model and the distance take_order was given",
               "predict_minutes(...) called with another " + ("model" if question.get("model_given") is not True
                                                               else "distance"),
               "call predict_minutes(model, miles) with take_order's own arguments", code="wrong_question")
    want = expected["take"]
    if found == want:
        return
    minutes, promise = expected["minutes"], expected["promise"]
    shown = ("the decision this promise calls for" if is_hidden() else
             f"{want} (predicted {minutes:.4g} minutes against a promise of {promise:g})")
    if minutes == promise:
        fail(call, shown, found, "a delivery that takes exactly the promised time keeps the promise: use <=, not <",
             code="strict_comparison")
    if case.get("promise") is not None and found == (minutes <= 30.0):
        what = "a promise" if is_hidden() else f"promise={case['promise']!r}"
        fail(call, shown, found, f"you were given {what}: compare with the promise argument, not a fixed 30",
             code="promise_ignored")
    fail(call, shown, found, "take the order (True) when the predicted minutes are at most the promise, "
         "refuse it otherwise", code="wrong_decision")


# ----------------------------------------------------------------------------- build_nonlinear_model

def _size(case: Case) -> int:
    return 16 if case.get("hidden") is None else int(case["hidden"])


def build_nonlinear_model(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    size = _size(case)
    base = call.split(", trained", 1)[0]
    network = seen["network"]
    expect(network.get("is_module") is True, base, "an nn.Module", network.get("what"),
           "return the model itself: did you forget `return`?", code="not_a_module")
    layers = network.get("linears") or []
    shapes = [(m["in"], m["out"]) for m in layers]
    expect(len(layers) == 2, f"{base}: layers", "two nn.Linear layers: Linear(1, hidden) and Linear(hidden, 1)",
           f"{len(layers)} nn.Linear layers {shapes}", "one hidden layer between the input and the output",
           code="wrong_layers")
    asked = "the hidden width it was given" if is_hidden() else f"hidden={size}"
    if shapes[0][0] == 1 and shapes[1][1] == 1 and shapes[0][1] == shapes[1][0]:
        cause, code = f"{asked} was asked for: use the hidden argument as the width of the hidden layer", \
            "hidden_ignored"
    else:
        cause, code = "one distance in, `hidden` units in the middle, one time out", "wrong_layer_sizes"
    expect(shapes == [(1, size), (size, 1)], f"{base}: layer sizes",
           "[(1, hidden), (hidden, 1)]" if is_hidden() else f"[(1, {size}), ({size}, 1)]", shapes, cause, code=code)
    expect(all(m["bias"] is True for m in layers), f"{base}: biases", "both layers with a bias",
           "a layer with bias=False", "keep the biases: they put the bends where the data needs them",
           code="bias_missing")
    expect(network.get("param_count") == 3 * size + 1, f"{base}: parameters",
           "3 x hidden + 1 numbers" if is_hidden() else f"{3 * size + 1} numbers",
           network.get("param_count"), "the model holds the two Linear layers and nothing else with weights",
           code="extra_parameters")
    expect(network.get("dtypes") == ["float32"], f"{base}: parameters", "float32 parameters",
           ", ".join(str(d) for d in network.get("dtypes") or []), "leave the layers in float32 (no .double())",
           code="wrong_dtype")
    expect(seen.get("fresh") is True, f"{base}, called again", "a new model at each call", "the same model",
           "create the layers inside build_nonlinear_model, so each call starts fresh", code="same_model_returned")
    if seen.get("out_error") is not None:
        raised_message(f"{base}, run on a batch of distances", seen["out_error"])
    out = seen.get("out")
    expect(isinstance(out, torch.Tensor) and list(out.shape) == list(expected["out"].shape), f"{base}: output",
           f"shape {list(expected['out'].shape)} for {expected['out'].shape[0]} inputs", describe(out),
           "the model maps a batch [N, 1] to predictions [N, 1]", code="wrong_output_shape")
    if not torch.allclose(out.double(), expected["out"].double(), atol=1e-4, rtol=1e-4):
        if torch.allclose(out.double(), expected["without_relu"].double(), atol=1e-4, rtol=1e-4):
            cause, code = ("the ReLU is missing: two Linear layers in a row still draw one straight line",
                           "relu_missing")
        else:
            cause, code = ("the model must compute Linear → ReLU → Linear, with a ReLU between the layers and "
                           "nothing after the last one", "wrong_function")
        fail(f"{base}: what the model computes", "Linear(1, hidden) → ReLU → Linear(hidden, 1)",
             "another function of the input", cause, code=code)
    if "X" in case:
        _trained(case, seen, expected, call)


def _same(start: list[Any], known: dict[str, Any]) -> bool:
    return all(isinstance(t, torch.Tensor) and t.shape == known[k].shape
               and torch.allclose(t.double(), known[k].double(), rtol=0.0, atol=_START_ATOL)
               for t, k in zip(start, ("w1", "b1", "w2", "b2"), strict=True))


def _trained(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """Trained by the reference loop from its own start, the network must beat the best straight line.

    The judge trained networks from the starts nn.Linear draws after each seed (layers made in
    either order); the student's network, which computes the same function, trains the same
    way from the same start. A start of its own is not one the judge knows.
    """
    line_error, limit = expected["line_error"], NONLINEAR_SHARE * expected["line_error"]
    starts = seen.get("starts") or []
    expect(len(starts) == len(expected["starts"]), call, "one network per call", f"{len(starts)} networks",
           "return one new network per call", code="malformed")
    results, unknown = [], []
    for start, known in zip(starts, expected["starts"], strict=True):
        match = next((k for k in known if isinstance(start, list) and len(start) == 4 and _same(start, k)), None)
        if match is None:
            unknown.append(start)
            continue
        results.append(match["trained"])
        if match["trained"] < limit:
            return
    if unknown:
        w1, b1 = unknown[0][0], unknown[0][1]
        off = isinstance(w1, torch.Tensor) and isinstance(b1, torch.Tensor) and _switched_off(w1, b1, case["X"])
        fail(f"{call}: starting weights", "the layers' own random start (nn.Linear's, as in Exercise 1)",
             "every hidden unit switched off for every distance in the data" if off else "weights set another way",
             "leave the weights as nn.Linear makes them: the test trains your network from its start, and "
             "a start set by hand" + (" with no unit switched on cannot learn anything"
                                      if off else " is not one the course's training recipe is known to work from"),
             code="units_switched_off" if off else "start_not_default")
    shown = ("an error below half of the best straight line's" if is_hidden()
             else f"a loss below {limit:.3g} ({NONLINEAR_SHARE:g} x the best straight line's {line_error:.3g})")
    found = "errors no better" if is_hidden() else ", ".join(f"{r:.3g}" for r in results)
    fail(f"{call}, trained by the course's recipe", shown, found,
         "the network cannot bend where the vehicle changes: check the ReLU between the layers",
         code="no_bend_learned")


def _switched_off(w1: torch.Tensor, b1: torch.Tensor, X: torch.Tensor) -> bool:
    """Whether no hidden unit's ReLU is open for any distance of the data (its input is never above 0)."""
    lows = w1.reshape(-1).double() * float(X.min()) + b1.reshape(-1).double()
    highs = w1.reshape(-1).double() * float(X.max()) + b1.reshape(-1).double()
    return bool(((lows <= 0) & (highs <= 0)).all())
