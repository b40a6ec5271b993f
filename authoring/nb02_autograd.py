"""02_autograd: derivatives by autograd, and the courier's line fitted by gradient descent by hand."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import autograd as ref

CELLS = [
    md("""
    # 02 · Autograd: letting PyTorch find the slope

    The courier still promises **30-minute deliveries**, and a **7-mile** order is waiting.
    In 01 you turned past deliveries into tensors and measured how wrong a line
    `minutes = w · miles + b` is with the mean squared error (MSE). Today the line learns:
    we start from a poor guess of `w` and `b` and walk **downhill** on the MSE, one small step
    at a time. To know which way is downhill we need the **slope** of the loss, its
    derivative, and PyTorch's **autograd** computes it for us.

    You will write four functions:

    1. `derivative`: the slope of a function of one number, by autograd;
    2. `partials`: the slopes of a function of several numbers, one per input;
    3. `gradient_step`: one step of gradient descent on the courier's line;
    4. `train_manual`: the whole descent, from a seeded random start to a fitted line.

    Each exercise is followed by a test cell. The grader also runs hidden tests on functions
    and data you have not seen, so write general code, not answers for the examples here.
    """),
    setup("setup_imports", """
    import math

    import matplotlib.pyplot as plt
    import torch

    torch.__version__
    """),
    md("""
    ## The data

    Data set A of the course: four bike deliveries, distances in **miles**, times in
    **minutes**, each as a float32 batch of shape `[4, 1]` (one row a delivery).
    """),
    setup("setup_data", """
    miles = torch.tensor([[1.0], [3.0], [5.0], [7.0]])
    minutes = torch.tensor([[15.0], [27.0], [39.0], [45.0]])
    """),
    md("""
    ## Downhill on the loss

    Fix the pick-up time at `b = 11.1` minutes and try many values of the minutes-per-mile
    `w`. Each `w` gives a line, and each line an MSE. Plotted against `w`, the MSE is a
    valley. Its bottom is the best `w`; at any other point the **slope** of the curve says
    which way the bottom lies: a positive slope means "smaller `w` is better", a negative
    slope the opposite.
    """),
    code("""
    ws = [i / 10 for i in range(0, 101)]
    valley = [((w * miles + 11.1 - minutes) ** 2).mean().item() for w in ws]

    plt.plot(ws, valley)
    plt.axvline(5.1, color="gray", linestyle="--", label="w = 5.1, the bottom")
    plt.xlabel("w (minutes per mile)")
    plt.ylabel("MSE (minutes²)")
    plt.title("The loss as a function of w, with b = 11.1")
    plt.legend()
    plt.show()
    """),
    md("""
    ## Autograd in four lines

    A tensor created with `requires_grad=True` is a **leaf** that autograd watches. Every
    operation on it is recorded in a graph as it runs. Calling `.backward()` on a 0-dim result
    walks that graph backwards and stores the derivative of the result with respect to the
    leaf in the leaf's `.grad`.

    For $y = 3x^2 - 4x$ the derivative is $6x - 4$, which is $8$ at $x = 2$:
    """),
    code("""
    x = torch.tensor(2.0, requires_grad=True)   # a 0-dim leaf tensor
    y = 3 * x**2 - 4 * x                          # recorded as it runs
    y.backward()                                  # dy/dx, into x.grad
    print("y =", y.item(), "  dy/dx =", x.grad.item(), "  by hand: 6 * 2 - 4 =", 6 * 2 - 4)
    """),
    md("""
    ## The chain rule, done for you

    Functions are built from smaller ones. For $y = \\sin(u)$ with $u = x^2$, the chain rule
    multiplies the local slopes along the way:

    $$\\frac{dy}{dx} = \\frac{dy}{du} \\cdot \\frac{du}{dx} = \\cos(x^2) \\cdot 2x$$

    Autograd does exactly this: each recorded operation knows its own local slope
    (`grad_fn`), and `backward()` multiplies them from the result back to the leaf. You can
    see the recorded chain:
    """),
    code("""
    x = torch.tensor(1.5, requires_grad=True)
    u = x**2
    y = torch.sin(u)
    print("y was made by", y.grad_fn, "from", y.grad_fn.next_functions[0][0])
    y.backward()
    print("autograd:", x.grad.item(), "  chain rule by hand:", math.cos(1.5**2) * 2 * 1.5)
    """),
    md("""
    The slope is the steepness of the **tangent**: the straight line that touches the curve
    at one point. Here is $\\sin(x^2)$ with its tangent at $x = 1.5$, drawn with the slope
    autograd found:
    """),
    code("""
    xs = torch.linspace(0, 2.5, 200)
    x0, slope = 1.5, x.grad.item()
    y0 = math.sin(x0**2)
    plt.plot(xs, torch.sin(xs**2), label="sin(x²)")
    plt.plot(xs, y0 + slope * (xs - x0), "--", label=f"tangent at x = {x0}, slope {slope:.2f}")
    plt.ylim(-1.5, 1.5)
    plt.legend()
    plt.show()
    """),
    md("""
    ### Exercise 1: `derivative`

    Write `derivative(f, x)`: the derivative of `f` at the float `x`, **computed by autograd**.
    `f` takes a 0-dim tensor and returns a 0-dim tensor (such as
    `lambda t: torch.sin(t**2)`).

    - make `x` a 0-dim float tensor that requires grad: `torch.tensor(x, requires_grad=True)`
      (no brackets around `x`: `torch.tensor([x])` has shape `[1]`);
    - call `f` on that tensor (at `x` itself, not at nearby points), then `.backward()` on
      the result;
    - return the slope as a plain Python `float` with `.item()`, not the tensor `x.grad`.

    Create the tensor inside the function, so that every call starts afresh: the tests call
    your function twice in a row and expect the same answer both times.

    Estimating the slope from `f` at two nearby points (a finite difference) gives a close
    number, but it is an approximation: the tests check that autograd did the work.
    """),
    solution_from(ref.derivative),
    grade("test_derivative", 2, """
    from coursekit.checks import autograd as check

    print(derivative(lambda t: 3 * t**2 - 4 * t, 2.0))    # 8.0, since 6·2 - 4 = 8
    # The checks build the functions they hand to derivative themselves, named here by formula.
    check.derivative(derivative, "3x² - 4x", x=2.0)
    check.derivative(derivative, "sin(x²)", x=1.5)
    ### BEGIN HIDDEN TESTS
    check.derivative_hidden(derivative, seeds=[11, 2024, 777, 40961])
    ### END HIDDEN TESTS
    print("✓ derivative")
    """),
    md("""
    ## Several inputs: partial derivatives

    The courier's loss depends on **two** numbers, `w` and `b`. Its slope has two parts: the
    **partial derivative** with respect to `w` (how the loss changes when only `w` moves) and
    the one with respect to `b`. Together they form the **gradient**. One `backward()` fills
    the `.grad` of every leaf at once.

    At `w = 4`, `b = 10` the line is too flat and too early. Both partials come out negative:
    increasing either number lowers the loss.
    """),
    code("""
    w = torch.tensor(4.0, requires_grad=True)
    b = torch.tensor(10.0, requires_grad=True)
    loss = ((w * miles + b - minutes) ** 2).mean()
    loss.backward()
    print(f"loss = {loss.item():.2f}   ∂loss/∂w = {w.grad.item():.2f}   ∂loss/∂b = {b.grad.item():.2f}")
    """),
    md("""
    ### Exercise 2: `partials`

    Write `partials(f, *values)`: the partial derivatives of the scalar function `f` at the
    given floats, by autograd, as a **Python list of plain floats** in the order of the
    arguments (item `i` is the partial with respect to argument `i`). `f` takes as many 0-dim
    tensors as there are values: `partials(f, 2.0, 3.0)` calls `f(a, b)`, `partials(g, 1.0)`
    calls `g(a)`.

    Two ways are right, and the tests accept both:

    - **all at once**: one tensor per value, each with `requires_grad=True`, one call of `f`
      and one `backward()`; every tensor's `.grad` then holds its own partial;
    - **one at a time**: for each argument, fresh tensors where that one requires grad, a call
      of `f` and a `backward()`, then read that tensor's `.grad`. (Reusing the same tensors
      for every partial? Then clear their `.grad` before each `backward()`: the section after
      this exercise shows why.)

    Either way, call `f` at the given values themselves (nearby points would be a finite
    difference), and turn each `.grad` into a float with `.item()`.

    *Hint:* `*values` collects any number of arguments into a tuple; `f(*tensors)` passes a
    list of tensors back as separate arguments.
    """),
    solution_from(ref.partials),
    grade("test_partials", 2, """
    from coursekit.checks import autograd as check


    def courier_loss(w, b):
        return ((w * miles + b - minutes) ** 2).mean()


    print(partials(lambda a, b: a * b + a, 2.0, 3.0))    # [b + 1, a] = [4.0, 2.0]
    check.partials(partials, "a·b + a", (2.0, 3.0))
    # At the least-squares line w = 5.1, b = 11.1 the valley is flat: both partials are 0
    # (up to float32 rounding, a few millionths).
    print(partials(courier_loss, 5.1, 11.1))
    check.partials(partials, "the courier's MSE", (5.1, 11.1))
    ### BEGIN HIDDEN TESTS
    check.partials_hidden(partials, seeds=[5, 909, 31337])
    ### END HIDDEN TESTS
    print("✓ partials")
    """),
    md("""
    ## Gradients add up from one `backward()` to the next

    `backward()` does not *replace* `.grad`: it **adds** the new gradient to whatever is
    already there. Run the same computation and `backward()` twice, and `x.grad` doubles
    (the slope of $3x^2 - 4x$ at $x = 2$ is $8$):
    """),
    code("""
    x = torch.tensor(2.0, requires_grad=True)
    for call in (1, 2):
        y = 3 * x**2 - 4 * x
        y.backward()
        print(f"after backward() number {call}: x.grad = {x.grad.item()}")
    """),
    md("""
    PyTorch does this **on purpose**. Adding lets you build one gradient out of several
    pieces, each with its own `backward()`: the gradients of several losses, or of several
    small batches of data that do not fit in memory at once, summed before a single update.
    This is called **gradient accumulation**.

    The price: PyTorch never clears `.grad` by itself. In our training loop each step must use
    the gradient of *its own* loss only, so after using a gradient, **clear it** with
    `x.grad.zero_()` (or `x.grad = None`). Forget it, and every step uses the sum of all the
    gradients so far: the steps grow, and the descent goes wrong without any error message.
    """),
    code("""
    x.grad.zero_()
    y = 3 * x**2 - 4 * x
    y.backward()
    print("after zeroing and one more backward():", x.grad.item())
    """),
    md("""
    Do not confuse this with a different sum, *inside a single* `backward()`. When a tensor is
    used in several places, the chain rule adds up the slopes along every path it takes to the
    result. In $y = x \\cdot x$ each factor contributes $x$, so $dy/dx = 2x$. That sum is plain
    calculus and always right; zeroing `.grad` between steps does not touch it. Here `x` is a
    fresh tensor and there is one `backward()`, so nothing is left over from before:
    """),
    code("""
    x = torch.tensor(2.0, requires_grad=True)
    (x * x).backward()
    print("d(x·x)/dx at 2:", x.grad.item(), "  by hand: 2 * 2 =", 2 * 2)
    """),
    md("""
    ## One step downhill

    Gradient descent moves every parameter a little **against** its gradient:

    $$w \\leftarrow w - \\text{lr} \\cdot \\frac{\\partial L}{\\partial w}, \\qquad
      b \\leftarrow b - \\text{lr} \\cdot \\frac{\\partial L}{\\partial b}$$

    The **learning rate** `lr` sets the step size. Two details of the update matter in PyTorch:

    - **No recording.** The update is not part of the model, so it runs inside
      `with torch.no_grad():`. Without it, an in-place change of a leaf that requires grad
      is an error:
    """),
    code("""
    w = torch.tensor(1.0, requires_grad=True)
    try:
        w -= 0.1
    except RuntimeError as error:
        print("RuntimeError:", error)
    with torch.no_grad():
        w -= 0.1
    print(w, "  still a leaf:", w.is_leaf)
    """),
    md("""
    - **In place.** `w -= ...` changes the tensor itself, so everyone holding it sees the
      new value. `w = w - ...` builds a *new* tensor and points a local name at it: the
      caller's tensor does not move, and the new one is not a leaf, so it gets no `.grad`:
    """),
    code("""
    def rebinding_update(w):
        w = w - 0.1            # a new tensor, known only inside this function
        return None

    w = torch.tensor(1.0)
    rebinding_update(w)
    print("the caller's w is still", w.item())
    """),
    md("""
    ### Exercise 3: `gradient_step`

    Write `gradient_step(W, b, X, y, lr)`: one step of gradient descent on the MSE of the
    line `X @ W + b` against `y`, where `W` is `[F, 1]`, `b` is `[1]`, `X` is `[N, F]` and
    `y` is `[N, 1]`.

    1. compute the predictions `X @ W + b` (shape `[N, 1]`, like `y`: do not flatten one of
       them, or `[N]` against `[N, 1]` broadcasts into an `[N, N]` grid) and the MSE;
    2. `backward()`;
    3. inside `torch.no_grad()`, update `W` and `b` **in place** with the learning rate `lr`;
    4. zero both gradients (or set them to `None`), so the next step starts clean;
    5. return the loss computed in step 1 (before the update) as a plain `float`.

    The caller's `W` and `b` must change: they stay the *same* tensors, leaves that require
    grad, with new values. `X` and `y` are data: leave them as they are. The tests call your
    function twice in a row on the same `W` and `b`.
    """),
    solution_from(ref.gradient_step),
    grade("test_gradient_step", 3, """
    from coursekit.checks import autograd as check

    W = torch.tensor([[1.0]], requires_grad=True)
    b = torch.tensor([0.0], requires_grad=True)
    loss = gradient_step(W, b, miles, minutes, 0.01)
    print(f"loss before the step: {loss:.2f}; after it W = {W.item():.3f}, b = {b.item():.3f}")
    check.gradient_step(gradient_step, torch.tensor([[1.0]]), torch.tensor([0.0]), miles, minutes, lr=0.01, steps=2)
    ### BEGIN HIDDEN TESTS
    check.gradient_step_hidden(gradient_step, seeds=[3, 141, 5926])
    ### END HIDDEN TESTS
    print("✓ gradient_step")
    """),
    md("""
    ### Exercise 4: `train_manual`

    Write `train_manual(X, y, lr, epochs, seed)`: gradient descent from scratch.

    1. `torch.manual_seed(seed)`, then `W = torch.randn(X.shape[1], 1, requires_grad=True)`
       and `b = torch.zeros(1, requires_grad=True)`, before any other random call, so that
       the same seed always gives the same start;
    2. `epochs` times: one full-batch step as in Exercise 3 (loss, backward, update under
       `torch.no_grad()`, zero the gradients), appending each loss to a list as a plain
       float, `loss.item()`;
    3. return `(W, b, losses)`, where `losses` is a **Python list of `epochs` floats** (not
       tensors, not one tensor) and `losses[i]` is the loss before update `i`.

    Write the loop out here: the tests of this exercise run `train_manual` alone. (You may
    call your `gradient_step` instead, but then a mistake there costs points here too.)
    """),
    solution_from(ref.train_manual),
    grade("test_train_manual", 3, """
    from coursekit.checks import autograd as check

    check.train_manual(train_manual, miles, minutes, lr=0.04, epochs=500, seed=0)
    ### BEGIN HIDDEN TESTS
    check.train_manual_hidden(train_manual, seeds=[8, 1729, 4096, 65537])
    ### END HIDDEN TESTS
    print("✓ train_manual")
    """),
    md("""
    ## The courier's line

    Train on data set A and compare with the least-squares answer of the course,
    `w = 5.1` minutes a mile and `b = 11.1` minutes of pick-up:
    """),
    code("""
    W, b, losses = train_manual(miles, minutes, lr=0.04, epochs=500, seed=0)
    print(f"learned: w = {W.item():.3f}, b = {b.item():.3f}   (least squares: w = 5.1, b = 11.1)")
    print(f"loss: {losses[0]:.1f} at the start, {losses[-1]:.3f} at the end")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(losses)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("MSE (log scale)")
    left.set_title("The loss going downhill")
    with torch.no_grad():
        line_x = torch.linspace(0, 8, 50).reshape(-1, 1)
        line_y = line_x @ W + b
    right.scatter(miles, minutes, label="past deliveries")
    right.plot(line_x, line_y, color="C1", label=f"{W.item():.2f} · miles + {b.item():.2f}")
    right.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    right.set_xlabel("distance (miles)")
    right.set_ylabel("minutes")
    right.legend()
    plt.show()
    """),
    md("""
    And the 7-mile order? The prediction is computed under `torch.no_grad()`: it is not part
    of training, so there is nothing to record.
    """),
    code("""
    with torch.no_grad():
        eta = (torch.tensor([[7.0]]) @ W + b).item()
    print(f"7 miles: about {eta:.1f} minutes, so", "take it" if eta <= 30 else "turn it down: it breaks the promise")
    """),
    md("""
    ## The learning rate matters

    The step size is a trade-off. Too small, and the descent crawls; too large, and each step
    overshoots the bottom of the valley by more than it gained, so the loss **grows**. For
    this data anything above about `0.046` diverges:
    """),
    code("""
    for lr in (0.005, 0.04, 0.05):
        _, _, curve = train_manual(miles, minutes, lr=lr, epochs=60, seed=0)
        plt.plot(curve, label=f"lr = {lr}")
    plt.title("Three learning rates, the same start")
    plt.yscale("log")
    plt.xlabel("epoch")
    plt.ylabel("MSE (log scale)")
    plt.legend()
    plt.show()
    """),
    md("""
    ## What you have built

    - `requires_grad=True` makes a leaf; `backward()` applies the chain rule through the
      recorded graph and fills `.grad`;
    - gradients **add up** across `backward()` calls (on purpose: that is how gradient
      accumulation works), so a training loop zeroes them after every update;
    - the update runs **in place** and under `torch.no_grad()`, so the parameters stay the
      same leaf tensors;
    - a loss is kept as a plain float (`.item()`) once it has done its job.

    Next, in **03 · A single neuron**, `nn.Linear` holds `W` and `b` for you and
    `optim.SGD` does the update and the zeroing: the same loop, in fewer lines.
    """),
]
