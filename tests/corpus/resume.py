"""Wrong (and right-but-different) submissions of 06_resume.

Each wrong one makes one mistake of a resume and must lose its own cell and no other;
``tests/test_checks_resume.py`` runs each against its hidden check and pins the mistake
code it is diagnosed with (``CODES``).
"""

from tests.corpus import right, wrong

SAVE = "save_training_state"
LOAD = "load_training_state"
TRAIN = "train_with_resume"

#: The reference's loop, with ``{load}``, ``{before}``, ``{loader}``, ``{loop}``, ``{mode}``, ``{batch}`` and
#: ``{save}`` to put one mistake in.
_LOOP = """
def train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed=0, batch_size=16, device="cpu"):
    generator = torch.Generator().manual_seed(seed)
    loader = {loader}
    model.to(device)
    start = 0
{load}
    losses = []
    for epoch in {loop}:
{before}
{mode}
        total = 0.0
        for X_batch, y_batch in loader:
{batch}
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(loader))
{save}
    return losses
"""
_PARTS = {
    "loader": "DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)",
    "load": ("    if os.path.exists(path):\n"
             "        start = load_training_state(path, model, optimizer, generator, device)"),
    "loop": "range(start, epochs)",
    "before": "",
    "mode": "        model.train()",
    "batch": "            X_batch, y_batch = X_batch.to(device), y_batch.to(device)",
    "save": "        save_training_state(path, model, optimizer, epoch + 1, generator)",
}


def loop(**changes: str) -> str:
    """The reference loop with some parts changed (blank lines left by empty parts removed)."""
    text = _LOOP.format(**{**_PARTS, **changes})
    return "\n".join(line for line in text.splitlines() if line.strip())


def _save(**entries: str) -> str:
    parts = {"model": "model.state_dict()", "optimizer": "optimizer.state_dict()", "epoch": "epoch",
             "generator": "generator.get_state()"}
    parts.update(entries)
    body = ", ".join(f'"{k}": {v}' for k, v in parts.items() if v)
    return f"def save_training_state(path, model, optimizer, epoch, generator):\n    torch.save({{{body}}}, path)\n"


_LOAD = """
def load_training_state(path, model, optimizer, generator, device):
    state = torch.load(path, {load_args})
    model.to(device)
    model.load_state_dict(state["model"])
    {optimizer}
    {generator}
    {mode}
    return {returned}
"""


def _load(**changes: str) -> str:
    parts = {"load_args": "map_location=device, weights_only=True",
             "optimizer": 'optimizer.load_state_dict(state["optimizer"])',
             "generator": 'generator.set_state(state["generator"].cpu())',
             "mode": "model.train()", "returned": 'state["epoch"]'}
    parts.update(changes)
    text = _LOAD.format(**parts)
    return "\n".join(line for line in text.splitlines() if line.strip())


SUBMISSIONS = [
    # --- save_training_state ---------------------------------------------------------------------
    wrong("save_no_optimizer", SAVE, _save(optimizer=""),
          why="the optimizer's state is not saved: momentum restarts from zero on resume"),
    wrong("save_no_generator", SAVE, _save(generator=""),
          why="the generator's state is not saved: the data order differs after a resume"),
    wrong("save_generator_object", SAVE, _save(generator="generator"),
          why="the generator object pickled: the file does not load with weights_only=True"),
    wrong("save_whole_objects", SAVE, _save(model="model", optimizer="optimizer"),
          why="the model and optimizer objects pickled instead of their state_dicts"),
    wrong("save_global_rng", SAVE, _save(generator="torch.get_rng_state()"),
          why="torch's global generator saved, not the loader's"),
    wrong("save_seed_only", SAVE, _save(generator="generator.initial_seed()"),
          why="the seed says where the generator started, not how far it went"),
    wrong("save_state_dict_alone", SAVE, """
        def save_training_state(path, model, optimizer, epoch, generator):
            torch.save(model.state_dict(), path)
        """, why="05's checkpoint: the weights alone"),
    wrong("save_epoch_plus_one", SAVE, _save(epoch="epoch + 1"), why="the epoch counter off by one"),
    wrong("save_other_keys", SAVE, """
        def save_training_state(path, model, optimizer, epoch, generator):
            torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                        "epoch": epoch, "rng": generator.get_state()}, path)
        """, why="the parts under other names than the format's"),
    wrong("save_switches_to_eval", SAVE, """
        def save_training_state(path, model, optimizer, epoch, generator):
            model.eval()
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                        "generator": generator.get_state()}, path)
        """, why="saving leaves the model in eval mode"),
    wrong("save_ignores_path", SAVE, """
        def save_training_state(path, model, optimizer, epoch, generator):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                        "generator": generator.get_state()}, "checkpoint.pt")
        """, why="saved to a fixed file name, not to path"),
    # --- load_training_state ---------------------------------------------------------------------
    wrong("load_no_optimizer", LOAD, _load(optimizer="pass"),
          why="the optimizer's state not restored: momentum restarts from zero"),
    wrong("load_no_generator", LOAD, _load(generator="pass"),
          why="the generator not restored: the data order differs after a resume"),
    wrong("load_eval_mode", LOAD, _load(mode="model.eval()"),
          why="05's habit: the loaded model left in eval mode"),
    wrong("load_no_map_location", LOAD, _load(load_args="weights_only=True"),
          why="a checkpoint written on a GPU does not load on a CPU-only machine"),
    wrong("load_epoch_plus_one", LOAD, _load(returned='state["epoch"] + 1'), why="the epoch returned off by one"),
    wrong("load_returns_nothing", LOAD, _load(returned=""), why="the epoch is not returned"),
    wrong("load_new_optimizer", LOAD, _load(
        optimizer='optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9); '
                  'optimizer.load_state_dict(state["optimizer"])'),
        why="the state loaded into a new optimizer, lost when the function returns"),
    wrong("load_new_generator", LOAD, _load(
        generator='generator = torch.Generator(); generator.set_state(state["generator"].cpu())'),
        why="the state set on a new generator, not the one the loader draws from"),
    wrong("load_unsafe", LOAD, _load(load_args="map_location=device, weights_only=False"),
          why="weights_only=False: loading a checkpoint can run code"),
    wrong("load_model_not_loaded", LOAD, """
        def load_training_state(path, model, optimizer, generator, device):
            state = torch.load(path, map_location=device, weights_only=True)
            model.to(device)
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"].cpu())
            model.train()
            return state["epoch"]
        """, why="the model's weights not loaded"),
    # --- train_with_resume -----------------------------------------------------------------------
    wrong("train_restarts_at_zero", TRAIN, loop(loop="range(epochs)"),
          why="the epoch counter restarted: a resumed run trains every epoch again"),
    wrong("train_skips_an_epoch", TRAIN, loop(loop="range(start + 1, epochs)"),
          why="the loaded epoch taken as the last epoch run: one epoch skipped"),
    wrong("train_reseeds_after_load", TRAIN, loop(
        load=_PARTS["load"] + "\n    generator.manual_seed(seed)"),
        why="the generator seeded again after loading: the data order restarts"),
    wrong("train_global_shuffle", TRAIN, loop(loader="DataLoader(dataset, batch_size=batch_size, shuffle=True)"),
          why="the loader shuffles with torch's global generator, which no checkpoint restores"),
    wrong("train_generator_each_epoch", TRAIN, loop(
        before="        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, "
               "generator=torch.Generator().manual_seed(seed))"),
        why="a new generator every epoch: every epoch reads the samples in the same order"),
    wrong("train_saves_before_step", TRAIN, loop(
        before="        save_training_state(path, model, optimizer, epoch + 1, generator)", save=""),
        why="the checkpoint saved before the epoch's steps: it claims an epoch it does not hold"),
    wrong("train_saves_epoch_index", TRAIN, loop(save="        save_training_state(path, model, optimizer, epoch, "
                                                      "generator)"),
          why="the epoch saved off by one: a resume would run an epoch twice"),
    wrong("train_no_train_mode", TRAIN, loop(mode=""), why="the model never put (back) in training mode"),
    wrong("train_never_resumes", TRAIN, loop(load=""), why="the checkpoint is never loaded: every run starts over"),
    wrong("train_always_loads", TRAIN, loop(
        load="    start = load_training_state(path, model, optimizer, generator, device)"),
        why="loads even when no checkpoint exists yet"),
    wrong("train_batch_not_moved", TRAIN, loop(batch=""), why="the batches are never moved to the device"),
    wrong("train_no_zero_grad", TRAIN, loop().replace("            optimizer.zero_grad()\n", ""),
          why="gradients never zeroed"),
    wrong("train_manual_seed", TRAIN, loop(loader="DataLoader(dataset, batch_size=batch_size, shuffle=True)")
          .replace("    generator = torch.Generator().manual_seed(seed)\n",
                   "    generator = torch.Generator().manual_seed(seed)\n    torch.manual_seed(seed)\n"),
          why="repeatable but not resumable: torch's global generator reseeded inside the function"),
    # --- right answers in other styles -----------------------------------------------------------
    right("other_style", {
        SAVE: """
            import warnings

            def save_training_state(path, model, optimizer, epoch, generator):
                warnings.warn("saving a checkpoint")              # a warning costs nothing
                checkpoint = dict(model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=int(epoch),
                                  generator=generator.get_state(), note="courier model, bike log")
                temporary = str(path) + ".partial"                # written whole, then renamed: a stop
                torch.save(checkpoint, temporary)                 # in the middle never leaves half a file
                os.replace(temporary, path)
            """,
        LOAD: """
            def load_training_state(path, model, optimizer, generator, device):
                checkpoint = torch.load(path, map_location="cpu")   # weights_only=True is the default
                model.load_state_dict(checkpoint["model"])
                model.to(device)
                optimizer.load_state_dict(checkpoint["optimizer"])  # after the move: buffers follow the params
                generator.set_state(checkpoint["generator"])
                model.train(True)
                return int(checkpoint["epoch"])
            """,
        TRAIN: """
            def train_with_resume(model, dataset, loss_fn, optimizer, epochs, path, seed=0, batch_size=16,
                                  device="cpu"):
                generator = torch.Generator()
                generator.manual_seed(seed)
                loader = DataLoader(dataset, batch_size, shuffle=True, generator=generator)
                model = model.to(device)
                try:
                    epoch = load_training_state(path, model, optimizer, generator, device)
                except FileNotFoundError:
                    epoch = 0
                history = []
                while epoch < epochs:
                    model.train()
                    weighted, seen = 0.0, 0
                    for features, hours in loader:
                        features, hours = features.to(device), hours.to(device)
                        optimizer.zero_grad(set_to_none=False)
                        loss = loss_fn(model(features), hours)
                        loss.backward()
                        optimizer.step()
                        weighted += loss.item() * len(features)   # a mean over samples, weighted by batch size
                        seen += len(features)
                    history.append(weighted / seen)
                    epoch += 1
                    save_training_state(path, model, optimizer, epoch, generator)
                return history
            """,
    }, why="correct answers in other styles: an atomic save with an extra key, a CPU load, a while loop"),
]

#: The mistake code each wrong submission's hidden check names (tests/test_checks_resume.py).
CODES = {
    "save_no_optimizer": "optimizer_state_missing",
    "save_no_generator": "generator_state_missing",
    "save_generator_object": "generator_object_pickled",
    "save_whole_objects": "model_object_pickled",
    "save_global_rng": "global_rng_saved",
    "save_seed_only": "generator_seed_only",
    "save_state_dict_alone": "state_dict_alone",
    "save_epoch_plus_one": "wrong_epoch_saved",
    "save_other_keys": "wrong_keys",
    "save_switches_to_eval": "save_changed_state",
    "save_ignores_path": "no_file_at_path",
    "load_no_optimizer": "optimizer_not_restored",
    "load_no_generator": "generator_not_restored",
    "load_eval_mode": "eval_mode_after_load",
    "load_no_map_location": "no_map_location",
    "load_epoch_plus_one": "wrong_epoch_returned",
    "load_returns_nothing": "epoch_not_returned",
    "load_new_optimizer": "optimizer_not_restored",
    "load_new_generator": "generator_not_restored",
    "load_unsafe": "weights_only_off",
    "load_model_not_loaded": "model_not_restored",
    "train_restarts_at_zero": "epoch_restarted",
    "train_skips_an_epoch": "epoch_skipped",
    "train_reseeds_after_load": "generator_reseeded_after_load",
    "train_global_shuffle": "order_not_from_generator",
    "train_generator_each_epoch": "generator_recreated_each_epoch",
    "train_saves_before_step": "saved_before_training",
    "train_saves_epoch_index": "epoch_label_off_by_one",
    "train_no_train_mode": "train_mode_missing",
    "train_never_resumes": "never_resumes",
    "train_always_loads": "load_without_checkpoint",
    "train_batch_not_moved": "batch_not_moved",
    "train_no_zero_grad": "training_differs",
    "train_manual_seed": "global_state_changed",
}
