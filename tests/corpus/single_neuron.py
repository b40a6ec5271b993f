"""Wrong (and right-but-different) submissions of 03_single_neuron."""

from tests.corpus import right, wrong

_LOOP = """
    def train_model(model, X, y, lr=0.01, epochs=500):
        loss_fn = nn.MSELoss()
        optimizer = {optimizer}
        losses = []
        for epoch in range({epochs}):
            {zero}
            pred = model(X){squeeze}
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            losses.append({record})
        return losses
    """


def _loop(optimizer: str = "optim.SGD(model.parameters(), lr=lr)", epochs: str = "epochs",
          zero: str = "optimizer.zero_grad()", squeeze: str = "", record: str = "loss.item()") -> str:
    """The reference loop with one piece changed."""
    return _LOOP.format(optimizer=optimizer, epochs=epochs, zero=zero, squeeze=squeeze, record=record)


SUBMISSIONS = [
    # build_model -------------------------------------------------------------------------
    wrong("build_model_hardcoded", "build_model", """
        def build_model():
            model = nn.Sequential(nn.Linear(1, 1))
            with torch.no_grad():
                model[0].weight.fill_(5.1)
                model[0].bias.fill_(11.1)
            return model
        """, why="mistake 7: weights set to the notebook's least-squares line"),
    wrong("build_model_class", "build_model", """
        class Neuron(nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = nn.Linear(1, 1)

            def forward(self, x):
                return self.linear(x)

        def build_model():
            return Neuron()
        """, why="the contract names nn.Sequential(nn.Linear(1, 1)): state_dict keys '0.weight', '0.bias'"),
    # train_model -------------------------------------------------------------------------
    wrong("train_no_zero_grad", "train_model", _loop(zero="pass"),
          why="mistake 1: gradients pile up"),
    wrong("train_adam", "train_model", _loop(optimizer="optim.Adam(model.parameters(), lr=lr)"),
          why="Adam instead of SGD"),
    wrong("train_fixed_lr", "train_model", _loop(optimizer="optim.SGD(model.parameters(), lr=0.01)"),
          why="mistake 8: lr ignored"),
    wrong("train_fixed_epochs", "train_model", _loop(epochs="500"),
          why="mistake 8: epochs ignored"),
    wrong("train_tensor_losses", "train_model", _loop(record="loss"),
          why="mistake 9: losses kept as tensors holding the graph"),
    wrong("train_flat_pred", "train_model", _loop(squeeze=".squeeze()"),
          why="mistake 5: [N] predictions against [N, 1] targets broadcast to [N, N]"),
    wrong("train_reseeds", "train_model", """
        def train_model(model, X, y, lr=0.01, epochs=500):
            torch.manual_seed(0)
            loss_fn = nn.MSELoss()
            optimizer = optim.SGD(model.parameters(), lr=lr)
            losses = []
            for epoch in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """, why="a reseed inside train_model"),
    # predict_minutes ---------------------------------------------------------------------
    wrong("predict_with_grad", "predict_minutes", """
        def predict_minutes(model, miles):
            model.eval()
            return model(torch.tensor([[float(miles)]])).item()
        """, why="mistake 3: autograd on during inference"),
    wrong("predict_train_mode", "predict_minutes", """
        def predict_minutes(model, miles):
            with torch.no_grad():
                return model(torch.tensor([[float(miles)]])).item()
        """, why="mistakes 3 and 4: no model.eval(); dropout changes the answer"),
    wrong("predict_int64", "predict_minutes", """
        def predict_minutes(model, miles):
            model.eval()
            with torch.no_grad():
                return model(torch.tensor([[miles]])).item()
        """, why="mistake 6: a whole-number distance makes an int64 tensor"),
    # take_order --------------------------------------------------------------------------
    wrong("take_order_fixed_promise", "take_order", """
        def take_order(model, miles, promise=30.0):
            return predict_minutes(model, miles) <= 30
        """, why="mistake 8: the promise argument ignored"),
    wrong("take_order_strict", "take_order", """
        def take_order(model, miles, promise=30.0):
            return predict_minutes(model, miles) < promise
        """, why="exactly the promised time keeps the promise"),
    # build_nonlinear_model ---------------------------------------------------------------
    wrong("nonlinear_no_relu", "build_nonlinear_model", """
        def build_nonlinear_model(hidden=16):
            return nn.Sequential(nn.Linear(1, hidden), nn.Linear(hidden, 1))
        """, why="two linear layers are still one straight line"),
    wrong("nonlinear_fixed_hidden", "build_nonlinear_model", """
        def build_nonlinear_model(hidden=16):
            return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
        """, why="mistake 8: hidden ignored"),
    wrong("build_model_double", "build_model", """
        def build_model():
            return nn.Sequential(nn.Linear(1, 1)).double()
        """, why="float64 parameters: the data and every later model are float32"),
    wrong("train_momentum", "train_model", _loop(optimizer="optim.SGD(model.parameters(), lr=lr, momentum=0.9)"),
          why="SGD with momentum is not the plain SGD the exercise asks for"),
    wrong("train_loss_after_step", "train_model", """
        def train_model(model, X, y, lr=0.01, epochs=500):
            loss_fn = nn.MSELoss()
            optimizer = optim.SGD(model.parameters(), lr=lr)
            losses = []
            for epoch in range(epochs):
                optimizer.zero_grad()
                loss_fn(model(X), y).backward()
                optimizer.step()
                with torch.no_grad():
                    losses.append(loss_fn(model(X), y).item())
            return losses
        """, why="each loss recorded after its step, not before"),
    wrong("predict_broken", "predict_minutes", """
        def predict_minutes(model, miles):
            raise ValueError("not written yet")
        """, why="one mistake, one cell: take_order calls predict_minutes but gets a stand-in, and keeps its point"),
    wrong("take_order_wrong_question", "take_order", """
        def take_order(model, miles, promise=30.0):
            return predict_minutes(model, 7) <= promise
        """, why="asks about the 7-mile order whatever the distance"),
    wrong("nonlinear_relu_at_the_end", "build_nonlinear_model", """
        def build_nonlinear_model(hidden=16):
            return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.ReLU())
        """, why="a ReLU after the output layer cuts off every negative output"),
    wrong("nonlinear_dead_start", "build_nonlinear_model", """
        def build_nonlinear_model(hidden=16):
            model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            with torch.no_grad():
                model[0].bias.fill_(-100.0)
            return model
        """, why="every hidden unit starts switched off for every distance: training cannot move it"),
    wrong("nonlinear_own_init", "build_nonlinear_model", """
        def build_nonlinear_model(hidden=16):
            model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            nn.init.xavier_uniform_(model[0].weight)
            return model
        """, why="a start of its own: the notebook asks for nn.Linear's own random start"),
    # right answers in other styles -------------------------------------------------------
    right("other_style", {
        "build_model": """
            def build_model():
                return nn.Sequential(nn.Linear(in_features=1, out_features=1, bias=True))
            """,
        "train_model": """
            import torch.nn.functional as F

            def train_model(model, X, y, lr=0.01, epochs=500):
                sgd = torch.optim.SGD(model.parameters(), lr)
                history = []
                epoch = 0
                while epoch < epochs:
                    pred = model(X)
                    loss = F.mse_loss(pred, y)
                    for p in model.parameters():   # zeroing by hand, after the forward pass
                        p.grad = None
                    loss.backward()
                    sgd.step()
                    history.append(float(loss.detach()))
                    epoch += 1
                return history
            """,
        "predict_minutes": """
            import sys

            def predict_minutes(model, miles):
                print("warning: predicting", miles, file=sys.stderr)
                model.train(False)
                with torch.inference_mode():
                    out = model(torch.as_tensor(miles, dtype=torch.float32).reshape(1, 1))
                model.train()
                return float(out[0, 0])
            """,
        "take_order": """
            def take_order(model, miles, promise=30.0):
                model.eval()
                with torch.no_grad():
                    minutes = model(torch.full((1, 1), float(miles)))
                return bool(minutes.item() <= promise)
            """,
        "build_nonlinear_model": """
            class BendyLine(nn.Module):
                def __init__(self, hidden):
                    super().__init__()
                    self.hidden = nn.Linear(1, hidden)
                    self.out = nn.Linear(hidden, 1)

                def forward(self, x):
                    return self.out(torch.relu(self.hidden(x)))

            def build_nonlinear_model(hidden=16):
                return BendyLine(hidden)
            """,
    }, why="a class instead of Sequential, grad = None after the forward pass, F.mse_loss, "
           "inference_mode, a warning on stderr"),
    right("other_order", {
        "train_model": """
            from torch import optim as o

            def train_model(model, X, y, lr=0.01, epochs=500):
                criterion = nn.MSELoss()
                opt = o.SGD(params=model.parameters(), lr=lr)
                out = []
                for _ in range(epochs):
                    loss = criterion(model(X), y)
                    opt.zero_grad(set_to_none=False)
                    loss.backward()
                    opt.step()
                    out.append(loss.item())
                return out
            """,
        "predict_minutes": """
            def predict_minutes(model, miles):
                model.eval()
                x = torch.tensor([float(miles)]).unsqueeze(0)
                with torch.no_grad():
                    return model(x).squeeze().item()
            """,
        "take_order": """
            def take_order(model, miles, promise=30.0):
                late = predict_minutes(model, miles) > promise
                return not late
            """,
    }, why="zero_grad after the forward pass, grads zeroed in place, other names"),
    right("other_readings", {
        "train_model": """
            def train_model(model, X, y, lr=0.01, epochs=500):
                loss_fn = nn.MSELoss()
                optimizer = optim.SGD(model.parameters(), lr=lr)
                model.train()
                losses = []
                for _ in range(epochs):
                    order = torch.randperm(len(X))          # shuffles the full batch: same loss, same gradient
                    pred = model(X[order])
                    loss = loss_fn(pred, y[order])
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad()                   # cleared after the step: still before the next backward
                    losses.append(loss.item())
                return losses
            """,
        "predict_minutes": """
            def predict_minutes(model, miles):
                model.eval()                                # left in eval mode afterwards
                x = torch.tensor([[miles]], dtype=torch.float32)
                with torch.no_grad():
                    minutes = model(x)
                return float(minutes.item())
            """,
        "take_order": """
            def take_order(model, miles, promise=30.0):
                minutes = predict_minutes(model=model, miles=float(miles))
                if minutes <= promise:
                    return True
                return False
            """,
        "build_nonlinear_model": """
            import torch.nn.functional as F

            class OutputFirst(nn.Module):
                def __init__(self, hidden):
                    super().__init__()
                    self.output = nn.Linear(hidden, 1)      # made first: another random start, just as right
                    self.hidden = nn.Linear(1, hidden)

                def forward(self, x):
                    return self.output(F.relu(self.hidden(x)))

            def build_nonlinear_model(hidden=16):
                return OutputFirst(hidden)
            """,
    }, why="random numbers drawn in the loop (no reseed), zero_grad after the step, keyword arguments and a "
           "float distance passed to predict_minutes, eval mode left on, the output layer made first"),
    right("sequential_variants", {
        "build_model": """
            from collections import OrderedDict

            def build_model():
                return nn.Sequential(OrderedDict([("neuron", nn.Linear(1, 1))]))
            """,
        "train_model": """
            def train_model(model, X, y, lr=0.01, epochs=500):
                optimizer = optim.SGD(model.parameters(), lr=lr)
                losses = []
                for epoch in range(epochs):
                    loss = nn.MSELoss()(model(X), y)
                    model.zero_grad()
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.detach().item())
                return losses
            """,
        "build_nonlinear_model": """
            def build_nonlinear_model(hidden=16):
                layers = [nn.Linear(1, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1)]
                return nn.Sequential(*layers)
            """,
    }, why="a Sequential whose layer has a name, model.zero_grad() after the forward pass, an in-place ReLU"),
]
