"""Wrong (and right-but-different) submissions of 02_autograd.

Submissions are grouped by mistake class: one submission may carry the same
mistake in several cells, and each of those cells must lose its points while
the others keep theirs. ``tests/test_checks_autograd.py`` runs the same code
against the checks directly and asserts the reason each one fails.
"""

from textwrap import dedent

from tests.corpus import Submission, right, wrong


def mistake(student: str, edits: dict[str, str], why: str) -> Submission:
    """The same mistake made in several cells: each edited cell loses its own test, no other."""
    return Submission(student, {k: dedent(v).strip() for k, v in edits.items()},
                      frozenset(f"test_{k}" for k in edits), why)


SUBMISSIONS = [
    # mistake 7: hard-coded answers that fit the notebook's examples only
    mistake("hardcoded", {
        "derivative": """
            def derivative(f, x):
                return 8.0
            """,
        "partials": """
            def partials(f, *values):
                return [4.0, 2.0]
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                return torch.tensor([[5.1]]), torch.tensor([11.1]), [2.7] * epochs
            """,
    }, why="answers of the notebook's examples, not of the function given"),
    # mistake 9: tensors (holding the graph) where plain floats are asked for
    mistake("tensors_not_floats", {
        "derivative": """
            def derivative(f, x):
                x = torch.tensor(x, requires_grad=True)
                f(x).backward()
                return x.grad
            """,
        "partials": """
            def partials(f, *values):
                tensors = [torch.tensor(v, requires_grad=True) for v in values]
                f(*tensors).backward()
                return [t.grad for t in tensors]
            """,
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                return loss
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        W -= lr * W.grad
                        b -= lr * b.grad
                    W.grad.zero_()
                    b.grad.zero_()
                    losses.append(loss)
                return W, b, losses
            """,
    }, why="x.grad, loss and losses kept as tensors"),
    # mistake 1: gradients never zeroed, so they pile up
    mistake("never_zeroed", {
        "partials": """
            def partials(f, *values):
                tensors = [torch.tensor(v, requires_grad=True) for v in values]
                result = []
                for t in tensors:
                    f(*tensors).backward()          # one backward per argument, never zeroed
                    result.append(t.grad.item())
                return result
            """,
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        W -= lr * W.grad
                        b -= lr * b.grad
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="gradients pile up from one backward to the next"),
    # mistake 2: rebinding instead of updating in place
    mistake("rebound", {
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W = W - lr * W.grad
                    b = b - lr * b.grad
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    W = W - lr * W.grad
                    b = b - lr * b.grad
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="W = W - lr * W.grad leaves the caller's W alone, and makes a non-leaf W"),
    # mistake 2: updating with autograd still recording
    mistake("recording_update", {
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                W -= lr * W.grad
                b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    W.sub_(lr * W.grad)
                    b.sub_(lr * b.grad)
                    W.grad.zero_()
                    b.grad.zero_()
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="the in-place update is not under torch.no_grad()"),
    # mistake 5: predictions [N] against y [N, 1]
    mistake("flat_predictions", {
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                pred = (X @ W + b).flatten()
                loss = ((pred - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    pred = (X @ W).squeeze(1) + b
                    loss = ((pred - y) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        W -= lr * W.grad
                        b -= lr * b.grad
                    W.grad.zero_()
                    b.grad.zero_()
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="[N] - [N, 1] broadcasts into an [N, N] grid"),
    # mistake 8: arguments ignored (lr in the step, epochs in the loop); the notebook's values pass
    mistake("ignores_arguments", {
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= 0.01 * W.grad
                    b -= 0.01 * b.grad
                W.grad.zero_()
                b.grad.zero_()
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(500):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        W -= lr * W.grad
                        b -= lr * b.grad
                    W.grad.zero_()
                    b.grad.zero_()
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="lr fixed at 0.01, epochs fixed at 500: the notebook's values"),
    # mistake 8: the seed ignored, or a seed of one's own
    wrong("train_manual_unseeded", "train_manual", """
        def train_manual(X, y, lr, epochs, seed):
            W = torch.randn(X.shape[1], 1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True)
            losses = []
            for _ in range(epochs):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                losses.append(loss.item())
            return W, b, losses
        """, why="no torch.manual_seed(seed): the start is whatever the generator holds"),
    wrong("train_manual_seed_42", "train_manual", """
        def train_manual(X, y, lr, epochs, seed):
            torch.manual_seed(42)
            W = torch.randn(X.shape[1], 1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True)
            losses = []
            for _ in range(epochs):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                losses.append(loss.item())
            return W, b, losses
        """, why="a seed of one's own instead of the one given"),
    # not autograd: finite differences come close, but are not what the exercise asks
    mistake("finite_differences", {
        "derivative": """
            def derivative(f, x, h=1e-6):
                up = f(torch.tensor(x + h, dtype=torch.float64))
                down = f(torch.tensor(x - h, dtype=torch.float64))
                return ((up - down) / (2 * h)).item()
            """,
        "partials": """
            def partials(f, *values):
                h = 1e-6
                result = []
                for i in range(len(values)):
                    up = [torch.tensor(v + (h if j == i else 0.0), dtype=torch.float64) for j, v in enumerate(values)]
                    down = [torch.tensor(v - (h if j == i else 0.0), dtype=torch.float64) for j, v in enumerate(values)]
                    result.append(((f(*up) - f(*down)) / (2 * h)).item())
                return result
            """,
    }, why="central finite differences in float64"),
    # the wrong quantity: the value instead of the slope, the loss after the update...
    mistake("wrong_quantity", {
        "derivative": """
            def derivative(f, x):
                x = torch.tensor(x, requires_grad=True)
                y = f(x)
                y.backward()
                return y.item()
            """,
        "partials": """
            def partials(f, *values):
                tensors = [torch.tensor(v, requires_grad=True) for v in values]
                f(*tensors).backward()
                return [t.grad.item() for t in reversed(tensors)]
            """,
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                    W.grad.zero_()
                    b.grad.zero_()
                    return ((X @ W + b - y) ** 2).mean().item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    loss = ((X @ W + b - y) ** 2).mean()
                    loss.backward()
                    with torch.no_grad():
                        W -= lr * W.grad
                        b -= lr * b.grad
                        losses.append(((X @ W + b - y) ** 2).mean().item())
                    W.grad.zero_()
                    b.grad.zero_()
                return W, b, losses
            """,
    }, why="f's value, partials reversed, losses after the update"),
    # not general: a [1]-shaped x, a fixed number of arguments
    mistake("not_general", {
        "derivative": """
            def derivative(f, x):
                x = torch.tensor([x], requires_grad=True)
                f(x).backward()
                return x.grad.item()
            """,
        "partials": """
            def partials(f, a, b):
                a = torch.tensor(a, requires_grad=True)
                b = torch.tensor(b, requires_grad=True)
                f(a, b).backward()
                return [a.grad.item(), b.grad.item()]
            """,
    }, why="x of shape [1] instead of a 0-dim tensor; partials for two values only"),
    # a partial taken without autograd: only the first argument ever requires grad
    wrong("partials_first_only", "partials", """
        def partials(f, *values):
            tensors = [torch.tensor(float(v), requires_grad=(i == 0)) for i, v in enumerate(values)]
            f(*tensors).backward()
            return [t.grad.item() if t.grad is not None else 0.0 for t in tensors]
        """, why="the other partials are not computed at all: their tensors never require grad"),
    # a tensor kept outside the function: its gradient grows from one call to the next
    wrong("derivative_shared_leaf", "derivative", """
        leaf = torch.tensor(0.0, requires_grad=True)
        def derivative(f, x):
            with torch.no_grad():
                leaf.fill_(x)
            f(leaf).backward()
            return leaf.grad.item()
        """, why="the second call adds to the first call's gradient"),
    # losses in a tuple (or one tensor) where a Python list of floats is asked for
    wrong("train_manual_losses_tuple", "train_manual", """
        def train_manual(X, y, lr, epochs, seed):
            torch.manual_seed(seed)
            W = torch.randn(X.shape[1], 1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True)
            losses = ()
            for _ in range(epochs):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                losses += (loss.item(),)
            return W, b, losses
        """, why="the exercise asks for a Python list of floats"),
    right("one_partial_at_a_time", {
        "partials": """
            def partials(f, *values):
                result = []
                for i in range(len(values)):
                    tensors = [torch.tensor(float(v), requires_grad=(j == i)) for j, v in enumerate(values)]
                    f(*tensors).backward()
                    result.append(tensors[i].grad.item())
                return result
            """,
    }, why="the contract's second reading: one variable requires grad, one backward per partial"),
    right("partials_zeroed_between", {
        "derivative": """
            def derivative(f, x):
                t = torch.as_tensor(float(x)).requires_grad_()
                f(t).backward()
                return float(t.grad)
            """,
        "partials": """
            def partials(f, *values):
                tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
                result = []
                for t in tensors:
                    for s in tensors:
                        s.grad = None
                    f(*tensors).backward()
                    result.append(t.grad.item())
                return result
            """,
    }, why="one backward per partial on the same tensors, gradients cleared before each"),
    right("functional_autograd", {
        "derivative": """
            def derivative(f, x):
                return torch.autograd.functional.jacobian(f, torch.tensor(float(x))).item()
            """,
        "partials": """
            def partials(f, *values):
                tensors = tuple(torch.tensor(float(v)) for v in values)
                jacobian = torch.autograd.functional.jacobian(f, tensors)
                return [float(g) for g in jacobian]
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                b = torch.zeros(1, requires_grad=True)          # zeros draws no random number
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                losses = []
                for _ in range(epochs):
                    W.grad = None
                    b.grad = None
                    loss = torch.nn.functional.mse_loss(X @ W + b, y)
                    loss.backward()
                    with torch.no_grad():
                        W.sub_(lr * W.grad)
                        b.sub_(lr * b.grad)
                    losses.append(float(loss))
                return [W, b, losses]
            """,
    }, why="autograd.functional.jacobian, b made before W, zeroing first, a list returned"),
    right("torch_func_grad", {
        "derivative": """
            import torch.func

            def derivative(f, x):
                return float(torch.func.grad(f)(torch.tensor(float(x))))
            """,
        "partials": """
            def partials(f, *values):
                tensors = tuple(torch.tensor(float(v)) for v in values)
                return [float(g) for g in torch.func.grad(f, argnums=tuple(range(len(tensors))))(*tensors)]
            """,
    }, why="torch.func.grad (its first call wraps torch.manual_seed: the grader's warm-up takes it, no tamper)"),
    right("autograd_grad_style", {
        "derivative": """
            import sys
            def derivative(f, x):
                print("warning: computing in float64", file=sys.stderr)
                x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                (slope,) = torch.autograd.grad(f(x), x)
                return float(slope)
            """,
        "partials": """
            def partials(f, *values):
                tensors = tuple(torch.tensor(float(v)).requires_grad_() for v in values)
                return [g.item() for g in torch.autograd.grad(f(*tensors), tensors)]
            """,
        "gradient_step": """
            import torch.nn.functional as F
            def gradient_step(W, b, X, y, lr):
                W.grad = None
                b.grad = None
                loss = F.mse_loss(X @ W + b, y)
                loss.backward()
                with torch.no_grad():
                    W.sub_(lr * W.grad)
                    b.sub_(lr * b.grad)
                W.grad = None
                b.grad = None
                return float(loss)
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1).requires_grad_()
                b = torch.zeros(1).requires_grad_()
                losses = []
                for epoch in range(epochs):
                    loss = ((X @ W + b).flatten() - y.flatten()).pow(2).mean()
                    gW, gb = torch.autograd.grad(loss, (W, b))
                    W = (W - lr * gW).detach().requires_grad_()
                    b = (b - lr * gb).detach().requires_grad_()
                    losses.append(loss.item())
                return W, b, losses
            """,
    }, why="torch.autograd.grad, float64, grad = None, F.mse_loss, fresh leaves each epoch, a stderr warning"),
    right("reuses_gradient_step", {
        "gradient_step": """
            def gradient_step(W, b, X, y, lr):
                for p in (W, b):
                    if p.grad is not None:
                        p.grad.zero_()
                errors = X @ W + b - y
                loss = (errors * errors).sum() / errors.numel()
                loss.backward()
                W.data -= lr * W.grad
                b.data -= lr * b.grad
                W.grad.zero_()
                b.grad.zero_()
                return loss.item()
            """,
        "train_manual": """
            def train_manual(X, y, lr, epochs, seed):
                torch.manual_seed(seed)
                W = torch.randn(X.shape[1], 1, requires_grad=True)
                b = torch.zeros(1, requires_grad=True)
                return W, b, [gradient_step(W, b, X, y, lr) for _ in range(epochs)]
            """,
    }, why="zeroing before and after, .data updates, train_manual built on the student's own gradient_step"),
]
