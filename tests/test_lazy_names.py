"""The packages that load their names on first use (``fakestack``, ``fakestack.model``,
``fakestack.scenarios``) still
show and export every one of them: ``dir()``, ``from ... import *``, pickling by name."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["fakestack", "fakestack.model", "fakestack.scenarios"])
def test_dir_and_star_import_show_every_lazy_name_before_its_first_use(package):
    # a fresh interpreter: in this one another test has loaded them already
    code = (
        f"import {package} as p, sys\n"
        "shown = set(dir(p))\n"
        "missing = [n for n in p.__all__ if n not in shown]\n"
        "assert not missing, missing\n"
        "assert 'fakestack.model.cloud' not in sys.modules\n"
        f"ns = {{}}; exec('from {package} import *', ns)\n"
        "assert set(p.__all__) <= set(ns), set(p.__all__) - set(ns)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_lazily_loaded_class_pickles_by_its_home_module():
    import fakestack
    import fakestack.model

    for cls in (fakestack.Cloud, fakestack.ManualClock, fakestack.model.BackupGroup, fakestack.Mock):
        assert pickle.loads(pickle.dumps(cls)) is cls
    clock = fakestack.ManualClock()
    clock.advance(5)
    assert pickle.loads(pickle.dumps(clock)).now() == clock.now()
