"""05_devices_checkpoints: where tensors live, and how a trained model is kept and brought back."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import devices as ref

CELLS = [
    md("""
    # 05 · Devices and checkpoints: the courier's model, on any machine

    In 04 the courier's model learned from 240 deliveries, with the rain as a second input. This
    notebook goes back to the one-neuron line of 01 to 03, fitted to the four bike deliveries:
    about **5.1 minutes a mile plus 11.1 minutes** of pick-up, so the **7-mile order** would take
    some 46.8 minutes, far past the **30-minute promise**. Its two numbers are easy to check by
    hand, and everything you write here works the same for 04's model.

    Now the model has to leave the notebook it was trained in. The dispatch office runs it on a
    server with an NVIDIA GPU, the courier checks it on a MacBook, a grader may run it on a
    plain CPU. And nobody wants to train it again every morning: it must be **saved** once and
    **loaded** anywhere.

    That is two questions PyTorch makes you answer explicitly: *where does each tensor live?*
    and *what exactly goes into a saved model?* You will write five small functions:

    1. `pick_device`: the best device this machine has;
    2. `to_device`: move a batch, however nested, to a device;
    3. `predict_on_device`: predict on a device and hand the answers back on the CPU;
    4. `save_checkpoint`: save the model's parameters (its `state_dict`);
    5. `load_checkpoint`: rebuild the model from a checkpoint, on any device.

    Run each cell with **Shift+Enter**. After each exercise a test cell checks your function;
    the grader runs more tests, on data and machines you have not seen.
    """),
    setup("setup_imports", """
    import copy
    import os
    import tempfile

    import matplotlib.pyplot as plt
    import torch
    from torch import nn

    torch.__version__
    """),
    md("""
    ## The courier's model and data

    Four past bike deliveries (miles, minutes), the hour each order came in, and the trained
    one-neuron model. Its two numbers are set directly here, so this notebook does not need
    to train anything. `build_courier` makes a *fresh*, untrained model of the same shape:
    you will need it to load a checkpoint.
    """),
    setup("setup_data", """
    miles = torch.tensor([[1.0], [3.0], [5.0], [7.0]])        # [4, 1] float32: one row per delivery
    minutes = torch.tensor([[15.0], [27.0], [39.0], [45.0]])  # [4, 1] float32
    hours = torch.tensor([[8], [12], [17], [18]])              # [4, 1] int64: the hour each order came in


    def build_courier():
        \"\"\"A fresh, untrained courier model: one neuron, one input, one output.\"\"\"
        return nn.Sequential(nn.Linear(1, 1))


    courier = build_courier()
    with torch.no_grad():
        courier[0].weight.fill_(5.1)   # minutes per mile
        courier[0].bias.fill_(11.1)    # minutes of pick-up
    courier.eval()
    """),
    md("""
    ## Every tensor lives on a device

    A tensor's numbers are stored somewhere: in the computer's main memory (the **CPU**), in
    the memory of an NVIDIA graphics card (**cuda**), or in the unified memory of an Apple
    silicon chip (**mps**). `tensor.device` says where. A model's parameters are tensors
    too, so a model lives wherever its parameters live.

    There is one more device, **meta**, which you will meet in the tests: a meta tensor has a
    shape and a dtype but *no numbers at all*. Moving something to `meta` costs nothing and
    shows, on any machine, whether it really moved. A grader may have no GPU, so the tests use
    `meta` to see what would have happened on one; on a machine with a GPU they use the GPU too.
    """),
    code("""
    print("miles lives on:", miles.device)
    print("the courier's weight lives on:", courier[0].weight.device)
    print("cuda available here:", torch.cuda.is_available())
    print("mps available here: ", torch.backends.mps.is_available())
    print(torch.ones(2, 3, device="meta"))   # a shape, no numbers
    """),
    md("""
    ## Model and data must share a device

    A GPU computes only with numbers in its own memory, and it will not fetch them from the
    CPU behind your back. So when the model's weights are on one device and the batch on
    another, PyTorch stops with an error instead of copying silently. Below, a copy of the
    model is moved (to `meta`) and the batch is not. `copy.deepcopy(courier)` makes an
    independent copy of the model, its parameters included, so moving the copy leaves
    `courier` itself on the CPU for the rest of the notebook.
    """),
    code("""
    moved = copy.deepcopy(courier).to("meta")
    try:
        moved(miles)
    except RuntimeError as error:
        print("RuntimeError:", error)
    """),
    md("""
    The fix is always the same: move **both** to the same device with `.to(device)`. Note that
    the two kinds of `.to` differ: `model.to(device)` moves the model's parameters *in place*
    (and returns the same model), while `tensor.to(device)` returns a **new** tensor and leaves
    the original where it was. `X.to(device)` on its own line does nothing useful: keep what
    it returns.
    """),
    md("""
    ## Choosing the device

    The same notebook should run everywhere, using the fastest hardware present. The usual
    order of preference is:

    1. **cuda**, when `torch.cuda.is_available()` says an NVIDIA GPU is there;
    2. else **mps**, when `torch.backends.mps.is_available()` says Apple silicon is there;
    3. else the **cpu**, which every machine has.

    Both tests are *functions*: call them with `()`. A function object on its own is always
    true, so `if torch.cuda.is_available:` picks cuda even on a laptop without one.
    """),
    md("""
    ### Exercise 1: `pick_device`

    Write `pick_device()` returning a `torch.device` (not a string): `torch.device("cuda")`
    when cuda is available, else `torch.device("mps")` when mps is available, else
    `torch.device("cpu")`. Decide inside the function, every time it is called.

    The tests pretend to be machines with and without each kind of hardware (by replacing
    the two `is_available` functions for a moment), so your function must really ask.
    """),
    solution_from(ref.pick_device),
    grade("test_pick_device", 2, """
    from coursekit.checks import devices as check

    print("this machine's device:", pick_device())
    check.pick_device(pick_device)
    check.pick_device_under(pick_device, cuda=True, mps=False)     # a server with an NVIDIA GPU
    check.pick_device_under(pick_device, cuda=False, mps=True)     # a MacBook with Apple silicon
    check.pick_device_under(pick_device, cuda=False, mps=False)    # a plain CPU
    ### BEGIN HIDDEN TESTS
    check.pick_device_hidden(pick_device, seeds=[5, 505, 50505])
    ### END HIDDEN TESTS
    print("✓ pick_device")
    """),
    md("""
    ## Moving a whole batch

    Real batches are rarely one tensor. A data loader may hand out a pair `(features, target)`,
    a dict of named columns, or containers inside containers. Here every tensor has one row
    per delivery, shape `[4, 1]`:

    ```python
    batch = {"features": (miles, hours), "minutes": minutes}
    ```

    A dict has no `.to()` method, so moving a batch means walking through it: move each
    tensor, and keep the structure around the moved pieces (a tuple stays a tuple, a list a
    list, a dict a dict with the same keys). A container inside a container is handled the
    same way, which is easiest when the function calls itself on each item.

    Moving changes *where* a tensor lives and nothing else. In 01 whole numbers became float32
    before a model saw them; that is decided where the data is prepared, not where it is moved.
    So the hours stay int64 here: `.to(device)` alone changes the device and keeps the dtype.
    """),
    md("""
    ### Exercise 2: `to_device`

    Write `to_device(batch, device)`: when `batch` is a tensor, return it moved to `device`;
    when it is a tuple, list or dict, return the same kind of container with every item moved
    (nested containers too). Keep every tensor's dtype (the int64 hours stay int64).

    Building a new container and updating a list or dict in place are both fine, as long as
    your function returns the moved batch (a tuple cannot be changed, so it is always rebuilt).

    *Hint:* `isinstance(batch, torch.Tensor)`, `isinstance(batch, dict)`, ... and call
    `to_device` again on each item.
    """),
    solution_from(ref.to_device),
    grade("test_to_device", 2, """
    from coursekit.checks import devices as check

    batch = {"features": (miles, hours), "minutes": minutes}
    # On a copy: a version that updates the dict in place must not move the notebook's own batch.
    moved = to_device(copy.deepcopy(batch), torch.device("meta"))
    print("features[0] now on:", moved["features"][0].device)
    # Each check moves its own copy of the batch to meta, to the CPU, and to a GPU when there is one.
    check.to_device(to_device, batch)
    check.to_device(to_device, [(miles, minutes), {"hours": hours}])
    ### BEGIN HIDDEN TESTS
    check.to_device_hidden(to_device, seeds=[8, 88, 888])
    ### END HIDDEN TESTS
    print("✓ to_device")
    """),
    md("""
    ## Predictions come back to the CPU

    Predicting on a device takes three steps you already know, plus one:

    - move the model and the batch to the device;
    - switch the model to **eval mode** (`model.eval()`), so that layers like dropout
      behave as they should at prediction time;
    - run the forward pass under **`torch.no_grad()`** (or `torch.inference_mode()`): nothing
      will be trained, so autograd need not record a graph (it saves memory and time);
    - bring the predictions **back to the CPU** with `.cpu()`. Printing a GPU tensor and
      calling `.item()` on it work anyway (PyTorch copies the numbers over for you), but NumPy,
      matplotlib and any arithmetic with CPU tensors need them on the CPU. Handing them back
      there means the rest of your program need not care which device did the arithmetic.

    One order is still a batch: the 7-mile order is `torch.tensor([[7.0]])`, of shape
    `[1, 1]` (a batch of one sample with one feature), not `torch.tensor(7.0)`.
    """),
    md("""
    ### Exercise 3: `predict_on_device`

    Write `predict_on_device(model, X, device)`: move the model and `X` to `device`, put the
    model in eval mode, compute `model(X)` under `torch.no_grad()`, and return the predictions
    (shape `[N, 1]`, as the model gives them) **on the CPU**.

    The tests hand your function a copy of the model in training mode, so switching to eval
    mode is your function's job.
    """),
    solution_from(ref.predict_on_device),
    grade("test_predict_on_device", 2, """
    from coursekit.checks import devices as check

    order = torch.tensor([[7.0]])                      # one order, as a batch of one
    # predict_on_device moves the model it gets and switches its mode: give it a copy of courier.
    print("7 miles:", predict_on_device(copy.deepcopy(courier), order, torch.device("cpu")), "minutes")
    # On meta, on the CPU, and on a GPU when there is one; each on its own copy of courier.
    check.predict_on_device(predict_on_device, courier, miles)
    check.predict_on_device(predict_on_device, courier, order)
    ### BEGIN HIDDEN TESTS
    check.predict_on_device_hidden(predict_on_device, seeds=[21, 2121, 212121])
    ### END HIDDEN TESTS
    print("✓ predict_on_device")
    """),
    md("""
    Because the predictions come back on the CPU, they go straight into a plot, whatever
    device computed them:
    """),
    code("""
    grid = torch.linspace(0, 10, 50).reshape(-1, 1)
    line = predict_on_device(copy.deepcopy(courier), grid, pick_device())
    plt.scatter(miles, minutes, label="past deliveries")
    plt.plot(grid, line, color="C1", label="the courier's model")
    plt.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    plt.axvline(7, color="C3", linestyle=":", label="the 7-mile order")
    plt.xlabel("distance (miles)")
    plt.ylabel("delivery time (minutes)")
    plt.legend()
    plt.show()
    """),
    md("""
    ## A checkpoint is the `state_dict`

    What makes the courier's model *the courier's* is its numbers, not its Python object.
    `model.state_dict()` is a dict from each parameter's name to its tensor:
    """),
    code("""
    for name, tensor in courier.state_dict().items():
        print(f"{name:10s} shape {tuple(tensor.shape)}  values {[round(v, 4) for v in tensor.flatten().tolist()]}")
    """),
    md("""
    Saving exactly that dict, `torch.save(model.state_dict(), path)`, makes a **portable**
    checkpoint: names and numbers, readable by any program that can build the same model.

    `torch.save(model, path)` looks simpler but pickles the whole Python object, tied to the
    class and the file that defined it, and loading it would run code from the file. The safe
    way to load is `torch.load(path, weights_only=True)` (the default since PyTorch 2.6): it
    accepts tensors and plain containers of them (dicts, lists, tuples) with basic Python
    values such as numbers and strings, and refuses anything that needs a class's code to
    rebuild, such as a whole pickled model. Wrapping the state_dict in another dict
    (`{"model": ..., "epoch": ...}`) loads safely but is a different format: whoever loads it
    must know the wrapper. Here the checkpoint is the state_dict alone.
    """),
    md("""
    ### Exercise 4: `save_checkpoint`

    Write `save_checkpoint(model, path)`: save the model's `state_dict` (and nothing else) to
    `path`, so that `torch.load(path, weights_only=True)` gives back the parameter names and
    tensors. It returns nothing.
    """),
    solution_from(ref.save_checkpoint),
    grade("test_save_checkpoint", 2, """
    from coursekit.checks import devices as check

    # The test saves a copy of courier with your function (from the CPU, and from a GPU when
    # there is one), reads the file back with torch.load(path, weights_only=True) and compares
    # every name and number with courier's state_dict.
    check.save_checkpoint(save_checkpoint, courier)
    ### BEGIN HIDDEN TESTS
    check.save_checkpoint_hidden(save_checkpoint, seeds=[34, 3434, 343434])
    ### END HIDDEN TESTS
    print("✓ save_checkpoint")
    """),
    md("""
    ## Loading: a fresh model, `map_location`, eval mode

    A state_dict holds numbers, not layers, so loading takes three steps:

    1. **build a fresh model** of the same shape (`build_fn()`), with random weights;
    2. **read the checkpoint** with `torch.load(path, map_location=device, weights_only=True)`.
       A checkpoint remembers the device its tensors were on. One written on the office's GPU
       says "cuda", and loading it on a laptop without a GPU fails... unless `map_location`
       tells `torch.load` where to put the tensors instead;
    3. copy the numbers in with `model.load_state_dict(state)`, put the model on the device
       with `model.to(device)`, and switch it to **eval mode**: a loaded model is almost always
       used to predict, and a fresh model starts in training mode.

    `map_location` decides where the checkpoint's tensors land; `load_state_dict` copies them
    into the model *wherever the model is*. So `model.to(device)` is still needed (before or
    after loading: both orders are right). Return the **model**, ready to use, not the state_dict.
    """),
    md("""
    ### Exercise 5: `load_checkpoint`

    Write `load_checkpoint(path, build_fn, device)`: build a fresh model with `build_fn()`,
    load the saved state_dict into it (with `map_location=device`), put it on `device` in
    eval mode, and return it.

    The tests hand your function checkpoints written by the course's own `save_checkpoint`,
    on the CPU and as if on a GPU this machine does not have, and load them to the CPU, to
    `meta` and to a GPU when there is one: the model must end up on the `device` you were given.
    """),
    solution_from(ref.load_checkpoint),
    grade("test_load_checkpoint", 2, """
    from coursekit.checks import devices as check

    # Checkpoints of courier written by the course's own save, on the CPU and as if on a GPU
    # this machine lacks (those load only with map_location), loaded by your function to the
    # CPU, to meta and to a GPU when there is one.
    check.load_checkpoint(load_checkpoint, courier)
    ### BEGIN HIDDEN TESTS
    check.load_checkpoint_hidden(load_checkpoint, seeds=[55, 5555, 555555])
    ### END HIDDEN TESTS
    print("✓ load_checkpoint")
    """),
    md("""
    ## The whole trip: save today, decide tomorrow

    The office saves the model once; tomorrow, on whatever machine is at hand, the courier
    loads it and asks about the 7-mile order (a batch of one).
    """),
    code("""
    path = os.path.join(tempfile.mkdtemp(), "courier_checkpoint.pt")   # a scratch folder
    save_checkpoint(courier, path)
    print("saved:", sorted(torch.load(path, weights_only=True)))

    device = pick_device()
    tomorrow = load_checkpoint(path, build_courier, device)
    minutes_for_7 = predict_on_device(tomorrow, torch.tensor([[7.0]]), device).item()
    verdict = "take it" if minutes_for_7 <= 30 else "decline it: the promise would be broken"
    print(f"on {device}: 7 miles takes about {minutes_for_7:.1f} minutes, {verdict}")
    """),
    md("""
    ## What you have built

    - every tensor, and so every model, lives on a device; model and data must share one;
    - pick the device in order: cuda, then mps, then cpu, asking each time;
    - a batch moves item by item, nested containers too, keeping its structure and dtypes;
    - predict in eval mode under `torch.no_grad()`, and bring the answers back with `.cpu()`;
    - a checkpoint is the `state_dict` alone; it loads into a fresh model with
      `map_location`, which is then put on the device and in eval mode;
    - one order is a batch of one: shape `[1, 1]`.

    The courier's model now runs on a GPU server, a MacBook or a plain laptop, and survives a
    restart without training again.
    """),
]
