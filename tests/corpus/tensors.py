"""Wrong (and right-but-different) submissions of 01_tensors."""

from tests.corpus import right, wrong

SUBMISSIONS = [
    # mistake 6: int64 where float32 is asked for
    wrong("to_batch_int64", "to_batch", """
        def to_batch(values):
            return torch.tensor(values).reshape(-1, 1)
        """, why="whole numbers give an int64 tensor"),
    # mistake 5: [N] instead of [N, 1]
    wrong("to_batch_flat", "to_batch", """
        def to_batch(values):
            return torch.tensor(values, dtype=torch.float32)
        """, why="no column dimension"),
    # mistake 7: hard-coded for the notebook's data
    wrong("to_batch_hardcoded", "to_batch", """
        def to_batch(values):
            return torch.tensor([[1.0], [3.0], [5.0], [7.0]])
        """, why="fits the notebook's data only"),
    wrong("stack_features_rows", "stack_features", """
        def stack_features(distances, hours, weather):
            return torch.tensor([distances, hours, weather], dtype=torch.float32)
        """, why="features as rows: [3, N]"),
    wrong("stack_features_int64", "stack_features", """
        def stack_features(distances, hours, weather):
            return torch.stack([torch.tensor(distances), torch.tensor(hours), torch.tensor(weather)], dim=1)
        """, why="int64 for whole-number columns"),
    wrong("add_batch_dim_last", "add_batch_dim", """
        def add_batch_dim(sample):
            return sample.unsqueeze(1)
        """, why="[F, 1] instead of [1, F]"),
    wrong("linear_forward_no_bias", "linear_forward", """
        def linear_forward(X, W, b):
            return X @ W
        """),
    wrong("linear_forward_elementwise", "linear_forward", """
        def linear_forward(X, W, b):
            return X * W.T + b
        """),
    wrong("mse_no_shape_guard", "mse", """
        def mse(pred, target):
            return ((pred - target) ** 2).mean()
        """, why="mistake 5: [N] against [N, 1] broadcasts silently"),
    wrong("mse_builtin", "mse", """
        def mse(pred, target):
            if pred.shape != target.shape:
                raise ValueError("shapes differ")
            return torch.nn.functional.mse_loss(pred, target)
        """, why="not written with tensor operations"),
    wrong("mse_float", "mse", """
        def mse(pred, target):
            if pred.shape != target.shape:
                raise ValueError("shapes differ")
            return ((pred - target) ** 2).mean().item()
        """, why="a float cannot be differentiated"),
    wrong("mse_sum", "mse", """
        def mse(pred, target):
            if pred.shape != target.shape:
                raise ValueError("shapes differ")
            return ((pred - target) ** 2).sum()
        """, why="sum, not mean"),
    right("other_style", {
        "to_batch": """
            import warnings
            def to_batch(values):
                warnings.warn("a warning on stderr must not cost points")
                return torch.as_tensor([float(v) for v in values]).unsqueeze(1)
            """,
        "stack_features": """
            def stack_features(distances, hours, weather):
                return torch.tensor(list(zip(distances, hours, weather)), dtype=torch.float32)
            """,
        "add_batch_dim": """
            def add_batch_dim(sample):
                return sample[None, :]
            """,
        "linear_forward": """
            def linear_forward(X, W, b):
                return torch.matmul(X, W) + b.unsqueeze(0)
            """,
        "mse": """
            def mse(pred, target):
                if tuple(pred.shape) != tuple(target.shape):
                    raise ValueError(f"{pred.shape} vs {target.shape}")
                diff = pred - target
                return (diff * diff).sum() / diff.numel()
            """,
    }, why="correct answers in other styles, one printing a warning"),
    right("other_readings", {
        "to_batch": """
            def to_batch(values):
                return torch.tensor(values, dtype=torch.float32).reshape(len(values), 1)
            """,
        "stack_features": """
            def stack_features(distances, hours, weather):
                return torch.tensor([distances, hours, weather], dtype=torch.float32).T
            """,
        "add_batch_dim": """
            def add_batch_dim(sample):
                return sample.reshape(1, -1)
            """,
        "linear_forward": """
            def linear_forward(X, W, b):
                return torch.addmm(b, X, W)
            """,
        "mse": """
            def mse(pred, target):
                if pred.shape != target.shape:
                    raise ValueError("shapes differ")
                return torch.mean(torch.square(pred - target))
            """,
    }, why="a transposed table, reshape(1, -1), addmm, a message without the shapes: all right"),
]
