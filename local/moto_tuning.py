"""Work moto repeats for every request, remembered or done once for the embedded AWS.

moto builds every response by walking the operation's output shape and, for each member, asking six
alias providers which attribute names the value may carry it under. The answer depends only on the
member (service, parent shape, key) and the value's type, yet it is recomputed for every member of
every response: for a DynamoDB item of 40 attributes that is ~430 lookups, about half of a GetItem's
time. And moto's server lists its package folder on disk for every request to route it. Remembering
both leaves every response byte-for-byte the same (tests/unit/test_moto_tuning.py serializes
responses both ways). A Query sorted every item of the table and kept the asked partition's:
`query_one_partition` hands the query that partition alone, to the same answer.
Completing a multipart upload copied the whole object five times and read it
again for a full-object checksum; `assemble_uploads_once` joins the parts once and checksums them as
they are joined, to the same object, ETag and checksum.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from typing import Any

_ORIGINALS = "_finscore_originals"
# moto keeps an object's bytes in a spooled temporary file that moves to disk past this size (its own
# default is S3's 5 MB part minimum). Batch files of 100 MB or more were written to disk part by part,
# read back to assemble the object, and read again for its ETag: more of a 1M-row batch file's time
# than its scoring, and nothing S3 charges a function in AWS. Objects up to this size stay in memory.
IN_MEMORY_OBJECT_BYTES = 512 * 1024 * 1024


def keep_objects_in_memory() -> None:
    """Let the embedded S3 keep objects up to IN_MEMORY_OBJECT_BYTES in memory (unless set already)."""
    os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(IN_MEMORY_OBJECT_BYTES))


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


_UPLOAD_ORIGINAL = "_finscore_original_complete"


def assemble_uploads_once() -> None:
    """Replace moto's multipart completion with one that copies the parts once (idempotent)."""
    import codecs

    from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
    from moto.s3.models import FakeMultipart, MultipartChecksumBuilder
    from moto.settings import S3_UPLOAD_PART_MIN_SIZE
    from moto.utilities.utils import md5_hash

    if hasattr(FakeMultipart, _UPLOAD_ORIGINAL):
        return
    original = FakeMultipart.complete

    def complete(self: Any, body: Any) -> Any:
        builder = MultipartChecksumBuilder(self.metadata.get("x-amz-checksum-algorithm"),
                                           self.metadata.get("x-amz-checksum-type"))
        running = _running_crc(builder.checksum_algorithm)
        if builder.checksum_type != "COMPOSITE" and running is None:
            return original(self, body)  # a full-object checksum that cannot be computed part by part
        decode_hex = codecs.getdecoder("hex_codec")
        values: list[bytes] = []
        md5s = bytearray()
        crc, last = 0, None
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            if last is not None and last.contentsize < S3_UPLOAD_PART_MIN_SIZE:
                raise EntityTooSmall()
            md5s.extend(decode_hex(part.etag.replace('"', ""))[0])
            value = part.value
            values.append(value)
            if builder.checksum_type == "COMPOSITE":
                builder.addPart(value)
            else:
                crc = running(value, crc)
            last = part
        if not values:
            raise MalformedXML
        full_etag = md5_hash()
        full_etag.update(bytes(md5s))
        if builder.checksum_type == "COMPOSITE":
            checksum = builder.build()
        else:
            checksum = (builder.checksum_type, _encoded(crc, running), 1)
        return b"".join(values), f"{full_etag.hexdigest()}-{len(values)}", checksum

    setattr(FakeMultipart, _UPLOAD_ORIGINAL, original)
    FakeMultipart.complete = complete


def _running_crc(algorithm: str) -> Any:
    """moto's full-object checksum of ALGORITHM as a running function (value, previous) -> crc."""
    from moto.core.compat import HAS_CRT

    if algorithm == "CRC32" or (algorithm == "CRC64NVME" and not HAS_CRT):
        return binascii.crc32
    if algorithm == "CRC64NVME":
        from awscrt import checksums

        return checksums.crc64nvme
    return None


def _encoded(crc: int, running: Any) -> str:
    """A running checksum as moto writes it: big-endian bytes (4 for CRC32, 8 for CRC64), base64."""
    return base64.b64encode(crc.to_bytes(4 if running is binascii.crc32 else 8, "big")).decode()


def forget_upload_assembly() -> None:
    """Put moto's own multipart completion back (tests compare the two)."""
    from moto.s3.models import FakeMultipart

    original = getattr(FakeMultipart, _UPLOAD_ORIGINAL, None)
    if original is not None:
        FakeMultipart.complete = original
        delattr(FakeMultipart, _UPLOAD_ORIGINAL)


_QUERY_ORIGINALS = "_finscore_original_query"
# The table and partition key a Query in this thread is for, while moto's query runs.
_querying = threading.local()


def query_one_partition() -> None:
    """Let moto's Query of a table's own key read only that key's partition (idempotent).

    moto answers such a Query by listing and sorting every item of the table, then keeping the items
    of the asked partition key: a table of 16,000 weekly items made each Query of 53 of them cost
    ~150 ms. While a Query runs, the table's item listing is the asked partition alone (for an index,
    the items whose index key attributes hold the asked values), in the same order; scans list the
    whole table as before."""
    from moto.dynamodb.models.table import Table

    if hasattr(Table, _QUERY_ORIGINALS):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        conditions = kwargs["hash_key_conditions"] if "hash_key_conditions" in kwargs else (
            args[9] if len(args) > 9 else None)
        if index_name is not None and not conditions:
            return original_query(self, hash_key, *args, **kwargs)
        if index_name is None and hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        _querying.table, _querying.key, _querying.conditions = self, hash_key, (
            [(name, value.type, value.value) for name, value in conditions] if index_name is not None else None)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _querying.table = _querying.key = _querying.conditions = None

    def all_items(self: Any) -> Any:
        if getattr(_querying, "table", None) is not self:
            return original_all_items(self)
        if _querying.conditions is not None:
            # An index query: the items whose index key attributes hold the asked values (moto checks
            # them again), in moto's order of the whole table.
            return sorted((item for item in _every_item(self) if all(
                (found := item.attrs.get(name)) is not None and found.type == kind and found.value == value
                for name, kind, value in _querying.conditions)), key=_table_order)
        partition = self.items.get(_querying.key)
        if partition is None:
            return []
        if not self.range_key_attr:
            return [partition]
        return sorted(partition.values(), key=lambda item: item.range_key)

    setattr(Table, _QUERY_ORIGINALS, (original_query, original_all_items))
    Table.query, Table.all_items = query, all_items


def _every_item(table: Any) -> Any:
    for stored in table.items.values():
        yield from (stored.values() if table.range_key_attr else (stored,))


def _table_order(item: Any) -> Any:
    """moto's order of a table's items (Table.all_items)."""
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def forget_query_partitions() -> None:
    """Put moto's own Query back (tests compare the two)."""
    from moto.dynamodb.models.table import Table

    originals = getattr(Table, _QUERY_ORIGINALS, None)
    if originals is not None:
        Table.query, Table.all_items = originals
        delattr(Table, _QUERY_ORIGINALS)
