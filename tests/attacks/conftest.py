"""One class holding every attack and some honest students, graded once by ``autograder grade``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.grading import batch, sandbox
from tests.attacks import corpus
from tests.attacks.course import make_course

needs_bwrap = pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")


class GradedAttacks:
    def __init__(self, root: Path, results: list[batch.Result], log: list[str]) -> None:
        self.root = root
        self.results = {r.student: r for r in results}
        self.log = log
        self.db_url = f"sqlite:///{root / 'gradebook.db'}"


@pytest.fixture(scope="session")
def graded_attacks(tmp_path_factory: pytest.TempPathFactory) -> GradedAttacks:
    if sandbox.find_bwrap() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    root = make_course(tmp_path_factory.mktemp("attacks") / "course", timeout=4)
    for attack in corpus.ATTACKS:
        attack.write(root)
    log: list[str] = []
    results = batch.grade(batch.Options(corpus.ASSIGNMENT, root, force=True, memory_gb=1.0), log=log.append)
    yield GradedAttacks(root, results, log)
    shutil.rmtree(root, ignore_errors=True)
