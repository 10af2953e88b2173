"""Shared by every test module: figures drawn off screen, and a fixture that closes them."""

import matplotlib

matplotlib.use("Agg")           # before pyplot is first imported: no window, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def close_figures():
    """Close every figure the test drew (pyplot keeps them all open, and warns past 20)."""
    yield
    plt.close("all")
