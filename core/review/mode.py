"""The pipeline option `review`: whether planned documents wait for a person's approval before they post.

Kept free of the store and the runtime so that `pipeline.py` can validate the option without importing them.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["ReviewMode", "REVIEW_MODES", "check_review_mode"]

#: always: every planned document waits; first_run: documents wait until the first approval, later ones post
#: directly; never: documents post as soon as they are planned (the default)
REVIEW_MODES = ("always", "first_run", "never")


def check_review_mode(value: Any) -> Any:
    """A clear error for a mode that is not one of REVIEW_MODES, with the closest one when it looks misspelt."""
    if isinstance(value, str) and value in REVIEW_MODES:
        return value
    allowed = ", ".join(REVIEW_MODES)
    if isinstance(value, bool):  # YAML reads on/off/yes/no as booleans
        raise PydanticCustomError(
            "review_mode", "{value} is not a review mode (YAML reads on/off/yes/no as true/false): write one of "
            "{allowed}",
            {"value": str(value).lower(), "allowed": allowed})
    close = difflib.get_close_matches(str(value).strip().lower().replace("-", "_").replace(" ", "_"),
                                      REVIEW_MODES, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise PydanticCustomError("review_mode", "{value} is not a review mode: {hint}allowed: {allowed}",
                              {"value": repr(value), "hint": hint, "allowed": allowed})


ReviewMode = Annotated[Literal["always", "first_run", "never"], BeforeValidator(check_review_mode)]
