"""03_single_neuron: one neuron learns the courier's delivery times, and meets its limit."""

from authoring.cells import code, grade, md, setup, solution_from
from autograder.reference import single_neuron as ref

CELLS = [
    md("""
    # 03 · One neuron: should the courier take the 7-mile order?

    The courier promises **30-minute deliveries**. A customer 7 miles away is waiting for an
    answer. In the last notebooks you shaped the past deliveries as tensors and computed
    gradients by hand; now PyTorch does the bookkeeping and a single neuron learns how long a
    delivery takes.

    You will write five functions:

    1. `build_model`: one neuron, `nn.Sequential(nn.Linear(1, 1))`;
    2. `train_model`: the five-step training loop with a loss and an optimizer;
    3. `predict_minutes`: ask the trained model about one distance;
    4. `take_order`: turn the prediction into a yes or a no;
    5. `build_nonlinear_model`: a small network for data that one neuron cannot fit.

    After each exercise a test cell checks your function; it ends with a ✓ line when all is
    well. The grader runs more tests on data you have not seen, so write general code. Each
    test uses only the function of its own exercise, so a mistake costs that exercise alone.
    None of your functions should call `torch.manual_seed` or change another of torch's global
    settings: the tests check that each leaves them as it found them.
    """),
    setup("setup_imports", """
    import torch
    from torch import nn, optim
    import matplotlib.pyplot as plt

    from coursekit.data.delivery import bike_a, least_squares_line
    from coursekit.demos.single_neuron import line_model
    """),
    md("""
    ## The data

    Four past deliveries by bike, as `[N, 1]` float32 tensors: one row per delivery, one
    column for the distance (**miles**) and one for the time (**minutes**).
    """),
    setup("setup_data", """
    X, y = bike_a()
    print("miles:  ", X.flatten().tolist())
    print("minutes:", y.flatten().tolist())
    """),
    code("""
    plt.figure(figsize=(5, 3.5))
    plt.scatter(X, y, label="past deliveries")
    plt.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    plt.axvline(7, color="tab:red", linestyle=":", label="the new 7-mile order")
    plt.xlabel("distance (miles)")
    plt.ylabel("delivery time (minutes)")
    plt.legend()
    plt.show()
    """),
    md("""
    ## One neuron is a straight line

    A neuron with one input computes `time = w * miles + b`. The weight `w` is the minutes each
    mile adds; the bias `b` is the time spent before the first mile (picking up the food).
    `nn.Linear(1, 1)` holds exactly these two numbers, starting from small random values.
    Wrapping it in `nn.Sequential` costs nothing now and lets you stack more layers later.

    ### Exercise 1: `build_model`

    Write `build_model()` returning a new `nn.Sequential(nn.Linear(1, 1))` at each call.
    Leave the layer as PyTorch makes it: its bias, float32 weights that require gradients,
    and its own random start (no values set by hand): training will find the right values.
    The test calls your function right after `torch.manual_seed(...)` and compares the start
    with the one `nn.Linear(1, 1)` draws.
    """),
    solution_from(ref.build_model),
    grade("test_build_model", 1, """
    from coursekit.checks import single_neuron as check

    torch.manual_seed(0)
    print(build_model())
    check.build_model(build_model)
    ### BEGIN HIDDEN TESTS
    check.build_model_hidden(build_model, seeds=[3, 1234, 98765])
    ### END HIDDEN TESTS
    print("✓ build_model")
    """),
    md("""
    ## Learning: a loss, an optimizer, and a loop of five steps

    - The **loss** says how wrong the line is: `nn.MSELoss()` averages the squared differences
      between predicted and true minutes.
    - The **optimizer** changes the weights to make the loss smaller:
      `optim.SGD(model.parameters(), lr=lr)` moves each parameter a small step (`lr`, the
      learning rate) against its gradient.

    Each **epoch** runs five steps on the whole batch:

    1. `optimizer.zero_grad()`: forget the previous gradients (PyTorch *adds* new gradients to
       old ones, so without this they pile up);
    2. forward: `pred = model(X)`;
    3. loss: `loss = loss_fn(pred, y)`, with `pred` and `y` both `[N, 1]`;
    4. backward: `loss.backward()` fills each parameter's `.grad`;
    5. `optimizer.step()`: update the parameters.

    Step 1 may come anywhere before `loss.backward()`: what matters is that the gradients are
    cleared before each backward pass adds new ones.

    The loss is a tensor attached to the whole computation graph. To keep a history of the
    losses, store `loss.item()`, a plain Python float.

    ### Exercise 2: `train_model`

    Write `train_model(model, X, y, lr=0.01, epochs=500)`: create the loss and a plain SGD
    optimizer over `model.parameters()` with the learning rate `lr` (no momentum or other
    options), run `epochs` epochs of the five steps on the whole batch, and return the list of
    the epochs' losses as Python floats, each taken before that epoch's step. Train the model
    you are given, use the `lr` and `epochs` you are given, and do not call `torch.manual_seed`:
    the model arrives already built.
    """),
    solution_from(ref.train_model),
    grade("test_train_model", 4, """
    from coursekit.checks import single_neuron as check

    # The tests give your function their own one-neuron models, so that a mistake in build_model
    # costs that exercise only, and compare your losses and weights with the reference loop's.
    check.train_model(train_model, X, y, lr=0.005, epochs=30, seed=1)
    check.train_model_defaults(train_model, X, y)                 # the defaults: lr=0.01, 500 epochs
    ### BEGIN HIDDEN TESTS
    check.train_model_hidden(train_model, seeds=[21, 4321, 777])
    ### END HIDDEN TESTS
    print("✓ train_model")
    """),
    md("""
    ## Watch it learn

    Train a fresh neuron on the four deliveries. With the defaults (`lr=0.01`, 500 epochs)
    the neuron gets close to the best line but not all the way: the bias learns slowly,
    because the distances are far from 0. Bigger steps get there sooner: `lr=0.04` takes
    steps four times as long, and 250 epochs bring it as close as 1000 at the default rate.
    Do not push further: on these distances any rate above about 0.046 makes each step
    overshoot more than the last, and the loss explodes.
    """),
    code("""
    torch.manual_seed(0)
    model = build_model()
    losses = train_model(model, X, y, lr=0.04, epochs=250)
    w, b = model[0].weight.item(), model[0].bias.item()
    w_ls, b_ls = least_squares_line(X, y)
    first_below_20 = next(i for i, loss in enumerate(losses) if loss < 20)
    print(f"after {len(losses)} epochs: loss {losses[0]:.1f} -> {losses[-1]:.3f}")
    print(f"first loss below 20: losses[{first_below_20}], the loss of epoch {first_below_20 + 1}")
    print(f"learned line:       {w:.3f} * miles + {b:.3f}")
    print(f"best line (exact):  {w_ls:.3f} * miles + {b_ls:.3f}")
    """),
    code("""
    plt.figure(figsize=(5, 3))
    plt.plot(losses)
    plt.ylim(0, 25)
    plt.xlabel("epoch")
    plt.ylabel("MSE loss")
    plt.title("The loss falls")
    plt.show()
    """),
    md("""
    The loss starts near 1094, far off the top of the chart. It drops fast while the line
    tilts into place: the loss of epoch 11 (`losses[10]`) is the first below 20. Then it
    falls slowly, as the bias creeps towards the pick-up time. The learned line,
    `5.117 * miles + 11.010`, is close to the best straight line through the four points,
    computed exactly by least squares: `5.1 * miles + 11.1`. The loss can never go below 2.7,
    the error of that best line itself: no straight line passes through all four points.
    """),
    md("""
    ## Asking the model about one order

    A model takes a **batch**, even for one question: the distance 7 becomes a `[1, 1]`
    tensor, `torch.tensor([[7.0]])`. Two more habits for predicting:

    - `model.eval()` switches layers that behave differently in training (dropout, batch
      norm) to their prediction behaviour. A single `nn.Linear` has none, but the habit costs
      nothing and saves you later;
    - `with torch.no_grad():` tells autograd not to record a graph nobody will use.

    The answer is a `[1, 1]` tensor; `.item()` turns it into a float.

    ### Exercise 3: `predict_minutes`

    Write `predict_minutes(model, miles)` returning the predicted minutes for one distance as
    a Python float. `miles` may be a float or a whole number such as `7`: build a float32
    batch of shape `[1, 1]`. Run the forward pass in eval mode and under `torch.no_grad()`
    (leaving the model in eval mode afterwards is fine).
    """),
    solution_from(ref.predict_minutes),
    grade("test_predict_minutes", 2, """
    from coursekit.checks import single_neuron as check

    best_line = line_model(5.1, 11.1)      # the least-squares line, set by hand
    check.predict_minutes(predict_minutes, best_line, 7)
    check.predict_minutes(predict_minutes, best_line, 2.5)
    print("the best line, 7 miles:", predict_minutes(best_line, 7), "minutes")
    ### BEGIN HIDDEN TESTS
    check.predict_minutes_hidden(predict_minutes, seeds=[8, 808, 80808])
    ### END HIDDEN TESTS
    print("✓ predict_minutes")
    """),
    code("""
    print(f"your trained neuron: 7 miles take {predict_minutes(model, 7):.1f} minutes")
    """),
    md("""
    ## The decision

    The best line predicts **46.8 minutes** for 7 miles: far beyond the promise.

    ### Exercise 4: `take_order`

    Write `take_order(model, miles, promise=30.0)`: `True` when the predicted time is within
    the promise (a prediction of exactly the promised time keeps it), `False` otherwise, as a
    Python bool. Use the `promise` you are given: another courier may promise 45 minutes. You
    may call your `predict_minutes(model, miles)`; while the test runs, it swaps in a stand-in
    that answers the test's own prediction, so a mistake in `predict_minutes` costs only
    Exercise 3.
    """),
    solution_from(ref.take_order),
    grade("test_take_order", 1, """
    from coursekit.checks import single_neuron as check

    best_line = line_model(5.1, 11.1)
    check.take_order(take_order, best_line, 7)                    # 46.8 minutes: no
    check.take_order(take_order, best_line, 3)                    # 26.4 minutes: yes
    check.take_order(take_order, best_line, 7, promise=50.0)      # a generous promise: yes
    ### BEGIN HIDDEN TESTS
    check.take_order_hidden(take_order, seeds=[5, 55, 555, 5555])
    ### END HIDDEN TESTS
    print("✓ take_order")
    """),
    code("""
    answer = "take it" if take_order(model, 7) else "turn it down"
    print(f"7-mile order, 30-minute promise: {answer}")
    """),
    md("""
    ## When one line is not enough

    Business grows and the courier buys a car. Short trips still go by bike (quick to start,
    6 minutes a mile); long trips go by car (about 17 minutes to walk to it and park, then only
    1.5 minutes a mile). The course generates such a mixed data set. Time against distance
    now rises steeply, then bends and flattens where the vehicle changes.
    """),
    setup("setup_mixed", """
    from coursekit.data.mixed import by_car, course_mixed, typical_minutes

    X_mixed, y_mixed = course_mixed()
    print(X_mixed.shape, y_mixed.shape)


    def mse_on_mixed(model):
        \"\"\"The model's mean squared error on the mixed deliveries.\"\"\"
        with torch.no_grad():
            return nn.functional.mse_loss(model(X_mixed), y_mixed).item()
    """),
    md("""
    No straight line follows a bend. The best one any single neuron can reach is the
    least-squares line, computed exactly below: training a neuron longer would only bring it
    closer to this line, so from here on the line stands for one neuron, and its error is the
    floor for one neuron.
    """),
    code("""
    w_best, b_best = least_squares_line(X_mixed, y_mixed)
    neuron = line_model(w_best, b_best)      # the best any single neuron can do
    print(f"best possible straight line: {w_best:.2f} * miles + {b_best:.2f}, MSE {mse_on_mixed(neuron):.2f}")

    car = by_car(X_mixed).flatten()
    plt.figure(figsize=(5, 3.5))
    plt.scatter(X_mixed[~car], y_mixed[~car], s=15, label="bike")
    plt.scatter(X_mixed[car], y_mixed[car], s=15, marker="s", label="car")
    plt.plot([0, 12.5], [b_best, w_best * 12.5 + b_best], color="tab:orange", label="best straight line")
    plt.xlabel("distance (miles)")
    plt.ylabel("minutes")
    plt.legend()
    plt.show()
    """),
    md("""
    ## A line that can bend

    Put a layer of `hidden` neurons between the input and the output, and pass their outputs
    through a **ReLU**, `max(0, z)`. Each hidden neuron is a line folded flat at one point; the
    output neuron adds them up into a line with bends. Without the ReLU, two linear layers
    collapse into one straight line again.

    ### Exercise 5: `build_nonlinear_model`

    Write `build_nonlinear_model(hidden=16)` returning a new model at each call that computes
    `Linear(1, hidden) → ReLU → Linear(hidden, 1)`, with `hidden` units in the middle, nothing
    after the last layer and no other weights. An `nn.Sequential` or your own `nn.Module` class
    both work.
    As in Exercise 1, leave the layers as PyTorch makes them: with their biases, in float32,
    from their own random start (no values set by hand).

    The test first loads weights of its own into your two layers and checks what the model
    computes. Then it trains your network, from the start your function gives it, on fresh
    mixed data, and expects its error to end under half the best straight line's. It trains
    with a faster recipe than plain SGD: the output layer is solved exactly (with the hidden
    layer fixed, it is a least-squares line over the hidden units' outputs), then 40 epochs of
    the five-step loop with `optim.Adam` move the bends, and the output layer is solved again
    after every 10 of those epochs. A start with no bend inside the data can stay a line, so
    the test tries up to three starts.
    """),
    solution_from(ref.build_nonlinear_model),
    grade("test_build_nonlinear_model", 2, """
    from coursekit.checks import single_neuron as check

    print(build_nonlinear_model(4))
    check.nonlinear_structure(build_nonlinear_model, 4)
    check.build_nonlinear_model(build_nonlinear_model, X_mixed, y_mixed)     # hidden=16, trained
    ### BEGIN HIDDEN TESTS
    check.build_nonlinear_model_hidden(build_nonlinear_model, seeds=[31])
    ### END HIDDEN TESTS
    print("✓ build_nonlinear_model")
    """),
    md("""
    ## Your loop trains the network too

    Nothing in `train_model` is specific to one neuron: the five steps work for any model.
    Plain SGD needs a smaller rate here (the trips reach 12 miles, and the network's layers
    multiply their steps) and many more epochs, a few thousand, which still takes only a
    second or so. The dashed line is the floor of one neuron.
    """),
    code("""
    torch.manual_seed(0)
    network = build_nonlinear_model()
    network_losses = train_model(network, X_mixed, y_mixed, lr=0.003, epochs=3000)
    print(f"one neuron: MSE {mse_on_mixed(neuron):.2f}    ReLU network: MSE {mse_on_mixed(network):.2f}")

    plt.figure(figsize=(5, 3))
    plt.plot(network_losses, color="tab:green", label="ReLU network")
    plt.axhline(mse_on_mixed(neuron), color="tab:orange", linestyle="--", label="best straight line")
    plt.yscale("log")
    plt.xlabel("epoch")
    plt.ylabel("MSE loss")
    plt.legend()
    plt.show()
    """),
    md("""
    The network's loss passes the straight line's floor after a few hundred epochs and ends
    about ten times below it. (If yours stays near the dashed line, its random start had no
    bend inside the data: try another seed.)
    """),
    md("""
    ## Both models on the mixed data

    The two models drawn over the deliveries: one straight line against a line with bends.
    """),
    code("""
    span = torch.linspace(0, 12.5, 200).reshape(-1, 1)
    plt.figure(figsize=(5, 3.5))
    with torch.no_grad():
        plt.plot(span, neuron(span), color="tab:orange", label="one neuron")
        plt.plot(span, network(span), color="tab:green", label="ReLU network")
    plt.scatter(X_mixed, y_mixed, color="tab:blue", s=15, label="deliveries")
    plt.axhline(30, color="gray", linestyle="--", label="30-minute promise")
    plt.xlabel("distance (miles)")
    plt.ylabel("minutes")
    plt.legend()
    plt.show()
    """),
    md("""
    How far off is each model? Compare their answers with the typical time of a trip (bike
    below 3 miles, car from 3 miles on). The straight line is minutes wrong at both ends and
    at the bend; the network follows the courier's two vehicles. Both agree on the 7-mile
    order: by car it typically takes 27.5 minutes, within the promise.
    """),
    code("""
    for miles in (1.5, 3.0, 7.0, 12.0):
        typical = typical_minutes(torch.tensor(miles)).item()
        print(f"{miles:4} miles: typically {typical:4.1f} min | one neuron {predict_minutes(neuron, miles):4.1f} "
              f"| ReLU network {predict_minutes(network, miles):4.1f}")
    print("take the 7-mile order?", take_order(network, 7))
    """),
    md("""
    ## What you have built

    - a model is a module holding parameters: `nn.Linear(1, 1)` is one neuron, a line;
    - training is five steps repeated: zero the gradients, forward, loss, backward, step;
    - predictions take a batch, run in eval mode under `torch.no_grad()`, and `.item()` makes
      them plain numbers;
    - a decision compares the prediction with the promise, the one it is given;
    - when the data bends, one neuron cannot follow; hidden ReLU units can, and the same
      five-step loop trains them.

    By car, the 7-mile order fits the promise after all.

    So far every data set fit in one tensor, and each epoch took one step on all of it. Next,
    in **04 · The training loop**, the courier's log grows to a season of 240 deliveries, each
    with two inputs: its distance and whether it rained. The model is linear again, one weight
    per input and a bias; what grows up is the loop around it. A `Dataset` and `DataLoader`s
    serve the deliveries in shuffled batches, a validation set held aside tells learning from
    memorising, and your five steps become the training loop that nearly every PyTorch
    project uses.
    """),
]
