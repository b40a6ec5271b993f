"""Wrong (and right-but-different) submissions of 05_devices_checkpoints.

``tests/test_checks_devices.py`` runs each wrong one against its hidden check and
reads the failure message, so that every mistake fails for its own reason.
"""

from tests.corpus import right, wrong

SUBMISSIONS = [
    # mistake 10: a device picked in the wrong order, or cuda never considered
    wrong("pick_device_mps_first", "pick_device", """
        def pick_device():
            if torch.backends.mps.is_available():
                return torch.device("mps")
            if torch.cuda.is_available():
                return torch.device("cuda")
            return torch.device("cpu")
        """, why="mistake 10: mps tested before cuda"),
    wrong("pick_device_no_cuda", "pick_device", """
        def pick_device():
            return torch.device("mps" if torch.backends.mps.is_available() else "cpu")
        """, why="mistake 10: cuda never considered"),
    wrong("pick_device_no_call", "pick_device", """
        def pick_device():
            if torch.cuda.is_available:
                return torch.device("cuda")
            if torch.backends.mps.is_available:
                return torch.device("mps")
            return torch.device("cpu")
        """, why="mistake 10: is_available without (), always true"),
    # mistake 7: the answer of the machine the notebook ran on, frozen
    wrong("pick_device_frozen", "pick_device", """
        _here = torch.device("cuda" if torch.cuda.is_available() else "cpu")

        def pick_device():
            return _here
        """, why="mistake 7: decided once, when the cell ran"),
    # mistake 12: nested batches left behind
    wrong("to_device_top_level_only", "to_device", """
        def to_device(batch, device):
            if isinstance(batch, torch.Tensor):
                return batch.to(device)
            if isinstance(batch, dict):
                return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            return type(batch)(x.to(device) if isinstance(x, torch.Tensor) else x for x in batch)
        """, why="mistake 12: containers inside the batch are returned unmoved"),
    wrong("to_device_tuple_to_list", "to_device", """
        def to_device(batch, device):
            if isinstance(batch, torch.Tensor):
                return batch.to(device)
            if isinstance(batch, dict):
                return {k: to_device(v, device) for k, v in batch.items()}
            return [to_device(x, device) for x in batch]
        """, why="a tuple comes back as a list: not the same structure"),
    # mistake 11: .to() called but its result dropped, so the tensor stays
    wrong("to_device_result_dropped", "to_device", """
        def to_device(batch, device):
            if isinstance(batch, torch.Tensor):
                batch.to(device)
                return batch
            if isinstance(batch, dict):
                return {k: to_device(v, device) for k, v in batch.items()}
            return type(batch)(to_device(x, device) for x in batch)
        """, why="tensor.to(device) returns a copy; the tensor itself does not move"),
    # mistake 11: the model moved but not the batch, and the other way round
    wrong("predict_batch_not_moved", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.to(device)
            model.eval()
            with torch.no_grad():
                return model(X).cpu()
        """, why="mistake 11: the model is moved, the batch is not"),
    wrong("predict_model_not_moved", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.eval()
            with torch.no_grad():
                return model(X.to(device)).cpu()
        """, why="mistake 11: the batch is moved, the model is not"),
    # mistake 3: inference with autograd on, or in training mode
    wrong("predict_autograd_on", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.to(device)
            model.eval()
            return model(X.to(device)).detach().cpu()
        """, why="mistake 3: no torch.no_grad(); .detach() afterwards does not stop the recording"),
    wrong("predict_training_mode", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.to(device)
            with torch.no_grad():
                return model(X.to(device)).cpu()
        """, why="mistake 3: no model.eval(), dropout stays on"),
    wrong("predict_left_on_device", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.to(device)
            model.eval()
            with torch.no_grad():
                return model(X.to(device))
        """, why="the predictions are not brought back to the CPU"),
    # mistake 13: the whole model pickled, or the state_dict wrapped
    wrong("save_whole_model", "save_checkpoint", """
        def save_checkpoint(model, path):
            torch.save(model, path)
        """, why="mistake 13: torch.save(model) pickles the module"),
    wrong("save_wrapped", "save_checkpoint", """
        def save_checkpoint(model, path):
            torch.save({"model_state_dict": model.state_dict(), "epoch": 500}, path)
        """, why="mistake 13: a wrapped dict, not a mapping of parameter names"),
    # mistake 8: the path argument ignored
    wrong("save_ignores_path", "save_checkpoint", """
        def save_checkpoint(model, path):
            torch.save(model.state_dict(), "courier.pt")
        """, why="mistake 8: saved to a fixed name"),
    # mistake 14: no map_location, training mode, a state_dict handed back
    wrong("load_no_map_location", "load_checkpoint", """
        def load_checkpoint(path, build_fn, device):
            model = build_fn()
            model.load_state_dict(torch.load(path, weights_only=True))
            model.to(device)
            model.eval()
            return model
        """, why="mistake 14: a checkpoint written on a GPU does not load here"),
    wrong("load_training_mode", "load_checkpoint", """
        def load_checkpoint(path, build_fn, device):
            model = build_fn()
            model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
            return model.to(device)
        """, why="mistake 14: left in training mode"),
    wrong("load_returns_state_dict", "load_checkpoint", """
        def load_checkpoint(path, build_fn, device):
            return torch.load(path, map_location=device, weights_only=True)
        """, why="mistake 14: a state_dict handed back instead of a model"),
    wrong("load_never_loads", "load_checkpoint", """
        def load_checkpoint(path, build_fn, device):
            torch.load(path, map_location=device, weights_only=True)
            return build_fn().to(device).eval()
        """, why="the loaded weights never reach the model"),
    # mistake 8: the device argument ignored (a CPU answer that passes on a CPU-only machine
    # unless the tests use another device: they use meta)
    wrong("load_ignores_device", "load_checkpoint", """
        def load_checkpoint(path, build_fn, device):
            model = build_fn()
            model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
            model.eval()
            return model
        """, why="mistake 8: map_location=device, but the model itself never put on the device"),
    wrong("predict_ignores_device", "predict_on_device", """
        def predict_on_device(model, X, device):
            model.eval()
            with torch.no_grad():
                return model(X).cpu()
        """, why="mistake 8: everything stays where it was"),
    wrong("to_device_casts_float", "to_device", """
        def to_device(batch, device):
            if isinstance(batch, torch.Tensor):
                return batch.to(device, dtype=torch.float32)
            if isinstance(batch, dict):
                return {k: to_device(v, device) for k, v in batch.items()}
            return type(batch)(to_device(x, device) for x in batch)
        """, why="the int64 hours turned into float32: moving must keep dtypes"),
    wrong("to_device_dict_keys", "to_device", """
        def to_device(batch, device):
            if isinstance(batch, torch.Tensor):
                return batch.to(device)
            return type(batch)(to_device(x, device) for x in batch)
        """, why="iterating over a dict gives its keys, and a string has no .to()"),
    wrong("pick_device_string", "pick_device", """
        def pick_device():
            if torch.cuda.is_available():
                return "cuda"
            if torch.backends.mps.is_available():
                return "mps"
            return "cpu"
        """, why="a string, not a torch.device"),
    right("in_place", {
        "pick_device": """
            def pick_device():
                if torch.cuda.is_available() and torch.cuda.device_count() > 0:
                    return torch.device("cuda", 0)
                if torch.backends.mps.is_available():
                    return torch.device("mps:0")
                return torch.device("cpu")
            """,
        "to_device": """
            def to_device(batch, device):
                if isinstance(batch, torch.Tensor):
                    return batch.to(device)
                if isinstance(batch, dict):
                    for key in batch:
                        batch[key] = to_device(batch[key], device)
                    return batch
                if isinstance(batch, list):
                    for i, item in enumerate(batch):
                        batch[i] = to_device(item, device)
                    return batch
                return tuple(to_device(item, device) for item in batch)
            """,
        "predict_on_device": """
            def predict_on_device(model, X, device):
                model = model.to(device)
                model.train(False)
                X = X.to(device)
                with torch.inference_mode():
                    predictions = model(X)
                print("predicted", predictions.shape[0], "orders on", predictions.device)
                return predictions.to(torch.device("cpu"))
            """,
        "load_checkpoint": """
            def load_checkpoint(path, build_fn, device):
                model = build_fn().to(device)
                model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
                return model.eval()
            """,
    }, why="lists and dicts updated in place, cuda index 0, inference_mode, the model moved before loading"),
    right("other_style_3", {
        "pick_device": """
            def pick_device():
                if torch.accelerator.is_available():
                    return torch.accelerator.current_accelerator()
                return torch.device("cpu")
            """,
        "to_device": """
            def to_device(batch, device):
                if isinstance(batch, dict):
                    return {key: to_device(batch[key], device) for key in sorted(batch)}
                if isinstance(batch, (list, tuple)):
                    return type(batch)(map(lambda item: to_device(item, device), batch))
                return batch.to(device, non_blocking=True)
            """,
        "save_checkpoint": """
            def save_checkpoint(model, path):
                torch.save({name: tensor.cpu() for name, tensor in model.state_dict().items()}, str(path))
            """,
        "load_checkpoint": """
            def load_checkpoint(path, build_fn, device):
                state = torch.load(path, map_location=torch.device(device))
                model = build_fn()
                model.load_state_dict(state)
                model.to(device)
                model.eval()
                return model
            """,
    }, why="torch.accelerator (PyTorch 2.6+), dict keys in another order, CPU copies saved, the default weights_only"),
    right("other_style", {
        "pick_device": """
            def pick_device():
                name = "cpu"
                if torch.backends.mps.is_available():
                    name = "mps"
                if torch.cuda.is_available():
                    name = "cuda"
                    print("GPU:", torch.cuda.get_device_name(0))
                return torch.device(name)
            """,
        "to_device": """
            from torch.utils._pytree import tree_map

            def to_device(batch, device):
                return tree_map(lambda t: t.to(device, non_blocking=True), batch)
            """,
        "predict_on_device": """
            import warnings

            def predict_on_device(model, X, device):
                warnings.warn("a warning on stderr must not cost points")
                model = model.to(device).eval()
                with torch.inference_mode():
                    out = model(X.to(device))
                return out.to("cpu")
            """,
        "save_checkpoint": """
            from collections import OrderedDict

            def save_checkpoint(model, path):
                state = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
                with open(path, "wb") as f:
                    torch.save(state, f)
            """,
        "load_checkpoint": """
            def load_checkpoint(path, build_fn, device):
                model = build_fn().to(device)
                state = torch.load(path, map_location="cpu", weights_only=True)
                model.load_state_dict(state)
                model.train(False)
                return model
            """,
    }, why="correct answers in other styles (pytree, inference_mode, a file object, map_location='cpu')"),
    right("other_style_2", {
        "pick_device": """
            def pick_device():
                for name, available in (("cuda", torch.cuda.is_available), ("mps", torch.backends.mps.is_available)):
                    if available():
                        return torch.device(name)
                return torch.device("cpu")
            """,
        "to_device": """
            def to_device(batch, device):
                if torch.is_tensor(batch):
                    return batch.to(device=device)
                if isinstance(batch, (list, tuple)):
                    moved = [to_device(item, device) for item in batch]
                    return moved if isinstance(batch, list) else tuple(moved)
                return {key: to_device(batch[key], device) for key in batch}
            """,
        "predict_on_device": """
            @torch.no_grad()
            def predict_on_device(model, X, device):
                model.eval().to(device)
                return model(X.to(device)).detach().squeeze(1).cpu().unsqueeze(1)
            """,
        "load_checkpoint": """
            def load_checkpoint(path, build_fn, device):
                state = torch.load(path, map_location=device, weights_only=True)
                model = build_fn()
                model.load_state_dict(state, assign=True)
                model.eval()
                return model.to(device)
            """,
    }, why="more styles: a loop over tests, a decorator, shape round trip, assign=True"),
]
