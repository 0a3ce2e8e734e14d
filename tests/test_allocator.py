"""The allocator setting: applied once per process on Linux/glibc, off with AUTONET_MALLOPT=0."""

import os
import platform
import subprocess
import sys

import pytest

from sklearn_autonet.allocator import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="the setting exists on Linux with glibc only")
def test_applied_once_on_glibc():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # idempotent


def _python_path():
    """PYTHONPATH passed on, for a checkout that is imported from there rather than installed."""
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


@pytest.mark.parametrize("setting, expected", [("0", "False"), ("1", str(GLIBC))])
def test_the_environment_variable_turns_it_off(setting, expected):
    code = "from sklearn_autonet.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], env={"AUTONET_MALLOPT": setting, "PATH": "",
                                                          **_python_path()},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected
