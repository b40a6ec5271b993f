"""06_resume: a training run that can be stopped, and picked up again exactly where it stopped."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import resume as ref

CELLS = [
    md("""
    # 06 · Resuming training: the courier's model survives an interruption

    The courier's model has grown: it now reads a whole season of bike deliveries (the log of
    **04**, distance and rain) to decide whether a **7-mile order** can keep the **30-minute
    promise**. The dispatch office trains it on a shared GPU cluster, and a cluster does not
    let a job run as long as it likes: each job is stopped after a time limit, and a GPU can be
    taken back at any moment for a more urgent job (the job is *preempted*). So the training
    must **save its progress after every epoch** and, when started again, **go on from where
    it stopped**.

    That is easy to get almost right, and "almost" is the problem. A resumed run that forgets
    part of its state does not crash: it trains on, prints reasonable losses, and ends with a
    model that is not the one an uninterrupted run would have given. Nobody notices. The goal
    of this notebook is a resume that is **exact**: on the CPU, a run stopped after any epoch
    and resumed ends with the *same weights, bit for bit*, as a run that never stopped.

    You will write three functions:

    1. `save_training_state`: one file that holds everything a resume needs;
    2. `load_training_state`: put all of it back, on any device;
    3. `train_with_resume`: a training loop that saves every epoch and resumes by itself.

    Run each cell with **Shift+Enter**. Each exercise has a test cell right after it; the
    grader runs more tests, on data and runs you have not seen, and each test uses only the
    function of its own exercise.
    """),
    setup("setup_imports", """
    import os
    import tempfile

    import matplotlib.pyplot as plt
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.__version__
    """),
    md("""
    ## The data and the model

    The season's log of 04: 240 bike deliveries, each with its distance and whether it rained.
    Here the distance is counted in **tens of miles** and the time in **hours**, so that every
    number is near 1: that suits SGD with momentum, which you will use below.

    `fresh_run` makes what a training script makes when it starts: a small network (seeded,
    so that the same seed gives the same starting weights) and its optimizer.
    """),
    setup("setup_data", """
    from coursekit.data.delivery import delivery_table

    X, minutes = delivery_table(seed=2024, n=240)     # X: [miles, rain], minutes: [240, 1]
    X = torch.cat([X[:, :1] / 10, X[:, 1:]], dim=1)   # [tens of miles, rain]
    y = minutes / 60                                   # hours
    dataset = TensorDataset(X, y)                      # item i is the pair (X[i], y[i])


    def fresh_run(seed=0):
        \"\"\"A new network with weights drawn from `seed`, and an SGD optimizer with momentum for it.\"\"\"
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return model, optimizer


    print("X", tuple(X.shape), " y", tuple(y.shape), " first delivery:", X[0].tolist(), "->",
          round(y[0].item() * 60, 1), "minutes")
    """),
    md("""
    ## What a training run remembers

    Between two epochs, a training run is more than its weights. Four things decide what the
    next epoch does, and a resumed run needs all four back:

    1. **the model's weights**: `model.state_dict()`, as in 05;
    2. **the optimizer's state**: SGD with momentum keeps a *velocity* for every parameter (its
       *momentum buffer*), a running mix of the past gradients; Adam keeps running averages of
       the gradients and of their squares, and counts its steps. A new optimizer starts all of
       these from zero;
    3. **the epoch counter**: how many epochs are finished, so that the run knows where to go on;
    4. **the random state that decides the data order**: a `DataLoader` with `shuffle=True`
       draws a new order of the samples at the start of every epoch, from a random generator.

    The optimizer's state is easy to forget, because a fresh optimizer has none to show. After
    one step, it has:
    """),
    code("""
    model, optimizer = fresh_run()
    print("before any step:", optimizer.state_dict()["state"])

    loss = nn.functional.mse_loss(model(X[:16]), y[:16])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    buffer = optimizer.state_dict()["state"][0]["momentum_buffer"]
    print("after one step: a momentum buffer of shape", tuple(buffer.shape), "for the first weight")

    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    adam.zero_grad()
    nn.functional.mse_loss(model(X[:16]), y[:16]).backward()
    adam.step()
    print("Adam, after one step, keeps for the first weight:", sorted(adam.state_dict()["state"][0]))
    """),
    md("""
    The next step moves each weight by its gradient *plus* 0.9 times this buffer. Resume with
    a fresh optimizer and the first steps after the restart have no momentum at all: the run
    takes another path, and ends somewhere else.
    """),
    md("""
    ## The data order comes from a generator

    Each time a shuffling `DataLoader` starts an epoch, it draws a new order from a random
    number generator. Give it a generator of your own, seeded, and you control that order.
    A generator's *state* (`generator.get_state()`, a tensor of bytes) says exactly how far it
    has gone; `generator.set_state(...)` puts it back there:
    """),
    code("""
    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(range(8), batch_size=8, shuffle=True, generator=generator)

    print("epoch 1:      ", next(iter(loader)).tolist())
    print("epoch 2:      ", next(iter(loader)).tolist())
    saved = generator.get_state()            # the generator after two epochs
    print("epoch 3:      ", next(iter(loader)).tolist())
    generator.set_state(saved)               # back to where it was after two epochs
    print("epoch 3 again:", next(iter(loader)).tolist())
    """),
    md("""
    Without a generator, the loader draws from torch's **global** generator, the one that
    `torch.manual_seed` seeds and that also draws initial weights and dropout masks.
    `torch.manual_seed(0)` at the top of a script makes a run *repeatable*, but not
    *resumable*: after a restart the global generator is back at its start, not where the
    stopped run left it, so epoch 4 of the resumed run shuffles like epoch 1. With a generator
    of its own, the data order is a state you can save and restore like any other.
    """),
    md("""
    ## A checkpoint that loads safely

    The four parts go into one dict, saved with `torch.save`. Since PyTorch 2.6,
    `torch.load(path)` reads with `weights_only=True`: it accepts tensors, numbers, strings,
    lists and dicts of them (state_dicts are such dicts), and refuses any other object,
    because unpickling an object can run code. So save each part as plain data: the
    state_dicts, the epoch as an `int`, the generator's *state*, never the generator, the
    optimizer or the model themselves. Here is what happens to a checkpoint that holds the
    generator object:
    """),
    code("""
    scratch = tempfile.mkdtemp()                       # a scratch folder for this notebook's files
    bad = os.path.join(scratch, "bad_checkpoint.pt")
    torch.save({"generator": torch.Generator()}, bad)
    try:
        torch.load(bad, weights_only=True)
    except Exception as error:
        lines = str(error).splitlines()
        reason = next((line for line in lines if "Unsupported global" in line), lines[0])
        print("torch.load refused it:", reason.strip()[:150], "...")
    """),
    md("""
    ### Exercise 1: `save_training_state`

    Write `save_training_state(path, model, optimizer, epoch, generator)`: save to `path`,
    with `torch.save`, one dict with exactly these four keys:

    | key | value |
    |---|---|
    | `"model"` | `model.state_dict()` |
    | `"optimizer"` | `optimizer.state_dict()` |
    | `"epoch"` | `epoch`, the number of epochs finished (an `int`, as given) |
    | `"generator"` | `generator.get_state()` |

    It returns nothing, and changes nothing: saving in the middle of training must leave the
    model (weights and mode), the optimizer and the generator as they were. The file must load
    with `torch.load(path, weights_only=True)`.
    """),
    solution_from(ref.save_training_state),
    grade("test_save_training_state", 3, """
    from coursekit.checks import resume as check

    # The test reads your file back with torch.load(path, weights_only=True), not with your own load.
    check.save_training_state(save_training_state)                            # SGD with momentum, 3 epochs in
    check.save_training_state(save_training_state, optimizer="adam", epoch=7)  # Adam, 7 epochs in
    ### BEGIN HIDDEN TESTS
    check.save_training_state_hidden(save_training_state, seeds=[61, 6161, 616161])
    ### END HIDDEN TESTS
    print("✓ save_training_state")
    """),
    md("""
    Look inside a checkpoint written by your function:
    """),
    code("""
    model, optimizer = fresh_run()
    generator = torch.Generator().manual_seed(0)
    path = os.path.join(scratch, "look_inside.pt")
    save_training_state(path, model, optimizer, 1, generator)
    for key, value in torch.load(path, weights_only=True).items():
        print(f"{key:10s}", type(value).__name__, list(value) if isinstance(value, dict) else "")
    """),
    md("""
    ## Loading: everything back, on any device

    A new process starts with a fresh model, an optimizer without state and a newly seeded
    generator. Loading puts the stopped run's state into **these objects** (the caller keeps
    using them; a new optimizer made inside the function would be lost when it returns):

    1. read the file with `torch.load(path, map_location=device, weights_only=True)`. As in 05,
       `map_location` matters: a checkpoint written on the cluster's GPU says "cuda", and
       without `map_location` it does not even load on a laptop;
    2. put the model on the device with `model.to(device)`, **then** load both state_dicts,
       `model.load_state_dict(state["model"])` and `optimizer.load_state_dict(state["optimizer"])`.
       The optimizer puts each saved buffer on the device of the parameter it belongs to, so
       the order matters: move the model after, and its momentum stays behind on the CPU;
    3. restore the generator with `generator.set_state(state["generator"].cpu())`: a generator's
       state is always a CPU tensor, and `map_location` may have moved it to the device;
    4. switch the model to **training mode** with `model.train()`. In 05, `load_checkpoint`
       loaded a model to *predict* with, so it ended in eval mode; this one goes on training;
    5. return `state["epoch"]`, the number of epochs finished: the loop goes on from there.
    """),
    md("""
    ### Exercise 2: `load_training_state`

    Write `load_training_state(path, model, optimizer, generator, device)`: read the checkpoint
    at `path` (written by `save_training_state`), restore the model (on `device`, in training
    mode), the optimizer and the generator from it, and return the epoch it holds.

    The tests hand your function checkpoints written by the course's own code, on the CPU and as
    if on a GPU this machine does not have.
    """),
    solution_from(ref.load_training_state),
    grade("test_load_training_state", 3, """
    from coursekit.checks import resume as check

    check.load_training_state(load_training_state)                                   # written on the CPU
    # Written on the cluster's GPU, which this machine does not have: it loads only with map_location.
    check.load_training_state(load_training_state, optimizer="adam", epoch=4, written_on="cuda:0")
    ### BEGIN HIDDEN TESTS
    check.load_training_state_hidden(load_training_state, seeds=[62, 6262, 626262])
    ### END HIDDEN TESTS
    print("✓ load_training_state")
    """),
    md("""
    ## A loop that resumes by itself

    With the two functions, a training loop becomes resumable in a few lines. It is started
    the same way every time (the cluster simply runs the same script again), and it finds out
    by itself whether there is a checkpoint to go on from:

    1. make the generator and the loader **first**:
       `generator = torch.Generator().manual_seed(seed)`, then
       `loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)`;
    2. `model.to(device)`;
    3. `start = 0`; if `os.path.exists(path)`, `start = load_training_state(path, model,
       optimizer, generator, device)`. Loading restores the generator the loader draws from,
       so never seed it again after this line;
    4. `for epoch in range(start, epochs):` train one epoch as in 04 (`model.train()`, then for
       every batch: move it to `device`, forward, `loss_fn`, `zero_grad`, `backward`, `step`),
       keep the epoch's mean batch loss, and **after** the batch loop call
       `save_training_state(path, model, optimizer, epoch + 1, generator)`: `epoch + 1` epochs
       are now finished;
    5. return the list of the mean batch losses of the epochs **this call** ran.

    `epochs` is the total: a run stopped after 3 of 6 epochs and started again with `epochs=6`
    trains epochs 4, 5 and 6 (`range(3, 6)` in Python's counting), then stops. Do not call
    `torch.manual_seed` inside the function: the data order comes from `generator` alone.
    """),
    md("""
    ### Exercise 3: `train_with_resume`

    Write `train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed=0,
    batch_size=16, device="cpu")` as described above, calling your `save_training_state` and
    `load_training_state`.

    (The tests replace `save_training_state` and `load_training_state` by stand-ins while your
    function runs: the save records what it is given, the load puts a known state in place, so
    only `train_with_resume` itself is graded here. They compare a fresh run and a resumed run
    with the course's own, to 1e-5 on the CPU, 1e-3 on a GPU, which adds up in another order.)
    """),
    solution_from(ref.train_with_resume),
    grade("test_train_with_resume", 4, """
    from coursekit.checks import resume as check

    check.train_with_resume(train_with_resume)                                    # 5 epochs; stopped after 2, resumed
    check.train_with_resume(train_with_resume, optimizer="adam", epochs=4, resume_at=3)
    check.train_with_resume(train_with_resume, epochs=2, device="meta")           # the model on another device
    ### BEGIN HIDDEN TESTS
    check.train_with_resume_hidden(train_with_resume, seeds=[63, 6363, 636363])
    ### END HIDDEN TESTS
    print("✓ train_with_resume")
    """),
    md("""
    ## The proof: stop, resume, compare

    Run A trains 6 epochs without a break. Run B is stopped by the cluster after 3 epochs; a
    new process (new objects, even other starting weights) runs the same call again with
    `epochs=6`, and it resumes from the checkpoint. If all four parts are saved and restored,
    the two runs end with the same weights, bit for bit:
    """),
    code("""
    path_a = os.path.join(scratch, "run_a.pt")
    model_a, optimizer_a = fresh_run()
    losses_a = train_with_resume(model_a, dataset, nn.MSELoss(), optimizer_a, 6, path_a)

    path_b = os.path.join(scratch, "run_b.pt")
    model_b, optimizer_b = fresh_run()
    before_stop = train_with_resume(model_b, dataset, nn.MSELoss(), optimizer_b, 3, path_b)  # stopped here
    model_b, optimizer_b = fresh_run(seed=1)                                                  # a new process
    after_resume = train_with_resume(model_b, dataset, nn.MSELoss(), optimizer_b, 6, path_b)

    same = all(torch.equal(p, q) for p, q in zip(model_a.parameters(), model_b.parameters()))
    print("epochs run after the restart:", len(after_resume))
    print("the same weights as the uninterrupted run, bit for bit:", same)

    plt.plot(range(1, 7), losses_a, "o-", label="run A, uninterrupted")
    plt.plot(range(1, 4), before_stop, "x", markersize=10, label="run B, before the stop")
    plt.plot(range(4, 7), after_resume, "+", markersize=12, label="run B, resumed")
    plt.xlabel("epoch")
    plt.ylabel("mean batch loss (hours²)")
    plt.legend()
    plt.show()
    """),
    md("""
    ## What a forgotten part costs

    Take run B's checkpoint from the stop after 3 epochs, and damage it the way a resume that
    forgets one part would: drop the optimizer's momentum, or put a freshly seeded generator's
    state in it. Each resumed run still trains without an error; only the weights show that it
    is no longer run A:
    """),
    code("""
    def resumed_from_damaged(damage):
        path = os.path.join(scratch, "damaged.pt")
        if os.path.exists(path):
            os.remove(path)
        model, optimizer = fresh_run()
        train_with_resume(model, dataset, nn.MSELoss(), optimizer, 3, path)   # stopped after 3 epochs
        state = torch.load(path, weights_only=True)
        damage(state)
        torch.save(state, path)
        model, optimizer = fresh_run(seed=1)                                   # a new process resumes
        train_with_resume(model, dataset, nn.MSELoss(), optimizer, 6, path)
        return max((p - q).abs().max().item() for p, q in zip(model.parameters(), model_a.parameters()))


    def nothing(state):
        pass


    def no_momentum(state):
        state["optimizer"]["state"] = {}


    def fresh_generator(state):
        state["generator"] = torch.Generator().manual_seed(0).get_state()


    print("largest weight difference from run A, nothing damaged:  ", resumed_from_damaged(nothing))
    print("largest weight difference from run A, momentum lost:    ", resumed_from_damaged(no_momentum))
    print("largest weight difference from run A, data order reset: ", resumed_from_damaged(fresh_generator))
    """),
    md("""
    ## What you have built

    - a training run is four things: the model's weights, the optimizer's state (momentum,
      Adam's averages), the epoch counter, and the state of the generator that orders the data;
    - a checkpoint holds all four as plain data (state_dicts, an `int`, a generator's state),
      so that it loads with `weights_only=True`;
    - loading puts them back into the objects you were given: the model on the device *before*
      the optimizer's state, the generator's state on the CPU, the model in training mode;
    - a resumable loop makes its generator and loader first, loads when a checkpoint exists,
      runs `range(start, epochs)`, and saves `epoch + 1` after each epoch's last step;
    - on the CPU, a resumed run ends with the very same weights as an uninterrupted one.

    The courier's model can now train on the cluster for as many epochs as it needs, one time
    limit at a time, and end exactly where a single long run would have.
    """),
]
