"""04_training_loop: Dataset, DataLoader, a seeded validation split and the standard training loop."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import training_loop as ref

CELLS = [
    md("""
    # 04 · The training loop: batches, validation, and the loop every project reuses

    The courier still promises **30-minute deliveries**. The last notebook ended with good
    news: by car, the 7-mile order takes about 27.5 minutes and keeps the promise. But the car
    is shared, and on most days the courier rides the bike. So the question comes back for
    **bike days**, with a new one beside it: does **rain** change the answer?

    To find out, the courier logged a season of bike deliveries: **240 of them**, each with its
    distance and whether it was raining. Four points fit in one tensor and one gradient step; a
    log this size is fed to the model in **batches**, and part of it is kept aside to check that
    the model works on deliveries it has not seen.

    You will write the five pieces of the loop that nearly every PyTorch project uses:

    1. `DeliveryDataset`: the log as a `Dataset`, one `(features, minutes)` pair per delivery;
    2. `make_loaders`: a seeded split into training and validation `DataLoader`s;
    3. `train_one_epoch`: one pass over the training batches, one optimizer step each;
    4. `evaluate`: the validation loss, without touching the model;
    5. `fit`: epochs of training and evaluation, and the two loss curves.

    Each exercise has a test cell right after it. The grader runs more tests on data you have
    not seen, and each test uses only the function of its own exercise: a mistake in one
    exercise never costs the points of another.
    """),
    setup("setup_imports", """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Dataset, Subset, random_split
    import matplotlib.pyplot as plt

    torch.__version__
    """),
    md("""
    ## The data

    Row `i` of `X` is one bike delivery: `[miles, rain]`, with `rain` 1.0 when it rained and
    0.0 when it did not. `y[i]` is how many minutes it took, a tensor of shape `[1]`. The
    shapes are the ones `nn.Linear` expects: `X` is `[240, 2]`, `y` is `[240, 1]`.
    """),
    setup("setup_data", """
    from coursekit.data.delivery import delivery_table

    X, y = delivery_table(seed=2024, n=240)   # X: [miles, rain], y: minutes
    print("X", X.shape, X.dtype, "  y", y.shape, y.dtype)
    print("first delivery:", X[0].tolist(), "->", round(y[0].item(), 1), "minutes")
    """),
    code("""
    rain = X[:, 1] == 1
    plt.scatter(X[~rain, 0], y[~rain, 0], s=12, label="dry")
    plt.scatter(X[rain, 0], y[rain, 0], s=12, label="rain")
    plt.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    plt.xlabel("distance (miles)")
    plt.ylabel("delivery time (minutes)")
    plt.title("A season of bike deliveries")
    plt.legend()
    plt.show()
    """),
    md("""
    ## A `Dataset`: how to get sample number `i`

    PyTorch separates *what the data is* from *how it is served*. A `Dataset` answers two
    questions only:

    - `len(dataset)`: how many samples are there? Python asks the dataset's `__len__` method;
    - `dataset[i]`: what is sample `i`? Python asks its `__getitem__` method.

    Everything else (batching, shuffling, loading in the background) is the `DataLoader`'s
    job. Because a `Dataset` hands out one sample at a time, it works the same for 240 rows
    in memory and for a million images on disk.
    """),
    md("""
    ### Exercise 1: `DeliveryDataset`

    Write the three methods of `DeliveryDataset(torch.utils.data.Dataset)`, one stub each:

    - `__init__(self, X, y)` keeps the features `X` (`[N, F]`) and the targets `y`
      (`[N, 1]`), for example as `self.X` and `self.y`;
    - `__len__(self)` returns `N`, the number of deliveries (rows of `X`);
    - `__getitem__(self, i)` returns the pair `(X[i], y[i])`.

    Keep `y[i]` as a tensor of shape `[1]` (do not turn it into a number with `.item()`):
    the `DataLoader` then stacks the targets of a batch into `[B, 1]`, the shape of the
    model's output.
    """),
    solution_from(ref.DeliveryDataset, "delivery_dataset"),
    grade("test_delivery_dataset", 1, """
    from coursekit.checks import training_loop as check

    deliveries = DeliveryDataset(X, y)
    print(len(deliveries), "deliveries; the first:", deliveries[0])
    check.delivery_dataset(DeliveryDataset, X, y)
    ### BEGIN HIDDEN TESTS
    check.delivery_dataset_hidden(DeliveryDataset, seeds=[404, 4040, 40404])
    ### END HIDDEN TESTS
    print("✓ DeliveryDataset")
    """),
    md("""
    ## Training data and validation data

    A model can learn its training deliveries by heart and still predict new ones badly.
    The only honest test is on deliveries it never trained on, so we set some aside: the
    **validation** part. Three rules make the split trustworthy:

    - **no sample in both parts**: a delivery seen in training says nothing about new ones;
    - **no sample lost**: every delivery belongs to one part;
    - **the same split for the same seed**: run the notebook again and the validation
      deliveries are the same, so two runs can be compared.

    A seeded shuffle of the indices, made with a generator of its own, gives the same order
    for the same seed and leaves PyTorch's global random numbers alone:
    """),
    code("""
    generator = torch.Generator().manual_seed(0)
    print(torch.randperm(10, generator=generator))
    generator = torch.Generator().manual_seed(0)
    print(torch.randperm(10, generator=generator), " <- the same seed, the same order")
    """),
    md("""
    `Subset(dataset, indices)` is a dataset made of some samples of another, in the order of
    `indices`. Anything with `len()` and `[i]` works as a dataset here, even a list of letters:
    """),
    code("""
    letters = list("abcdefghij")
    part = Subset(letters, [7, 2, 5])
    print(len(part), "samples:", [part[i] for i in range(len(part))])
    """),
    md("""
    A `DataLoader` deals a dataset into batches of `batch_size`; the last batch holds what is
    left, so it can be shorter. With `shuffle=True` every pass over the loader (every epoch)
    deals the samples into **new batches**, in a new order: no batch is always the same group,
    and the model cannot pick anything up from the order of the log.
    """),
    code("""
    print("in order:", list(DataLoader(letters, batch_size=4)))
    shuffled = DataLoader(letters, batch_size=4, shuffle=True)
    print("shuffled:", list(shuffled))
    print("again:   ", list(shuffled))
    """),
    md("""
    The validation loader does **not** shuffle. Its loss is the mean of its batch losses, and
    its last batch is usually shorter (48 validation deliveries make a batch of 32 and one of
    16, whose deliveries count twice as much). Shuffled, other deliveries would land in the
    short batch at every pass, and the same model would get a different validation loss each
    time. In a fixed order the same model always gets the same number, so epochs and runs
    compare fairly.
    """),
    md("""
    ### Exercise 2: `make_loaders`

    Write `make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0)` returning
    `(train_loader, val_loader)`, in five steps:

    1. `dataset = DeliveryDataset(X, y)`;
    2. shuffle the indices `0 … N-1` with a generator seeded with `seed`, as above: the same
       seed gives the same split, another seed another split;
    3. `n_val = round(N * val_fraction)`: the first `n_val` shuffled indices are the
       validation part, all the others the training part;
    4. a `Subset` of the dataset for each part;
    5. a `DataLoader` for each part, with `batch_size=batch_size`: `shuffle=True` for
       training, `shuffle=False` for validation. Keep the last, shorter batch (the default):
       `drop_last=True` would leave deliveries out.

    The loaders serve the deliveries as they are, each with its own time. `random_split(dataset,
    [N - n_val, n_val], generator=...)` does steps 2 to 4 at once and is right too; give it the
    two sizes, not fractions, which it rounds in its own way.

    The test gives your function PyTorch's `TensorDataset` in place of your `DeliveryDataset`
    (it serves the same pairs `(X[i], y[i])`), so that a mistake in Exercise 1 does not cost
    these points too: use the dataset only through `len()` and `[i]`, as `Subset` and
    `DataLoader` do.
    """),
    solution_from(ref.make_loaders),
    grade("test_make_loaders", 2, """
    from coursekit.checks import training_loop as check

    check.make_loaders(make_loaders, X, y, batch_size=32, val_fraction=0.2, seed=0)
    check.make_loaders(make_loaders, X, y, batch_size=50, val_fraction=0.25, seed=7)
    ### BEGIN HIDDEN TESTS
    check.make_loaders_hidden(make_loaders, seeds=[15, 1616, 88, 2025])
    ### END HIDDEN TESTS
    print("✓ make_loaders")
    """),
    md("""
    One batch from the training loader: 32 deliveries, their features stacked into `[32, 2]`
    and their times into `[32, 1]`.
    """),
    code("""
    train_loader, val_loader = make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0)
    print(len(train_loader.dataset), "training and", len(val_loader.dataset), "validation deliveries")
    X_batch, y_batch = next(iter(train_loader))
    print("features", X_batch.shape, " targets", y_batch.shape)
    print(len(train_loader), "training batches,", len(val_loader), "validation batches")
    """),
    md("""
    ## Training mode and evaluation mode

    Some layers behave differently while training. **Dropout** with rate `p` zeroes each of
    its inputs with probability `p` on every forward pass, and multiplies the ones it keeps by
    `1 / (1 - p)`, so that each output keeps the same value on average. A network trained
    this way cannot lean on any single unit. Dropout does this only in **training mode**; in
    **evaluation mode** it passes everything through unchanged, and the output is the same
    every time. `model.train()` and `model.eval()` switch every layer of the model at once.
    Forget `model.eval()` and the validation loss wobbles from call to call:
    """),
    code("""
    torch.manual_seed(0)
    demo = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1))
    order = torch.tensor([[7.0, 0.0]])        # 7 miles, dry

    demo.train()
    print("training mode:  ", [round(demo(order).item(), 3) for _ in range(3)])
    demo.eval()
    print("evaluation mode:", [round(demo(order).item(), 3) for _ in range(3)])
    """),
    md("""
    ## The device

    A model computes on the device its parameters live on: the CPU, or a GPU. Every batch
    must be moved there too, with `.to(device)`: a CPU batch meeting GPU weights is an error.
    This notebook's models are tiny and train fastest on the CPU, so `device` is the CPU here;
    notebook 05 picks the fastest device a machine has. The functions below still take a
    `device` argument and move each batch to it (the model is already there), so the same
    code runs unchanged on a GPU.
    """),
    setup("setup_device", """
    device = torch.device("cpu")   # 05 shows how to pick a GPU when there is one
    device
    """),
    md("""
    ### Exercise 3: `train_one_epoch`

    Write `train_one_epoch(model, loader, loss_fn, optimizer, device)`: one pass over the
    training batches, returning the **mean batch loss as a Python float**.

    1. `model.train()`;
    2. for every `(X_batch, y_batch)` of the loader:
       - move both to `device`;
       - forward: `pred = model(X_batch)`;
       - loss: `loss = loss_fn(pred, y_batch)`;
       - `optimizer.zero_grad()` (anywhere before `backward`), `loss.backward()`, `optimizer.step()`;
       - keep `loss.item()`: a plain number. The tensor `loss` holds the whole graph of the
         batch, and a list of them keeps every graph alive;
    3. return the sum of the batch losses divided by the number of batches.

    Use the `loss_fn` and `optimizer` you are given; do not create your own. The tests also
    hand your function a model on another device than the CPU, with a loader of CPU batches:
    a batch that is not moved fails there, as it would on a GPU.
    """),
    solution_from(ref.train_one_epoch),
    grade("test_train_one_epoch", 3, """
    from coursekit.checks import training_loop as check

    # The tests train their own small models on loaders of their own, and compare your epoch
    # with the reference epoch from the same start, batch for batch.
    check.train_one_epoch(train_one_epoch, X, y, batch_size=32, lr=0.001)
    check.train_one_epoch(train_one_epoch, X, y, batch_size=25, lr=0.0005, hidden=8)
    # The model on another device than the CPU: a batch left on the CPU fails, as on a GPU.
    check.train_one_epoch_moves_batches(train_one_epoch, X, y)
    ### BEGIN HIDDEN TESTS
    check.train_one_epoch_hidden(train_one_epoch, seeds=[3, 303, 3003])
    ### END HIDDEN TESTS
    print("✓ train_one_epoch")
    """),
    md("""
    ### Exercise 4: `evaluate`

    Write `evaluate(model, loader, loss_fn, device)`: the **mean batch loss** over the loader,
    as a Python float, **without changing the model**:

    - `model.eval()` first, so that dropout and friends behave as they will in use;
    - the loop under `with torch.no_grad():`: no graph is recorded, which saves memory and
      time, and no gradient can reach the weights;
    - each batch moved to `device`; no `backward`, no optimizer.
    """),
    solution_from(ref.evaluate),
    grade("test_evaluate", 2, """
    from coursekit.checks import training_loop as check

    # A model with dropout, in training mode when your function gets it: two evaluations
    # must agree, and match the reference.
    check.evaluate(evaluate, X, y, batch_size=32)
    check.evaluate_moves_batches(evaluate, X, y)
    ### BEGIN HIDDEN TESTS
    check.evaluate_hidden(evaluate, seeds=[4, 404, 4004])
    ### END HIDDEN TESTS
    print("✓ evaluate")
    """),
    md("""
    ### Exercise 5: `fit`

    Write `fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device)`
    returning `(train_losses, val_losses)`: two lists of `epochs` floats. In every epoch:

    1. `train_one_epoch(model, train_loader, loss_fn, optimizer, device)`, and keep its loss;
    2. `evaluate(model, val_loader, loss_fn, device)`, and keep its loss.

    Call your two functions by these names, with the arguments `fit` was given. The test of
    this exercise puts stand-ins under those names while it runs: they record how `fit` calls
    them and return losses of their own. So only `fit` itself is graded here, and a mistake in
    Exercise 3 or 4 does not cost these points too.
    """),
    solution_from(ref.fit),
    grade("test_fit", 2, """
    from coursekit.checks import training_loop as check

    # Your fit runs with stand-ins bound to the names train_one_epoch and evaluate
    # (your own functions are put back afterwards).
    check.fit(fit, X, y, epochs=4)
    check.fit_uses_device(fit, X, y)
    ### BEGIN HIDDEN TESTS
    check.fit_hidden(fit, seeds=[5, 505, 5005])
    ### END HIDDEN TESTS
    print("✓ fit")
    """),
    md("""
    ## Training the courier's model

    Everything together: the loaders of Exercise 2, a linear model with one weight per feature
    (minutes per mile, extra minutes in the rain) and a bias (the pick-up time), plain SGD
    with a learning rate of 0.005, 200 epochs.
    """),
    code("""
    torch.manual_seed(0)
    model = nn.Linear(2, 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.005)
    train_loader, val_loader = make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0)
    epochs = 200
    train_losses, val_losses = fit(model, train_loader, val_loader, nn.MSELoss(), optimizer, epochs, device)

    plt.plot(range(1, epochs + 1), train_losses, label="training")
    plt.plot(range(1, epochs + 1), val_losses, label="validation")
    plt.yscale("log")
    plt.xlabel("epoch")
    plt.ylabel("mean squared error (minutes²)")
    plt.title("Loss curves")
    plt.legend()
    plt.show()
    below = [epoch for epoch, (t, v) in enumerate(zip(train_losses, val_losses), start=1) if v < t]
    print(f"validation below training in {len(below)} of {epochs} epochs, the last time in epoch {below[-1]}")
    print(f"after {epochs} epochs: training {train_losses[-1]:.2f}, validation {val_losses[-1]:.2f}")
    """),
    md("""
    How to read the two curves:

    - Both fall, then level off near 4 minutes²: the deliveries themselves vary by about two
      minutes either way (traffic, lights, luck), and no line can predict that.
    - For about the first hundred epochs validation sits *below* training. An epoch's training
      loss is the average over its batches, taken while the weights were still improving; the
      validation loss is measured once, after the epoch, with the improved weights. Later,
      validation settles a little above training: the model fits the deliveries it trained on
      slightly better than new ones.
    - The curves wiggle a little, because every step follows one batch of 32 deliveries, not
      the whole log. A larger learning rate makes faster progress but larger steps, which
      overshoot: try `lr=0.02` (this model stops converging at about 0.028) and the validation
      curve jumps up and down from epoch to epoch.
    - When validation stops falling while training goes on falling, the model has started to
      learn its training data by heart: the moment to stop. A line with three parameters
      cannot learn 192 deliveries by heart, so here that moment never comes.

    And why the validation loader does not shuffle, measured: the same trained model, its
    validation deliveries served in a new order at each pass.
    """),
    code("""
    shuffled_val = DataLoader(val_loader.dataset, batch_size=32, shuffle=True)
    print("fixed order:   ", round(evaluate(model, val_loader, nn.MSELoss(), device), 2))
    print("shuffled order:", [round(evaluate(model, shuffled_val, nn.MSELoss(), device), 2) for _ in range(5)])
    """),
    md("""
    ## The 7-mile order on a bike day

    What the model learned reads straight off its parameters, and it answers the courier's
    question for a dry day and a rainy one:
    """),
    code("""
    per_mile, rain_delay = model.weight.detach().cpu().flatten().tolist()
    pick_up = model.bias.item()
    print(f"{pick_up:.1f} min pick-up + {per_mile:.2f} min a mile, + {rain_delay:.1f} min in the rain")

    model.eval()
    with torch.no_grad():
        orders = torch.tensor([[7.0, 0.0], [7.0, 1.0]], device=device)
        for (miles, rain), minutes in zip(orders.tolist(), model(orders).flatten().tolist()):
            weather = "rain" if rain else "dry"
            verdict = "take it" if minutes <= 30 else "decline: it would break the 30-minute promise"
            print(f"{miles:.0f} miles by bike, {weather}: {minutes:.1f} minutes -> {verdict}")
    """),
    md("""
    By bike the 7-mile order breaks the promise even on a dry day, and rain makes it worse; by
    car (notebook 03) it fits. The answer depends on the vehicle: the courier takes 7-mile
    orders on car days and declines them on bike days.

    ## What you have built

    - a `Dataset` says how many samples there are (`__len__`) and what sample `i` is
      (`__getitem__`); a `DataLoader` deals them into batches, new ones every epoch when it
      shuffles;
    - a validation split is disjoint, complete and reproducible from its seed; only the
      training loader shuffles, so the validation loss of a model is always the same number;
    - an epoch is `model.train()`, then per batch: to the device, forward, loss, zero_grad,
      backward, step, `loss.item()`;
    - evaluation is `model.eval()` under `torch.no_grad()`, and changes nothing;
    - `fit` alternates the two and gives the curves that show when to stop.

    Next, in **05 · Devices and checkpoints**, the same loop moves to a GPU when there is one,
    and the trained model is saved and loaded again.
    """),
]
