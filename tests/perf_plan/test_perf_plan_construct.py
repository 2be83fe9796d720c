"""`_Constructible.model_construct` builds what pydantic's `model_construct` builds, for every canonical part
(issue 18): same fields in the same order, same defaults (fresh ones from factories), same `model_fields_set`,
unknown names ignored, missing required fields left out — for any subset of fields given, in any order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ledgerlink import commerce


def _parts() -> list[type]:
    out, todo = [], list(commerce._Constructible.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(out, key=lambda c: c.__name__)


PARTS = _parts()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_subset_of_fields_constructs_as_pydantic_would(data: Any):
    cls = data.draw(st.sampled_from(PARTS))
    names = list(cls.model_fields) + ["unknown", "other"]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True))
    values = {name: data.draw(st.integers() | st.text(max_size=3) | st.none()) for name in chosen}
    fast = cls.model_construct(**values)
    slow = BaseModel.model_construct.__func__(cls, **values)  # type: ignore[attr-defined]
    assert list(fast.__dict__.items()) == list(slow.__dict__.items())
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    for name, value in fast.__dict__.items():  # a factory's default is a fresh object per instance
        if isinstance(value, (list, dict, set)) and name not in values:
            assert value is not cls.model_construct(**values).__dict__[name]


def test_every_part_takes_the_fast_construction_or_says_why_not():
    assert PARTS and any(commerce._construct_plan(cls) is not False for cls in PARTS)
