"""`--factor`: the scale's counts times a factor, deterministic for a seed (issue 12)."""

from __future__ import annotations

import pytest

from cli import build_parser
from sandbox.world import SIZES, World, scaled_sizes


def test_factor_one_is_the_scale_itself() -> None:
    assert World(scale="large").sizes == SIZES["large"]
    assert World(scale="small", factor=1.0).sizes == SIZES["small"]


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_factor_multiplies_every_count_but_the_warehouses(factor: float) -> None:
    sizes = scaled_sizes("large", factor)
    assert sizes["warehouses"] == SIZES["large"]["warehouses"]
    assert sizes["erp_orders"] == round(100_000 * factor)
    assert sizes["products"] == round(10_000 * factor)  # stock rows = products x warehouses: linear too


def test_a_larger_world_extends_the_smaller_one_deterministically() -> None:
    small, double, again = World(seed=7, factor=1), World(seed=7, factor=2), World(seed=7, factor=2)
    assert double.customers[: len(small.customers)] == small.customers
    assert double.customers == again.customers
    assert len(double.products) == 2 * len(small.products)


def test_cli_takes_the_factor_and_refuses_nonsense(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["sandbox", "--scale", "large", "--factor", "0.5", "--print-env"])
    assert (args.scale, args.factor) == ("large", 0.5)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--factor", "many"])
    assert "expected a number" in capsys.readouterr().err
