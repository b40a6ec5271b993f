"""01_tensors: tensors, shapes and dtypes, on the courier's delivery data."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import tensors as ref

CELLS = [
    md("""
    # 01 · Tensors: the courier's data, shaped for a model

    A courier promises **30-minute deliveries**. A new order is **7 miles** away: take it or not?
    Before any model can answer, the past deliveries must become *tensors* of the right
    **shape** and **dtype**. Getting those two right is most of the work of a first PyTorch
    program, and most of its bugs.

    In this notebook you will write five small functions:

    1. `to_batch`: a list of numbers becomes a batch of shape `[N, 1]`;
    2. `stack_features`: several features become one row per delivery, `[N, 3]`;
    3. `add_batch_dim`: one sample `[F]` becomes a batch of one, `[1, F]`;
    4. `linear_forward`: what a linear layer computes, `X @ W + b`;
    5. `mse`: the mean squared error, with a guard against a silent shape bug.

    Run each cell with **Shift+Enter**. After each exercise a test cell checks your
    function; when it prints nothing (or a ✓ line), you are done. The grader runs more
    tests on data you have not seen, so write general code, not answers for this data.
    """),
    md("""
    ## What is a tensor?

    A **tensor** is PyTorch's container for numbers: a grid of numbers that all share one
    type. A single number is a 0-dimensional tensor, a list of numbers is 1-dimensional, a
    table is 2-dimensional, and so on. Every tensor knows two things about itself:

    - its **shape**: how many numbers lie along each dimension, such as `[4, 1]` (4 rows,
      1 column);
    - its **dtype**: what kind of number it holds, such as `float32` (decimals) or `int64`
      (whole numbers).

    If you have used NumPy, a tensor is much like a NumPy array. Two things make it more:
    it can live on a GPU (notebook 05), and PyTorch can record the operations done with it
    to compute derivatives automatically (notebook 02).
    """),
    setup("setup_imports", """
    import torch
    import matplotlib.pyplot as plt

    torch.__version__
    """),
    code("""
    speed = torch.tensor(5.1)                     # one number: 0 dimensions
    times = torch.tensor([15.0, 27.0, 39.0])      # a list: 1 dimension
    table = torch.tensor([[1.0, 15.0], [3.0, 27.0]])  # a table: 2 dimensions
    for name, t in [("speed", speed), ("times", times), ("table", table)]:
        print(f"{name:6} shape {list(t.shape)}  dtype {t.dtype}")
    """),
    md("""
    ## The data

    Four past deliveries by bike. Distances are in **miles**, times in **minutes**.
    """),
    setup("setup_data", """
    miles = [1, 3, 5, 7]
    minutes = [15, 27, 39, 45]
    """),
    code("""
    plt.scatter(miles, minutes)
    plt.xlabel("distance (miles)")
    plt.ylabel("delivery time (minutes)")
    plt.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    plt.legend()
    plt.title("Past deliveries")
    plt.show()
    """),
    md("""
    ## Shape: the batch dimension comes first

    PyTorch models take a **batch**: many samples at once. The first dimension counts the
    samples (`N`), the second counts the features of each sample (`F`). Four deliveries
    with one feature each (the distance) make a tensor of shape `[4, 1]`:

    ```
    [[1.],
     [3.],
     [5.],
     [7.]]
    ```

    A flat tensor of shape `[4]` looks similar but is not the same thing: `nn.Linear`
    reads its last dimension as the features, and a `[4]` tensor compared with a `[4, 1]`
    tensor *broadcasts* into a `[4, 4]` grid without any error. Watch it happen:
    """),
    code("""
    flat = torch.tensor([1.0, 3.0, 5.0, 7.0])         # shape [4]
    column = flat.reshape(4, 1)                         # shape [4, 1]
    print("flat:", flat.shape, " column:", column.shape)
    print("column - flat has shape", (column - flat).shape, "  <- 16 numbers, not 4!")
    """),
    md("""
    Two ways turn a flat tensor into a column without writing its length:

    - `reshape(-1, 1)`: "one column, and as many rows as it takes". A `-1` in a shape asks
      PyTorch to work that dimension out from the number of elements; only one dimension
      may be `-1`.
    - `unsqueeze(1)`: insert a new dimension of size 1 at position 1 (after the first one).
      `unsqueeze(0)` would insert it in front instead.
    """),
    code("""
    print(flat.reshape(-1, 1).shape)   # [4, 1]
    print(flat.unsqueeze(1).shape)     # [4, 1]
    print(flat.unsqueeze(0).shape)     # [1, 4]: one row, not one column
    """),
    md("""
    ## Dtype: whole numbers are not floats

    `torch.tensor([1, 3, 5, 7])` makes an **int64** tensor, because every number is whole.
    Models compute in **float32**, and gradients do not exist for integers. Ask for the dtype
    you want with `dtype=torch.float32`:
    """),
    code("""
    print(torch.tensor([1, 3, 5, 7]).dtype)
    print(torch.tensor([1, 3, 5, 7], dtype=torch.float32).dtype)
    """),
    md("""
    ### Exercise 1: `to_batch`

    Write `to_batch(values)`: from a sequence of `N` numbers (ints, floats or both), return a
    **float32** tensor of shape **`[N, 1]`**, where row `i` holds `values[i]`.

    *Hint:* build the tensor with the right dtype, then `reshape(-1, 1)` or `unsqueeze(1)`.
    """),
    solution_from(ref.to_batch),
    grade("test_to_batch", 2, """
    from coursekit.checks import tensors as check

    distances = to_batch(miles)
    print(distances)
    check.to_batch(to_batch, miles)
    check.to_batch(to_batch, [2.5, 4.0])
    ### BEGIN HIDDEN TESTS
    check.to_batch_hidden(to_batch, seeds=[1013, 2207, 3391, 48611])
    ### END HIDDEN TESTS
    print("✓ to_batch")
    """),
    md("""
    ## More than one feature

    Distance is not the only thing that matters. The courier also knows the **hour** of the
    day (rush hour is slow) and whether it **rains** (1) or not (0). Each delivery becomes a
    row of three features, and the batch has shape `[N, 3]`: one row per delivery, one
    column per feature.
    """),
    md("""
    `torch.stack` joins tensors of the same shape along a **new** dimension. With `dim=0` the
    new dimension comes first, so each tensor becomes a row; with `dim=1` it comes second, so
    each tensor becomes a column:
    """),
    code("""
    a = torch.tensor([1.0, 2.0, 3.0])
    b = torch.tensor([10.0, 20.0, 30.0])
    print(torch.stack([a, b], dim=0))   # shape [2, 3]: a and b are rows
    print(torch.stack([a, b], dim=1))   # shape [3, 2]: a and b are columns
    """),
    md("""
    ### Exercise 2: `stack_features`

    Write `stack_features(distances, hours, weather)`: three sequences of length `N` become a
    **float32** tensor of shape **`[N, 3]`** whose row `i` is
    `[distances[i], hours[i], weather[i]]`.

    *Hint:* `torch.stack(tensors, dim=1)` puts tensors side by side as columns, as the
    cell below shows.
    """),
    solution_from(ref.stack_features),
    grade("test_stack_features", 2, """
    from coursekit.checks import tensors as check

    features = stack_features(miles, [8, 12, 17, 18], [0, 1, 0, 1])
    print(features)
    check.stack_features(stack_features, miles, [8, 12, 17, 18], [0, 1, 0, 1])
    ### BEGIN HIDDEN TESTS
    check.stack_features_hidden(stack_features, seeds=[77, 4242, 90001])
    ### END HIDDEN TESTS
    print("✓ stack_features")
    """),
    md("""
    ## One sample is still a batch

    After training, you will ask the model about *one* new order. A model always expects a
    batch, so a single sample of shape `[F]` must become a batch of one, `[1, F]`. The new
    dimension goes **first**.
    """),
    md("""
    ### Exercise 3: `add_batch_dim`

    Write `add_batch_dim(sample)`: a tensor of shape `[F]` becomes shape `[1, F]`, with the
    same numbers.
    """),
    solution_from(ref.add_batch_dim),
    grade("test_add_batch_dim", 1, """
    from coursekit.checks import tensors as check

    new_order = torch.tensor([7.0, 18.0, 1.0])     # 7 miles, 6 pm, raining
    print(add_batch_dim(new_order).shape)
    check.add_batch_dim(add_batch_dim, new_order)
    ### BEGIN HIDDEN TESTS
    check.add_batch_dim_hidden(add_batch_dim, seeds=[5, 606, 7077])
    ### END HIDDEN TESTS
    print("✓ add_batch_dim")
    """),
    md("""
    ## What a linear layer computes

    The simplest model there is predicts each output as a weighted sum of the inputs plus a
    constant: "5.1 minutes a mile, plus 11.1 minutes to pick up". With many inputs and many
    outputs at once, that is a **linear layer**. It holds a weight matrix `W` and a bias `b`.
    For a batch `X` of shape `[N, F]`, a weight `W` of shape `[F, O]` and a bias `b` of shape
    `[O]`, it computes

    $$\\hat{y} = X W + b \\qquad \\text{shape } [N, O]$$

    `X @ W` is the **matrix product**: entry `[i, j]` of the result is the sum over `k` of
    `X[i, k] * W[k, j]`, so each row's features are combined into `O` outputs. It needs the
    inner sizes to agree (`F` and `F`). The `*` operator is different: it multiplies
    element by element. The bias `b` is added to every row by broadcasting.
    """),
    code("""
    X_demo = torch.tensor([[1.0, 2.0], [3.0, 4.0]])     # [2, 2]: two samples, two features
    W_demo = torch.tensor([[10.0], [1.0]])              # [2, 1]: two features in, one output
    print(X_demo @ W_demo)   # [[12.], [34.]]: 1*10 + 2*1 and 3*10 + 4*1
    print(X_demo * 10)       # element by element: every number times 10
    """),
    md("""
    PyTorch's ready-made linear layer is `nn.Linear(F, O)`, which you will use from notebook 03
    on. It stores its weight as `[O, F]` and computes `X @ W.T + b`; here we keep `W` as
    `[F, O]` so the shapes read left to right.
    """),
    md("""
    ### Exercise 4: `linear_forward`

    Write `linear_forward(X, W, b)` returning `X @ W + b`, of shape `[N, O]`.
    """),
    solution_from(ref.linear_forward),
    grade("test_linear_forward", 2, """
    from coursekit.checks import tensors as check

    X = torch.tensor([[1.0], [3.0], [5.0], [7.0]])   # [4, 1]: the tests use no other answer of yours
    W = torch.tensor([[5.1]])                  # 5.1 minutes a mile
    b = torch.tensor([11.1])                   # 11.1 minutes to pick up
    print(linear_forward(X, W, b))
    check.linear_forward(linear_forward, X, W, b)
    ### BEGIN HIDDEN TESTS
    check.linear_forward_hidden(linear_forward, seeds=[31, 3131, 313131])
    ### END HIDDEN TESTS
    print("✓ linear_forward")
    """),
    md("""
    ## How wrong is a prediction? The mean squared error

    The **mean squared error** averages the squared differences between predictions and
    true values:

    $$\\text{MSE} = \\frac{1}{N} \\sum_i (\\hat{y}_i - y_i)^2$$

    It is one number: a **0-dim tensor**. It must stay a tensor (not a Python float): in
    notebook 02, PyTorch's automatic differentiation (*autograd*) follows the tensor
    operations that produced this number back to the model's parameters, to find out which
    way to change them. A Python float has forgotten where it came from.

    Remember the broadcasting trap: predictions of shape `[N]` against targets of shape
    `[N, 1]` give an `[N, N]` grid of differences, and the mean of that grid is a wrong
    number *with no error*. A careful loss function refuses mismatched shapes.
    """),
    md("""
    ### Exercise 5: `mse`

    Write `mse(pred, target)`: the mean squared error as a 0-dim tensor, using tensor
    operations (not `nn.MSELoss` or `F.mse_loss`). If `pred.shape != target.shape`, raise a
    `ValueError` (saying both shapes in its message helps whoever reads it). Equal shapes of
    any kind are fine: `[N, 1]` with `[N, 1]`, and `[N]` with `[N]`.
    """),
    solution_from(ref.mse),
    grade("test_mse", 3, """
    from coursekit.checks import tensors as check

    # The tests build their inputs without your other functions, so that one
    # mistake costs one exercise only.
    predictions = 5.1 * torch.tensor([[1.0], [3.0], [5.0], [7.0]]) + 11.1
    targets = torch.tensor([[15.0], [27.0], [39.0], [45.0]])
    print("MSE of the line 5.1 * miles + 11.1:", mse(predictions, targets))
    check.mse(mse, predictions, targets)
    check.mse_rejects_mismatch(mse, predictions.flatten(), targets)
    ### BEGIN HIDDEN TESTS
    check.mse_hidden(mse, seeds=[12, 1212, 121212])
    ### END HIDDEN TESTS
    print("✓ mse")
    """),
    md("""
    ## What you have built

    - a batch is `[N, F]`: samples first, features second, even for one feature or one sample;
    - models want **float32**, and whole numbers give int64 unless you ask;
    - a linear layer is `X @ W + b`;
    - the MSE is one differentiable number, and mismatched shapes deserve an error, not a
      silent `[N, N]` broadcast.

    Next, in **02 · Autograd**, PyTorch computes the gradient of that MSE for you, and you use
    it to fit the courier's line by hand.
    """),
]
