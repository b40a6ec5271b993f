"""The beginner-facing assertion helpers: they pass right values and explain wrong ones."""

from __future__ import annotations

import pytest
import torch

from coursekit.checks import expect as e


def test_fail_message_has_expected_found_and_cause():
    with pytest.raises(e.CheckFailed) as info:
        e.fail("to_batch([1])", "shape [1, 1]", "shape [1]", "add a column")
    text = str(info.value)
    assert "expected: shape [1, 1]" in text and "found:    shape [1]" in text and "likely cause: add a column" in text


def test_check_failed_is_an_assertion_error():
    assert issubclass(e.CheckFailed, AssertionError)


@pytest.mark.parametrize(("found", "cause"), [
    ([4], "column dimension is missing"),
    ([1, 4], "swapped"),
])
def test_expect_shape_names_the_likely_cause(found, cause):
    with pytest.raises(e.CheckFailed, match=cause):
        e.expect_shape(torch.zeros(found), [4, 1], "x")


def test_expect_shape_passes_the_right_shape():
    e.expect_shape(torch.zeros(4, 1), [4, 1], "x")


def test_expect_shape_spots_broadcast_grid():
    with pytest.raises(e.CheckFailed, match=r"\[N, N\]"):
        e.expect_shape(torch.zeros(4, 4), [4, 1], "x")


def test_expect_dtype_explains_int64():
    with pytest.raises(e.CheckFailed, match="int64 by default"):
        e.expect_dtype(torch.tensor([1, 2]), torch.float32, "x")
    e.expect_dtype(torch.tensor([1.0]), torch.float32, "x")


def test_expect_dtype_explains_float64():
    with pytest.raises(e.CheckFailed, match="float64"):
        e.expect_dtype(torch.tensor([1.0], dtype=torch.float64), torch.float32, "x")


def test_expect_close_numbers_and_tensors():
    e.expect_close(1.0 + 1e-9, 1.0, "x")
    e.expect_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), "x")
    with pytest.raises(e.CheckFailed, match="expected: 2"):
        e.expect_close(2.5, 2.0, "x")
    with pytest.raises(e.CheckFailed):
        e.expect_close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]), "x")
    with pytest.raises(e.CheckFailed, match="shape"):
        e.expect_close(torch.zeros(2), torch.zeros(2, 1), "x")


def test_expect_close_rejects_non_numbers():
    with pytest.raises(e.CheckFailed, match="return a number"):
        e.expect_close(None, 1.0, "x")


def test_expect_plain_float_names_item_for_tensors():
    assert e.expect_plain_float(1.5, "loss") == 1.5
    with pytest.raises(e.CheckFailed, match=r"loss\.item\(\)"):
        e.expect_plain_float(torch.tensor(1.5, requires_grad=True) * 2, "loss")
    with pytest.raises(e.CheckFailed):
        e.expect_plain_float(True, "loss")
    with pytest.raises(e.CheckFailed):
        e.expect_plain_float(3, "loss")


def test_expect_float_list_checks_length_and_items():
    e.expect_float_list([1.0, 2.0], 2, "losses")
    with pytest.raises(e.CheckFailed, match="3 values"):
        e.expect_float_list([1.0, 2.0], 3, "losses")
    with pytest.raises(e.CheckFailed, match="item 1"):
        e.expect_float_list([1.0, torch.tensor(2.0)], 2, "losses")
    with pytest.raises(e.CheckFailed, match="list"):
        e.expect_float_list((1.0, 2.0), 2, "losses")


def test_expect_raises():
    e.expect_raises(ValueError, lambda: int("x"), "int")
    with pytest.raises(e.CheckFailed, match="no error"):
        e.expect_raises(ValueError, lambda: 1, "one")
    with pytest.raises(e.CheckFailed, match="TypeError"):
        e.expect_raises(ValueError, lambda: len(1), "len")


def test_expect_tensor():
    t = torch.zeros(1)
    assert e.expect_tensor(t, "x") is t
    with pytest.raises(e.CheckFailed, match="forget `return`"):
        e.expect_tensor(None, "x")
