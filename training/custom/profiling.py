"""What a user's table holds: the target mapped to labels, and every other column's kind or the reason
it is not used. Decisions made here use every row but never the target (kinds, not relationships);
levels, ranges and references come from the training split only (training.custom.product).

Column rules, in order:
- the definition's roles: excluded, the id column, the as-of column;
- mostly missing: at least MOSTLY_MISSING of rows have no value;
- constant: one distinct value (or none);
- boolean: every value is a yes/no value (true/false, yes/no, y/n, t/f, 1/0);
- numeric: at least TYPE_SHARE of values are numbers; ID-like when they are distinct whole numbers
  packed like row numbers (their span is at most twice the row count);
- date: at least TYPE_SHARE of values are ISO dates;
- text otherwise: free text when most values are distinct and long or made of words (FREE_TEXT_*);
  ID-like when nearly every value is distinct (at least ID_SHARE); too many levels when at least
  HIGH_CARDINALITY of values are distinct; categorical otherwise.
A value of a used column that is not of its kind rejects its row, with the reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from finscore.products.custom.definition import CustomDefinition
from finscore.products.custom.schema import (
    BOOLEAN,
    CATEGORICAL,
    DATE,
    FALSE_TOKENS,
    INVALID,
    NUMERIC,
    TRUE_TOKENS,
    category_text,
    is_missing,
    parse_boolean,
    parse_date,
    parse_number,
)
from finscore.records import RowReject

MOSTLY_MISSING = 0.95
TYPE_SHARE = 0.95
ID_SHARE = 0.95
HIGH_CARDINALITY = 0.5
FREE_TEXT_LENGTH = 25
FREE_TEXT_WORDS = 0.5
MIN_CLASS_ROWS = 20
# With a positive_class, a value that is neither it nor the other class rejects its row; when such
# values are more than this share of rows, the target has more than two classes and is refused.
MAX_THIRD_CLASS = 0.05
MAX_REASONS_PER_REJECT = 5


class CustomTableError(ValueError):
    """The table cannot train this definition; REASONS say why, each on its own."""

    def __init__(self, reasons: Sequence[str]):
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


@dataclass(frozen=True)
class ColumnReport:
    """What training made of one column of the table."""

    name: str
    kind: str  # numeric | categorical | boolean | date | target | id | refused
    used: bool
    reason: str
    missing_share: float = 0.0
    distinct: int = 0

    def document(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "used": self.used, "reason": self.reason,
                "missing_share": round(self.missing_share, 4), "distinct": self.distinct}


@dataclass
class TableProfile:
    """The table's columns (in the table's order), the target's mapping and the rows refused."""

    columns: list[ColumnReport]
    labels: dict[str, Any]  # how target values map to labels
    rejects: list[RowReject] = field(default_factory=list)

    def kinds(self) -> dict[str, str]:
        return {column.name: column.kind for column in self.columns if column.used}

    def refused(self) -> dict[str, str]:
        return {column.name: column.reason for column in self.columns if not column.used}


def column_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for record in records if isinstance(record, Mapping) for name in record))


def label_map(definition: CustomDefinition, values: Sequence[Any]) -> tuple[dict[Any, float], dict[str, Any]]:
    """How each distinct target value maps to a label (values absent from the map are rejected), and a
    description of the mapping. CustomTableError when the target cannot be a label at all."""
    present = [value for value in values if not is_missing(value)]
    if definition.task == "regression":
        numbers = {value: parse_number(value) for value in set(map(_key, present))}
        good = {value: number for value, number in numbers.items() if number is not INVALID}
        if len(present) and sum(1 for value in present if _key(value) in good) < TYPE_SHARE * len(present):
            raise CustomTableError([f"target: {definition.target!r} is not numeric (a regression needs a number in "
                                    f"at least {TYPE_SHARE:.0%} of rows)"])
        return good, {"task": "regression"}
    counts = Counter(_key(value) for value in present)
    if definition.positive_class is not None:
        positive = category_text(definition.positive_class)
        texts = {value: category_text(value) for value in counts}
        positives = [value for value, text in texts.items() if _same_label(text, positive)]
        if not positives:
            raise CustomTableError([f"positive_class: {definition.positive_class!r} does not occur in the target "
                                    f"{definition.target!r} (its values: {_examples(counts)})"])
        others = Counter({value: count for value, count in counts.items() if value not in positives})
        if not others:
            raise CustomTableError([f"target: every row is {definition.positive_class!r}; a binary task needs two "
                                    "classes"])
        negative_text = texts[others.most_common(1)[0][0]]
        negatives = [value for value, text in texts.items() if text == negative_text]
        third = sum(count for value, count in others.items() if value not in negatives)
        if third > MAX_THIRD_CLASS * len(present):
            raise CustomTableError([f"target: {definition.target!r} has more than two classes ({_examples(counts)}); "
                                    "a binary task needs exactly two"])
        mapping = {**{value: 1.0 for value in positives}, **{value: 0.0 for value in negatives}}
        return mapping, {"task": "binary", "positive": positive, "negative": negative_text}
    mapping = {value: parse_boolean(value) for value in counts}
    mapping = {value: label for value, label in mapping.items() if label is not INVALID and not math.isnan(label)}
    covered = sum(counts[value] for value in mapping)
    if covered < (1 - MAX_THIRD_CLASS) * len(present):
        raise CustomTableError([f"target: the values of {definition.target!r} ({_examples(counts)}) are not "
                                f"yes/no values ({', '.join(sorted(TRUE_TOKENS))} against "
                                f"{', '.join(sorted(FALSE_TOKENS))}); name the positive_class"])
    # Named by the spelling the table uses most for each class ("yes", 1, "Y").
    spelled = {label: max((value for value in mapping if mapping[value] == label), key=lambda value: counts[value])
               for label in set(mapping.values())}
    return mapping, {"task": "binary", "positive": category_text(spelled.get(1.0, "1")),
                     "negative": category_text(spelled.get(0.0, "0"))}


def _key(value: Any) -> Any:
    """A hashable stand-in for a target value (a list or an object becomes its text, never a label)."""
    return value if isinstance(value, (str, int, float, bool)) else repr(value)


def _same_label(text: Any, positive: Any) -> bool:
    if text == positive:
        return True
    if isinstance(text, str) and isinstance(positive, str):
        if text.lower() == positive.lower():
            return True
        number, wanted = parse_number(text), parse_number(positive)
        return number is not INVALID and wanted is not INVALID and number == wanted
    return False


def _examples(counts: Counter, limit: int = 6) -> str:
    shown = [f"{value!r} ({count})" for value, count in counts.most_common(limit)]
    return ", ".join(shown) + (f" and {len(counts) - limit} more" if len(counts) > limit else "")


def column_kind(name: str, values: Sequence[Any], rows: int) -> ColumnReport:
    """The kind of one column from its VALUES (every row's), or why it is not used."""
    present = [value for value in values if not (_scalar(value) and is_missing(value))]
    missing_share = 1 - len(present) / rows if rows else 1.0
    distinct = Counter(_key(value) for value in present)

    def refused(reason: str) -> ColumnReport:
        return ColumnReport(name, "refused", False, reason, missing_share, len(distinct))

    def used(kind: str, reason: str) -> ColumnReport:
        return ColumnReport(name, kind, True, reason, missing_share, len(distinct))

    if missing_share >= MOSTLY_MISSING:
        return refused(f"mostly missing: {missing_share:.0%} of rows have no value")
    if len(distinct) <= 1:
        only = next(iter(distinct), None)
        return refused(f"constant: every row with a value holds {only!r}")
    if all(parse_boolean(value) is not INVALID for value in distinct):
        return used(BOOLEAN, "yes/no values")
    numbers = {value: parse_number(value) for value in distinct}
    numeric = sum(count for value, count in distinct.items() if numbers[value] is not INVALID)
    if numeric >= TYPE_SHARE * len(present):
        good = [number for number in numbers.values() if number is not INVALID]
        whole = all(float(number).is_integer() for number in good)
        if whole and len(distinct) == len(present) and max(good) - min(good) + 1 <= 2 * len(present):
            return refused(f"ID-like: a distinct whole number in every row ({min(good):g} to {max(good):g}), like a "
                           "row number or key")
        return used(NUMERIC, "numbers")
    dates = sum(count for value, count in distinct.items() if parse_date(value) is not INVALID)
    if dates >= TYPE_SHARE * len(present):
        return used(DATE, f"ISO dates -> parts ({', '.join(('days since 1970', 'month', 'day of week'))})")
    texts = [str(value) for value in distinct]
    ratio = len(distinct) / len(present)
    mean_length = float(np.mean([len(text) for text in texts]))
    wordy = float(np.mean([len(text.split()) > 2 for text in texts]))
    if ratio >= HIGH_CARDINALITY and (mean_length >= FREE_TEXT_LENGTH or wordy >= FREE_TEXT_WORDS):
        return refused(f"free text: {len(distinct)} distinct values in {len(present)} rows, {mean_length:.0f} "
                       f"characters on average (e.g. {_shortened(texts[0])!r}); text is not a feature here")
    if ratio >= ID_SHARE:
        return refused(f"ID-like: {len(distinct)} distinct values in {len(present)} rows (e.g. {_shortened(texts[0])!r})")
    if ratio >= HIGH_CARDINALITY:
        return refused(f"too many levels: {len(distinct)} distinct values in {len(present)} rows; too few rows per "
                       "value to learn from")
    return used(CATEGORICAL, f"text with {len(distinct)} distinct values")


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict, tuple, set))


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


VALUE_CHECKS = {NUMERIC: (parse_number, "a number"), BOOLEAN: (parse_boolean, "true or false"),
                DATE: (parse_date, "an ISO date (YYYY-MM-DD)")}


def profile_table(definition: CustomDefinition, records: Sequence[Any]) -> tuple[list[dict[str, Any]], TableProfile]:
    """The rows training can use (the target replaced by its label, 1/0 or a number) and the table's
    profile: every column's kind or reason, the target mapping, and the rows rejected with why (by
    their index in RECORDS)."""
    rows = [record if isinstance(record, Mapping) else {} for record in records]
    names = column_names(rows)
    declared = {definition.target: "target", **{name: "id_column" for name in [definition.id_column] if name},
                **{name: "as_of_column" for name in [definition.as_of_column] if name},
                **{name: "monotone" for name in definition.monotone}, **{name: "exclude" for name in definition.exclude},
                **{name: "allow" for name in definition.allow}}
    absent = [f"{role}: column {name!r} is not in the table" for name, role in declared.items() if name not in names]
    if absent:
        raise CustomTableError(absent + [f"the table's columns: {', '.join(names[:30])}"
                                         f"{' ...' if len(names) > 30 else ''}"])
    targets = [row.get(definition.target) for row in rows]
    mapping, labels = label_map(definition, targets)
    roles = definition.roles()
    reports = [ColumnReport(definition.target, "target", False, f"the target ({definition.task})")]
    for name in names:
        if name == definition.target:
            continue
        if name in roles:
            kind = "id" if name == definition.id_column else "refused"
            reports.append(ColumnReport(name, kind, False, roles[name]))
            continue
        reports.append(column_kind(name, [row.get(name) for row in rows], len(rows)))
    problems = [f"monotone: {report.name!r} is {report.kind}; a monotone constraint needs a numeric or yes/no column"
                for report in reports if report.name in definition.monotone and report.used
                and report.kind not in (NUMERIC, BOOLEAN)]
    problems += [f"monotone: {report.name!r} is not used ({report.reason})" for report in reports
                 if report.name in definition.monotone and not report.used]
    if problems:
        raise CustomTableError(problems)
    kinds = {report.name: report.kind for report in reports if report.used}
    valid, rejects = [], []
    for index, (record, row) in enumerate(zip(records, rows)):
        reasons = row_problems(definition, row, mapping, kinds) if record is row else [
            f"row: expected an object of fields, got {type(record).__name__}"]
        if reasons:
            if len(reasons) > MAX_REASONS_PER_REJECT:
                reasons = reasons[:MAX_REASONS_PER_REJECT] + [f"and {len(reasons) - MAX_REASONS_PER_REJECT} more"]
            rejects.append(RowReject(index, "; ".join(reasons)))
        else:
            valid.append({**row, definition.target: mapping[_key(row[definition.target])]})
    if definition.task == "binary":
        counts = Counter(row[definition.target] for row in valid)
        short = [f"target: only {counts.get(label, 0)} valid rows of class {name!r}; need at least {MIN_CLASS_ROWS}"
                 for label, name in ((1.0, labels["positive"]), (0.0, labels["negative"]))
                 if counts.get(label, 0) < MIN_CLASS_ROWS]
        if short:
            raise CustomTableError(short)
    return valid, TableProfile(reports, labels, rejects)


def row_problems(definition: CustomDefinition, row: Mapping[str, Any], mapping: Mapping[Any, float],
                 kinds: Mapping[str, str]) -> list[str]:
    """Why ROW cannot train: its target, a used column's value of the wrong kind, its as-of date."""
    problems = []
    target = row.get(definition.target)
    if not _scalar(target) or is_missing(target):
        problems.append(f"{definition.target}: the target is missing")
    elif _key(target) not in mapping:
        expected = "a number" if definition.task == "regression" else "one of the two classes"
        problems.append(f"{definition.target}: {target!r} is not {expected}")
    for name, kind in kinds.items():
        value = row.get(name)
        if not _scalar(value):
            problems.append(f"{name}: expected a single value, got {type(value).__name__}")
        elif kind in VALUE_CHECKS:
            parse, expected = VALUE_CHECKS[kind]
            if parse(value) is INVALID:
                problems.append(f"{name}: expected {expected}, got {value!r}")
    if definition.as_of_column:
        stamp = row.get(definition.as_of_column)
        parsed = parse_date(stamp) if _scalar(stamp) else INVALID
        if parsed is INVALID or math.isnan(parsed):
            problems.append(f"{definition.as_of_column}: the as-of date is missing or not an ISO date ({stamp!r})")
    return problems
