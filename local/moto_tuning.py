"""Two lookups moto repeats for every request, remembered for the embedded AWS.

moto builds every response by walking the operation's output shape and, for each member, asking six
alias providers which attribute names the value may carry it under. The answer depends only on the
member (service, parent shape, key) and the value's type, yet it is recomputed for every member of
every response: for a DynamoDB item of 40 attributes that is ~430 lookups, about half of a GetItem's
time. And moto's server lists its package folder on disk for every request to route it. Remembering
both leaves every response byte-for-byte the same (tests/unit/test_moto_tuning.py serializes
responses both ways).
"""

from __future__ import annotations

from typing import Any

_ORIGINALS = "_finscore_originals"


def remember_repeated_lookups() -> None:
    """Replace moto's per-member alias lookup and per-request module listing with remembered ones
    (idempotent)."""
    import moto.backends
    from moto.core.serialize import AttributePickerContext, ResponseSerializer, XFormedAttributePicker

    if hasattr(XFormedAttributePicker, _ORIGINALS):
        return
    original_keys = XFormedAttributePicker.get_possible_keys
    original_modules = moto.backends.list_of_moto_modules
    original_get_value = ResponseSerializer.get_value
    known: dict[tuple, tuple[str, ...]] = {}

    def get_possible_keys(self: Any, context: Any) -> tuple[str, ...]:
        shape, value = context.shape, context.obj
        parent = getattr(shape, "parent", None)
        try:
            # Everything the providers read: the member's shape and its parent's (names are unique in a
            # service), the value's class (its name, its Meta aliases) and the providers themselves.
            key = (tuple(self.alias_providers), getattr(context.service_model, "service_name", None),
                   context.key, getattr(shape, "name", None), getattr(shape, "type_name", None),
                   getattr(parent, "name", None), type(value), getattr(value, "Meta", None))
            found = known.get(key)
        except TypeError:  # an unhashable Meta: nothing to remember it by
            return tuple(original_keys(self, context))
        if found is None:
            found = known[key] = tuple(original_keys(self, context))
        return found

    mapping_keys: dict[tuple, tuple[str, ...] | None] = {}

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        """A member of a plain dict (most DynamoDB and JSON results) without building a picker context
        per member: the dict holds it under the first of its remembered names it has, as in moto."""
        picker = self._value_picker
        if type(value) is not dict or type(picker) is not XFormedAttributePicker or picker.response_transformers:
            return original_get_value(self, value, key, shape)
        parent = getattr(shape, "parent", None)
        memo = (tuple(picker.alias_providers), self.service_model.service_name, key,
                getattr(shape, "name", None), getattr(shape, "type_name", None), getattr(parent, "name", None))
        names = mapping_keys.get(memo, ())
        if names == ():
            context = AttributePickerContext(obj=value, key=key, shape=shape, operation_model=self.operation_model,
                                             service_model=self.service_model)
            names = tuple(get_possible_keys(picker, context))
            # A dotted name is a path into nested values: left to moto's own lookup.
            names = mapping_keys[memo] = None if any("." in name for name in names) else names
        if names is None:
            return original_get_value(self, value, key, shape)
        for name in names:
            if name in value:
                return value[name]
        return None

    # The installed package does not change while the server runs.
    modules = tuple(original_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    setattr(XFormedAttributePicker, _ORIGINALS, (original_keys, original_modules, original_get_value))
    XFormedAttributePicker.get_possible_keys = get_possible_keys
    ResponseSerializer.get_value = get_value
    moto.backends.list_of_moto_modules = list_of_moto_modules


def forget_repeated_lookups() -> None:
    """Put moto's own lookups back (tests compare the two)."""
    import moto.backends
    from moto.core.serialize import ResponseSerializer, XFormedAttributePicker

    originals = getattr(XFormedAttributePicker, _ORIGINALS, None)
    if originals is not None:
        (XFormedAttributePicker.get_possible_keys, moto.backends.list_of_moto_modules,
         ResponseSerializer.get_value) = originals
        delattr(XFormedAttributePicker, _ORIGINALS)
