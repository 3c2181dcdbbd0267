"""Build a pydantic model from values that already have their validated types.

The ingest hot path builds an :class:`~mmingest.schemas.assets.Asset` and a
:class:`~mmingest.schemas.points.Point` per record from values it made itself (``str`` ids,
float32 vectors, plain dicts). Validating them returns them unchanged; ``model_construct``
skips validation but walks the fields in Python (~2 us a model). :func:`trusted` sets the
same four attributes ``model_construct`` sets, once, for a quarter of that; a test keeps it
equal to ``model_construct`` (and to validation) for every model it is used on.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_set = object.__setattr__
# BaseModel's own slots, set through their descriptors: object.__setattr__ by name would look
# each one up again (a third of this function's time, twice per record on the hot path).
_slots = BaseModel.__dict__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__
_new = object.__new__


def trusted(model: type[M], values: dict[str, Any]) -> M:
    """``model.model_construct(**values)`` for a plain model given *every* field.

    Only for values of exactly the types validation would produce, and models without
    private attributes, extra fields, a root or a post-init hook (checked per model below).
    """
    instance = _new(model)
    _set(instance, "__dict__", values)
    _set_fields_set(instance, set(values))
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance


def can_trust(model: type[BaseModel]) -> bool:
    """Whether :func:`trusted` builds what ``model_construct`` would for ``model``."""
    return not (
        model.__new__ is not object.__new__
        or model.__pydantic_root_model__
        or model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
    )
