"""A small bundled class, right and wrong, for the main job and for demos.

Each student is a list of edits to the instructor's notebooks (see
``autograder.submissions``), so the class stays in step with the notebooks:

- ada answers everything as the answer key does;
- ben makes a classic beginner's mistake in each assignment;
- cleo answers correctly in her own style (and prints a warning now and then);
- dev makes other mistakes, and in 03 writes a training loop that never ends;
- eve hands in a file that is not a notebook.

``BROKEN`` holds the files that are not notebooks at all: grading must report
them and go on with everyone else.
"""

from __future__ import annotations

from autograder.submissions import Submission, right, wrong

#: assignment -> the class's submissions of it.
STUDENTS: dict[str, list[Submission]] = {
    "01_tensors": [
        Submission("ada", {}),
        wrong("ben", "to_batch", """
            def to_batch(values):
                return torch.tensor(values).reshape(-1, 1)
            """, why="int64 where float32 is asked for"),
        right("cleo", {"mse": """
            def mse(pred, target):
                if pred.shape != target.shape:
                    raise ValueError(f"{pred.shape} vs {target.shape}")
                return (pred - target).pow(2).mean()
            """}),
        wrong("dev", "mse", """
            def mse(pred, target):
                return ((pred - target) ** 2).mean()
            """, why="no guard against [N] vs [N, 1]"),
    ],
    "02_autograd": [
        Submission("ada", {}),
        wrong("ben", "gradient_step", """
            def gradient_step(W, b, X, y, lr):
                loss = ((X @ W + b - y) ** 2).mean()
                loss.backward()
                with torch.no_grad():
                    W -= lr * W.grad
                    b -= lr * b.grad
                return loss.item()
            """, why="gradients never zeroed"),
        right("cleo", {"derivative": """
            def derivative(f, x):
                x = torch.tensor(x, dtype=torch.float32, requires_grad=True)
                (slope,) = torch.autograd.grad(f(x), x)
                return float(slope)
            """}),
        wrong("dev", "train_manual", """
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
                    W.grad = None
                    b.grad = None
                    losses.append(loss.item())
                return W, b, losses
            """, why="the seed is ignored"),
    ],
    "03_single_neuron": [
        Submission("ada", {}),
        wrong("ben", "train_model", """
            def train_model(model, X, y, lr=0.01, epochs=500):
                loss_fn = nn.MSELoss()
                optimizer = optim.SGD(model.parameters(), lr=lr)
                losses = []
                for epoch in range(epochs):
                    loss = loss_fn(model(X), y)
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
                return losses
            """, why="zero_grad forgotten: gradients pile up"),
        right("cleo", {"train_model": """
            import warnings
            def train_model(model, X, y, lr=0.01, epochs=500):
                warnings.warn("cleo's loop is about to run", UserWarning)
                optimizer = optim.SGD(model.parameters(), lr=lr)
                losses = []
                for _ in range(epochs):
                    loss = nn.functional.mse_loss(model(X), y)
                    for p in model.parameters():
                        p.grad = None
                    loss.backward()
                    optimizer.step()
                    losses.append(float(loss.detach()))
                return losses
            """}),
        wrong("dev", "predict_minutes", """
            def predict_minutes(model, miles):
                while True:
                    pass
            """, why="an endless loop: the cell times out, the rest is graded"),
    ],
    "04_training_loop": [
        Submission("ada", {}),
        wrong("ben", "evaluate", """
            def evaluate(model, loader, loss_fn, device):
                total = 0.0
                with torch.no_grad():
                    for X_batch, y_batch in loader:
                        total += loss_fn(model(X_batch.to(device)), y_batch.to(device)).item()
                return total / len(loader)
            """, why="no model.eval(): dropout stays on during evaluation"),
        right("cleo", {"fit": """
            def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
                history = {"train": [], "val": []}
                for _ in range(epochs):
                    history["train"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
                    history["val"].append(evaluate(model, val_loader, loss_fn, device))
                return history["train"], history["val"]
            """}),
        wrong("dev", "make_loaders", """
            def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
                dataset = DeliveryDataset(X, y)
                n_val = round(len(dataset) * val_fraction)
                train_loader = DataLoader(Subset(dataset, range(len(dataset))), batch_size=batch_size, shuffle=True)
                val_loader = DataLoader(Subset(dataset, range(n_val)), batch_size=batch_size)
                return train_loader, val_loader
            """, why="the validation samples are also in the training set"),
    ],
    "05_devices_checkpoints": [
        Submission("ada", {}),
        wrong("ben", "save_checkpoint", """
            def save_checkpoint(model, path):
                torch.save(model, path)
            """, why="the whole model pickled instead of its state_dict"),
        right("cleo", {"pick_device": """
            def pick_device():
                for name, available in (("cuda", torch.cuda.is_available), ("mps", torch.backends.mps.is_available)):
                    if available():
                        return torch.device(name)
                return torch.device("cpu")
            """}),
        wrong("dev", "predict_on_device", """
            def predict_on_device(model, X, device):
                model.to(device)
                model.eval()
                with torch.no_grad():
                    return model(X).cpu()
            """, why="the model moved but not the batch"),
    ],
    "06_resume": [
        Submission("ada", {}),
        wrong("ben", "save_training_state", """
            def save_training_state(path, model, optimizer, epoch, generator):
                torch.save({"model": model.state_dict(), "epoch": epoch, "generator": generator.get_state()}, path)
            """, why="the optimizer's state left out: the momentum restarts from zero on resume"),
        right("cleo", {"train_with_resume": """
            def train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed=0, batch_size=16,
                                  device="cpu"):
                generator = torch.Generator()
                generator.manual_seed(seed)
                loader = DataLoader(dataset, batch_size, shuffle=True, generator=generator)
                model.to(device)
                try:
                    done = load_training_state(path, model, optimizer, generator, device)
                except FileNotFoundError:
                    done = 0
                losses = []
                while done < epochs:
                    model.train()
                    batch_losses = []
                    for features, hours in loader:
                        optimizer.zero_grad()
                        loss = loss_fn(model(features.to(device)), hours.to(device))
                        loss.backward()
                        optimizer.step()
                        batch_losses.append(loss.item())
                    losses.append(sum(batch_losses) / len(batch_losses))
                    done += 1
                    save_training_state(path, model, optimizer, done, generator)
                return losses
            """}),
        wrong("dev", "train_with_resume", """
            def train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed=0, batch_size=16,
                                  device="cpu"):
                generator = torch.Generator().manual_seed(seed)
                loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
                model.to(device)
                if os.path.exists(path):
                    load_training_state(path, model, optimizer, generator, device)
                losses = []
                for epoch in range(epochs):
                    model.train()
                    total = 0.0
                    for X_batch, y_batch in loader:
                        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
                        loss = loss_fn(model(X_batch), y_batch)
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                        total += loss.item()
                    losses.append(total / len(loader))
                    save_training_state(path, model, optimizer, epoch + 1, generator)
                return losses
            """, why="the epoch counter restarted: a resumed run trains every epoch again"),
    ],
}

#: student -> (assignment, file content) of a submission that is not a valid notebook.
BROKEN: dict[str, tuple[str, str]] = {
    "eve": ("01_tensors", '{"cells": [ this is not JSON'),
}
