"""The compiled side of the book (ws_stack._book_side) against its reference, book._Side."""

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import book, implementation
from ws_stack.book import _Side as ReferenceSide
from ws_stack.messages import Level, Venue

_compiled = implementation.compiled("ws_stack._book_side")
needs_compiled = pytest.mark.skipif(
    _compiled is None,
    reason="ws_stack._book_side is not built (no C compiler, or WS_STACK_NO_EXTENSIONS is set)",
)

SIDES = [
    pytest.param(ReferenceSide, id="pure"),
    pytest.param(getattr(_compiled, "BookSide", None), id="compiled", marks=needs_compiled),
]
DEPTHS = [None, 0, 1, 2, 3, 5, 100, -1, -2, -5, -100, 2**70, -(2**70)]


class OtherLevel:
    """Not a Level: the compiled side reads it through getattr, as it does a subclass."""

    __slots__ = ("price", "size")

    def __init__(self, price, size):
        self.price = price
        self.size = size


class LevelSubclass(Level):
    pass


# Few prices, so that deltas update, insert and delete the same levels; -0.0 and 0.0 are
# one price, and so are 2 and 2.0. Sizes: removals, negative ones (constructor-built Levels
# are not validated), tiny and huge ones, ints.
_prices = st.sampled_from([-0.0, 0.0, 1.0, 1.5, 2.0, 2, 2.5, 3.0, 7.25, 1e9, -3.0, 1e-300])
_sizes = st.sampled_from([0.0, -0.0, 1.0, 2.5, -1.0, 1e14, 1e300, 5e-324, 0, 3])
_level_types = st.sampled_from([Level, Level, Level, OtherLevel, LevelSubclass])
_levels = st.lists(
    st.builds(lambda kind, p, s: kind(p, s), _level_types, _prices, _sizes), max_size=12
)
_steps = st.lists(st.tuples(st.sampled_from(["replace", "apply"]), _levels), max_size=30)


def observe(side):
    observed = {
        "len": len(side),
        "best_high": side.best_high(),
        "best_low": side.best_low(),
    }
    for depth in DEPTHS:
        observed[f"top_high({depth})"] = side.top_high(depth)
        observed[f"top_low({depth})"] = side.top_low(depth)
    observed["top_high()"] = side.top_high()
    observed["top_low()"] = side.top_low()
    return observed


@needs_compiled
@settings(max_examples=500)
@given(_steps)
def test_compiled_side_equals_the_reference(steps):
    compiled, reference = _compiled.BookSide(), ReferenceSide()
    assert observe(compiled) == observe(reference)
    for operation, levels in steps:
        getattr(compiled, operation)(levels)
        getattr(reference, operation)(levels)
        assert observe(compiled) == observe(reference), (operation, levels)


@needs_compiled
@settings(max_examples=50)
@given(st.lists(st.integers(0, 3000), min_size=1, max_size=400), st.data())
def test_compiled_side_equals_the_reference_when_deep(prices, data):
    """Many levels: growing, recentring, and inserts and deletes at both ends and inside."""
    compiled, reference = _compiled.BookSide(), ReferenceSide()
    snapshot = [Level(float(p), 1.0) for p in prices]
    for side in (compiled, reference):
        side.replace(
            data.draw(
                st.sampled_from(
                    [snapshot, snapshot[::-1], sorted(snapshot, key=lambda lv: lv.price)]
                )
            )
        )
    assert observe(compiled) == observe(reference)
    for _ in range(5):
        delta = data.draw(
            st.lists(
                st.builds(Level, st.integers(-10, 3010).map(float), st.sampled_from([0.0, 2.0])),
                max_size=200,
            )
        )
        compiled.apply(delta)
        reference.apply(delta)
        assert observe(compiled) == observe(reference)


@pytest.mark.parametrize("side_class", SIDES)
def test_replace_keeps_positive_sizes_and_the_last_duplicate(side_class):
    side = side_class()
    side.replace(
        [Level(2.0, 1.0), Level(1.0, 0.0), Level(2.0, 3.0), Level(3.0, -1.0), Level(2.0, 0.0)]
    )
    assert side.top_low() == [(2.0, 3.0)]
    assert len(side) == 1


@pytest.mark.parametrize("side_class", SIDES)
def test_apply_inserts_updates_and_deletes_in_order(side_class):
    side = side_class()
    side.replace([Level(1.0, 1.0), Level(3.0, 3.0)])
    side.apply(
        [Level(2.0, 2.0), Level(3.0, 0.0), Level(1.0, -4.0), Level(9.0, 0.0), Level(3.0, 5.0)]
    )
    assert side.top_high() == [(3.0, 5.0), (2.0, 2.0), (1.0, -4.0)]
    assert side.best_high() == (3.0, 5.0)
    assert side.best_low() == (1.0, -4.0)
    assert side.top_high(-1) == [(3.0, 5.0), (2.0, 2.0)]
    assert side.top_low(-1) == [(1.0, -4.0), (2.0, 2.0)]


@pytest.mark.parametrize("side_class", SIDES)
def test_an_empty_side(side_class):
    side = side_class()
    assert (len(side), side.best_high(), side.best_low()) == (0, None, None)
    assert side.top_high() == side.top_low(3) == []


@pytest.mark.parametrize("side_class", SIDES)
def test_a_depth_that_is_not_an_integer_is_a_type_error(side_class):
    with pytest.raises(TypeError):
        side_class().top_low(1.5)


@pytest.mark.parametrize("side_class", SIDES)
def test_a_level_that_is_not_a_number_is_a_type_error(side_class):
    side = side_class()
    with pytest.raises(TypeError):
        side.apply([Level(1.0, 1.0), Level("x", "y")])
    assert side.top_low() == [(1.0, 1.0)]  # the levels before it are applied
    with pytest.raises(TypeError):
        side.replace([Level(1.0, 1.0), Level("x", "y")])


@pytest.mark.parametrize("side_class", SIDES)
def test_replace_reads_no_price_of_a_level_it_leaves_out(side_class):
    side = side_class()
    side.replace([Level("x", 0.0), OtherLevel(None, -1.0), Level(1.0, 1.0)])
    assert side.top_low() == [(1.0, 1.0)]


def test_the_book_uses_the_compiled_side_when_built():
    expected = ReferenceSide if _compiled is None else _compiled.BookSide
    assert type(book.LocalOrderBook(Venue.MEXC, "BTCUSDT")._bids) is expected


@pytest.mark.parametrize(
    ("variable", "expected"),
    [("1", "_Side"), pytest.param("0", "BookSide", marks=needs_compiled)],
)
def test_ws_stack_no_extensions_selects_the_side(variable, expected):
    code = (
        "from ws_stack.book import LocalOrderBook\n"
        "from ws_stack.messages import Venue\n"
        "print(type(LocalOrderBook(Venue.MEXC, 'BTCUSDT')._bids).__name__)\n"
    )
    env = {**os.environ, implementation.NO_EXTENSIONS_VARIABLE: variable}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected
