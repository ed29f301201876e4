"""Free-text search (spec 3.0.5): terms matched inside the searchable product fields.

A term matches a field that contains it, ignoring case. With ``fuzzy``, a term of four or more
characters also matches text one typo away (one character substituted, missing, added, or two
neighbours swapped). ``mode`` AND needs every term to match some field, OR (the default) any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, and_, false, or_, true

from stockroom.domain.errors import ValidationFailed
from stockroom.domain.item import InventoryItem

from .compile import column_of, lowered
from .evaluate import value_of
from .fields import SEARCHABLE, Field, field_named

__all__ = ["MAX_EXPRESSION", "TextSearch", "parse_search", "search_matches", "search_where"]

MAX_EXPRESSION: Final = 100
MAX_FIELDS: Final = 20
FUZZY_MIN_LENGTH: Final = 4


@dataclass(frozen=True, slots=True)
class TextSearch:
    terms: tuple[str, ...]
    fields: tuple[Field, ...]
    mode: Literal["AND", "OR"] = "OR"
    fuzzy: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "expression": " ".join(self.terms),
            "fields": [f.path for f in self.fields],
            "mode": self.mode,
            "fuzzy": self.fuzzy,
        }


def parse_search(raw: Any, *, where: str) -> TextSearch | None:
    """Validate SearchDetails; ``None`` when there is nothing to search for."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationFailed.of(where, "search must be an object")
    expression = raw.get("expression") or ""
    if not isinstance(expression, str):
        raise ValidationFailed.of(f"{where}.expression", "expression must be a string")
    if len(expression) > MAX_EXPRESSION:
        raise ValidationFailed.of(
            f"{where}.expression",
            f"at most {MAX_EXPRESSION} characters",
            "MAX_LENGTH",
            threshold=MAX_EXPRESSION,
        )
    requested = raw.get("mode") or "OR"
    if requested not in ("AND", "OR"):
        raise ValidationFailed.of(f"{where}.mode", "mode is AND or OR")
    mode: Literal["AND", "OR"] = "AND" if requested == "AND" else "OR"
    fuzzy = raw.get("fuzzy") or False
    if not isinstance(fuzzy, bool):
        raise ValidationFailed.of(f"{where}.fuzzy", "fuzzy is true or false")
    fields = _fields(raw.get("fields"), f"{where}.fields")
    terms = tuple(term.lower() for term in expression.split())
    if not terms:
        return None
    return TextSearch(terms, fields, mode, fuzzy)


def _fields(raw: Any, where: str) -> tuple[Field, ...]:
    if raw is None or raw == []:
        return SEARCHABLE
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise ValidationFailed.of(where, f"fields is an array of at most {MAX_FIELDS} names")
    fields = []
    for index, name in enumerate(raw):
        field = field_named(name) if isinstance(name, str) else None
        if field is None or not field.searchable:
            searchable = ", ".join(f.path for f in SEARCHABLE)
            raise ValidationFailed.of(
                f"{where}[{index}]", f"{name!r} is not searchable; use {searchable}"
            )
        fields.append(field)
    return tuple(dict.fromkeys(fields))


def _patterns(term: str, fuzzy: bool) -> list[str]:
    """LIKE patterns (escaped with ``\\``) for text containing ``term``, or one typo from it."""
    chars = [_escape(c) for c in term]
    variants = [chars]
    if fuzzy and len(term) >= FUZZY_MIN_LENGTH:
        for i in range(len(chars)):
            variants.append([*chars[:i], "_", *chars[i + 1 :]])  # substituted
            variants.append(chars[:i] + chars[i + 1 :])  # missing
            if i + 1 < len(chars):
                variants.append([*chars[:i], chars[i + 1], chars[i], *chars[i + 2 :]])  # swapped
        variants.extend([*chars[:i], "_", *chars[i:]] for i in range(len(chars) + 1))  # added
    return sorted({"%" + "".join(v) + "%" for v in variants})


def _escape(char: str) -> str:
    return "\\" + char if char in "\\%_" else char


def search_where(search: TextSearch, dialect: str) -> ColumnElement[bool]:
    """The WHERE condition of a free-text search."""
    per_term = []
    for term in search.terms:
        patterns = _patterns(term, search.fuzzy)
        per_term.append(
            or_(
                false(),
                *(
                    lowered(column_of(field), dialect).like(pattern, escape="\\")
                    for field in search.fields
                    for pattern in patterns
                ),
            )
        )
    if search.mode == "AND":
        return and_(true(), *per_term)
    return or_(false(), *per_term)


def search_matches(item: InventoryItem, search: TextSearch) -> bool:
    """The same search, in memory: the reference for ``search_where``."""
    texts = [str(v).lower() for f in search.fields if (v := value_of(item, f)) is not None]
    found = [any(_contains(text, term, search.fuzzy) for text in texts) for term in search.terms]
    return all(found) if search.mode == "AND" else any(found)


def _contains(text: str, term: str, fuzzy: bool) -> bool:
    if term in text:
        return True
    if not fuzzy or len(term) < FUZZY_MIN_LENGTH:
        return False
    n = len(term)
    return any(
        _within_one_edit(text[start : start + size], term)
        for size in (n - 1, n, n + 1)
        for start in range(len(text) - size + 1)
    )


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance of at most one."""
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    if len(longer) - len(shorter) != 1:
        return False
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
