"""04_training_loop: Dataset, DataLoader, a seeded validation split and the standard training loop."""

from authoring.cells import code, grade, md, setup, solution

CELLS = [
    md("""
    # 04 · The training loop: batches, validation, and the loop every project reuses

    The courier still promises **30-minute deliveries** and still wonders about that **7-mile
    order**. Since the single neuron of the last notebook, the log has grown: a season of
    **240 deliveries**, each with its distance and whether it was **raining**. Four points fit
    in one tensor and one gradient step; a real log is fed to the model in **batches**, and
    part of it is kept aside to check that the model works on deliveries it has not seen.

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

    Row `i` of `X` is one delivery: `[miles, rain]`, with `rain` 1.0 when it rained and 0.0
    when it did not. `y[i]` is how many minutes it took, a tensor of shape `[1]`. The shapes
    are the ones `nn.Linear` expects: `X` is `[240, 2]`, `y` is `[240, 1]`.
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
    plt.title("A season of deliveries")
    plt.legend()
    plt.show()
    """),
    md("""
    ## A `Dataset`: how to get sample number `i`

    PyTorch separates *what the data is* from *how it is served*. A `Dataset` answers two
    questions only:

    - `len(dataset)`: how many samples are there?
    - `dataset[i]`: what is sample `i`?

    Everything else (batching, shuffling, loading in the background) is the `DataLoader`'s
    job. Because a `Dataset` hands out one sample at a time, it works the same for 240 rows
    in memory and for a million images on disk.
    """),
    md("""
    ### Exercise 1: `DeliveryDataset`

    Write a class `DeliveryDataset(torch.utils.data.Dataset)`:

    - `DeliveryDataset(X, y)` keeps the features `X` (`[N, F]`) and targets `y` (`[N, 1]`);
    - `len(dataset)` is `N`, the number of deliveries (rows of `X`);
    - `dataset[i]` is the pair `(X[i], y[i])`.

    Keep `y[i]` as a tensor of shape `[1]` (do not turn it into a number with `.item()`):
    the `DataLoader` then stacks the targets of a batch into `[B, 1]`, the shape of the
    model's output.
    """),
    solution("delivery_dataset", """
    class DeliveryDataset(Dataset):
        \"\"\"The deliveries as a Dataset: item i is (X[i], y[i]).\"\"\"

        ### BEGIN SOLUTION
        def __init__(self, X, y):
            self.X = X
            self.y = y

        def __len__(self):
            return len(self.X)

        def __getitem__(self, i):
            return self.X[i], self.y[i]
        ### END SOLUTION
    """),
    grade("test_delivery_dataset", 1, """
    from autograder.checks import training_loop as check

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

    A `DataLoader` then serves each part in batches. The training loader **shuffles**: every
    epoch sees the batches in a new order, so the model cannot pick up anything from the
    order of the log. The validation loader does not need to: its loss is the same in any
    order, and a fixed order makes runs easier to compare.

    A seeded shuffle of the indices, made with its own generator, leaves PyTorch's global
    random state alone:
    """),
    code("""
    generator = torch.Generator().manual_seed(0)
    print(torch.randperm(10, generator=generator))
    generator = torch.Generator().manual_seed(0)
    print(torch.randperm(10, generator=generator), " <- the same seed, the same order")
    """),
    md("""
    ### Exercise 2: `make_loaders`

    Write `make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0)` returning
    `(train_loader, val_loader)`:

    - the validation part holds `round(N * val_fraction)` deliveries, chosen at random from
      the seed, and the training part holds all the others;
    - the same seed gives the same split; another seed another split;
    - both loaders serve batches of `batch_size`; the training loader shuffles
      (`shuffle=True`), the validation loader does not (`shuffle=False`).

    *Hints:* `DeliveryDataset(X, y)` gives the dataset. Either shuffle the indices with
    `torch.randperm(N, generator=torch.Generator().manual_seed(seed))` and wrap each part in
    `Subset(dataset, indices)`, or use `random_split(dataset, [n_train, n_val],
    generator=...)`. Compute `n_val = round(N * val_fraction)` yourself: `random_split` given
    fractions rounds in its own way.
    """),
    solution("make_loaders", """
    def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
        \"\"\"(train_loader, val_loader) of a seeded split; only the training loader shuffles.\"\"\"
        ### BEGIN SOLUTION
        dataset = DeliveryDataset(X, y)
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
        n_val = round(len(dataset) * val_fraction)
        train_part = Subset(dataset, order[n_val:])
        val_part = Subset(dataset, order[:n_val])
        train_loader = DataLoader(train_part, batch_size=batch_size, shuffle=True)
        val_loader = DataLoader(val_part, batch_size=batch_size, shuffle=False)
        return train_loader, val_loader
        ### END SOLUTION
    """),
    grade("test_make_loaders", 2, """
    from autograder.checks import training_loop as check

    # The tests give your make_loaders the reference DeliveryDataset while they run, so that
    # a mistake in Exercise 1 does not cost these points too.
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

    Some layers behave differently while training. **Dropout** switches off a random half of
    its inputs on every forward pass (which keeps a network from leaning on any single unit),
    but only in **training mode**; in **evaluation mode** it lets everything through, and the
    output is the same every time. `model.train()` and `model.eval()` switch every layer of
    the model at once. Forget `model.eval()` and the validation loss wobbles from call to call:
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

    A model computes on the device its parameters live on: the CPU, or a GPU (`cuda`, or
    `mps` on a Mac). Every batch must be moved there too, with `.to(device)`: a CPU batch
    meeting GPU weights is an error. The functions below take a `device` argument and move
    each batch to it; the model is already there.
    """),
    setup("setup_device", """
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
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

    Use the `loss_fn` and `optimizer` you are given; do not create your own.
    """),
    solution("train_one_epoch", """
    def train_one_epoch(model, loader, loss_fn, optimizer, device):
        \"\"\"One optimizer step per batch; returns the mean batch loss as a float.\"\"\"
        ### BEGIN SOLUTION
        model.train()
        total, batches = 0.0, 0
        for X_batch, y_batch in loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            pred = model(X_batch)
            loss = loss_fn(pred, y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        return total / batches
        ### END SOLUTION
    """),
    grade("test_train_one_epoch", 3, """
    from autograder.checks import training_loop as check

    # The tests train their own small models on loaders of their own, and compare your epoch
    # with the reference epoch from the same start, batch for batch.
    check.train_one_epoch(train_one_epoch, X, y, batch_size=32, lr=0.001)
    check.train_one_epoch(train_one_epoch, X, y, batch_size=25, lr=0.0005, hidden=8)
    # The model on PyTorch's "meta" device: a batch left on the CPU fails, as on a GPU.
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
    solution("evaluate", """
    def evaluate(model, loader, loss_fn, device):
        \"\"\"Mean batch loss in eval mode under torch.no_grad(); the model is unchanged.\"\"\"
        ### BEGIN SOLUTION
        model.eval()
        total, batches = 0.0, 0
        with torch.no_grad():
            for X_batch, y_batch in loader:
                X_batch, y_batch = X_batch.to(device), y_batch.to(device)
                total += loss_fn(model(X_batch), y_batch).item()
                batches += 1
        return total / batches
        ### END SOLUTION
    """),
    grade("test_evaluate", 2, """
    from autograder.checks import training_loop as check

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

    Call your two functions by these names. (The test of this exercise swaps in the reference
    `train_one_epoch` and `evaluate` while it runs, so that only `fit` itself is graded here.)
    """),
    solution("fit", """
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        \"\"\"`epochs` rounds of training then evaluation; returns (train_losses, val_losses).\"\"\"
        ### BEGIN SOLUTION
        train_losses, val_losses = [], []
        for _ in range(epochs):
            train_losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
            val_losses.append(evaluate(model, val_loader, loss_fn, device))
        return train_losses, val_losses
        ### END SOLUTION
    """),
    grade("test_fit", 2, """
    from autograder.checks import training_loop as check

    # Your fit runs with the reference train_one_epoch and evaluate bound to those names
    # (your own are put back afterwards).
    check.fit(fit, X, y, epochs=4, lr=0.001)
    check.fit_uses_device(fit, X, y)
    ### BEGIN HIDDEN TESTS
    check.fit_hidden(fit, seeds=[5, 505, 5005])
    ### END HIDDEN TESTS
    print("✓ fit")
    """),
    md("""
    ## Training the courier's model

    Everything together: the loaders of Exercise 2, a linear model with one weight per feature
    (minutes per mile, extra minutes in the rain) and a bias (the pick-up time), plain SGD,
    40 epochs. The two curves tell the story: the training loss falls as the model fits its
    batches, and the validation loss, on deliveries it never trained on, falls with it. (In the
    first epochs validation can even sit *below* training: the training loss is an average taken
    while the weights were still improving, the validation loss is measured after the epoch.) When
    validation stops falling while training goes on falling, the model has started to learn its
    training data by heart: the moment to stop.
    """),
    code("""
    torch.manual_seed(0)
    model = nn.Linear(2, 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    train_loader, val_loader = make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0)
    train_losses, val_losses = fit(model, train_loader, val_loader, nn.MSELoss(), optimizer, 40, device)

    plt.plot(range(1, 41), train_losses, label="training")
    plt.plot(range(1, 41), val_losses, label="validation")
    plt.yscale("log")
    plt.xlabel("epoch")
    plt.ylabel("mean squared error (minutes²)")
    plt.title("Loss curves")
    plt.legend()
    plt.show()
    print(f"after 40 epochs: training {train_losses[-1]:.2f}, validation {val_losses[-1]:.2f}")
    """),
    md("""
    ## The 7-mile order

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
            print(f"{miles:.0f} miles, {weather}: {minutes:.1f} minutes -> {verdict}")
    """),
    md("""
    ## What you have built

    - a `Dataset` says how many samples there are and what sample `i` is; a `DataLoader`
      batches and shuffles them;
    - a validation split is disjoint, complete and reproducible from its seed; only the
      training loader shuffles;
    - an epoch is `model.train()`, then per batch: to the device, forward, loss, zero_grad,
      backward, step, `loss.item()`;
    - evaluation is `model.eval()` under `torch.no_grad()`, and changes nothing;
    - `fit` alternates the two and gives the curves that show when to stop.

    Next, in **05 · Devices and checkpoints**, the same loop moves to a GPU, and the trained
    model is saved and loaded again.
    """),
]
