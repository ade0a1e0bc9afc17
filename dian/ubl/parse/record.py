"""The record walker: many fields of one element read in one pass over the children their paths name (``Record``),
and the text of the elements a record hands back (``own_text``, ``notes``)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from dian.errors import ParseError
from dian.ubl import namespaces as ns

XML_WS = " \t\r\n"

# Prefixes of the element paths records are written in; "sts" is bound per record to the spelling the document uses.
_PREFIXES = {"cac": ns.CAC, "cbc": ns.CBC, "ext": ns.EXT}
Fields = dict[str, Any]  # a record's reading: text (str or None) per field, a list of elements per collected path

# What a record does at an element its paths reach (see Record): read its text, one of its attributes, note that it
# is there, count it, or hand it back in a list.
_TEXT, _ATTRIBUTE, _FLAG, _COUNT, _COLLECT = range(5)
# Element name -> (the trie below it, text fields, (attribute field, attribute name) pairs, (kind, name) of the rest),
# or just the name of the one text field read there when nothing else is (most leaves: the walk's fast path).
_Trie = dict[Any, "str | tuple[_Trie, tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[int, str], ...]]"]


def _string_value(element: etree._Element) -> str:
    """XPath's string(): the text of the element and its descendant elements, comments and PIs left out."""
    if len(element):
        return "".join(element.itertext())
    return element.text or ""


class Record:
    """Many fields of one element read in one walk over the children its paths name.

    Each field is an element path relative to the element (``cac:A/cbc:B``), an attribute at its end
    (``cac:A/cbc:B/@schemeID``), or ``boolean(path)`` / ``count(path)``; and ``lists`` names paths whose elements are
    handed back in document order (lines, parties, tax totals) for their own records. A field reads as XPath's
    ``string()`` of that path would: the string value of the first element in document order (an attribute: the first
    one present), stripped of XML white space, None when empty. The paths are merged into one trie of element names,
    so one pass over the children they name, in document order, fills every field: no per-field XPath evaluation
    (which cost a document most of its parse), and nothing outside the paths (the ds:Signature) is visited.
    """

    __slots__ = ("_counts", "_initial", "_lists", "_trie", "names", "paths")

    def __init__(self, sts: str | None = None, *, lists: dict[str, str | tuple[str, ...]] | None = None,
                 **paths: str) -> None:  # fmt: skip
        self.names = tuple(paths)
        self.paths = paths
        prefixes = dict(_PREFIXES, sts=sts) if sts else _PREFIXES
        trie: dict[Any, list[Any]] = {}
        initial: dict[str, Any] = {}
        for name, path in paths.items():
            kind = _TEXT
            if path.startswith("boolean(") and path.endswith(")"):
                kind, path = _FLAG, path[len("boolean(") : -1]
                initial[name] = "false"
            elif path.startswith("count(") and path.endswith(")"):
                kind, path = _COUNT, path[len("count(") : -1]
                initial[name] = 0
            else:
                initial[name] = None
            steps = path.split("/")
            attribute = None
            if steps[-1].startswith("@"):
                if kind != _TEXT:
                    raise ValueError(f"an attribute path reads as text only: {path}")
                kind, attribute = _ATTRIBUTE, steps.pop()[1:]
            self._insert(trie, steps, (kind, name, attribute), prefixes)
        self._lists = tuple((lists or {}).keys())
        for name, spec in (lists or {}).items():
            for path in (spec,) if isinstance(spec, str) else spec:
                self._insert(trie, path.split("/"), (_COLLECT, name, None), prefixes)
        self._initial = initial
        self._counts = tuple(name for name, value in initial.items() if value == 0)
        self._trie = self._freeze(trie)

    @staticmethod
    def _insert(trie: dict[Any, list[Any]], steps: list[str], action: tuple[int, str, str | None],
                prefixes: dict[str, str]) -> None:  # fmt: skip
        node = trie
        for index, step in enumerate(steps):
            if step.startswith("{"):  # already {namespace}local
                tag = step
            else:
                prefix, _, local = step.partition(":")
                tag = f"{{{prefixes[prefix]}}}{local}"
            entry = node.setdefault(tag, [{}, []])
            if index == len(steps) - 1:
                entry[1].append(action)
            node = entry[0]

    @classmethod
    def _freeze(cls, trie: dict[Any, list[Any]]) -> _Trie:
        frozen: _Trie = {}
        for tag, (children, actions) in trie.items():
            texts = tuple(name for kind, name, _ in actions if kind == _TEXT)
            attributes = tuple((name, attribute) for kind, name, attribute in actions if kind == _ATTRIBUTE)
            rest = tuple((kind, name) for kind, name, _ in actions if kind not in (_TEXT, _ATTRIBUTE))
            if not children and len(texts) == 1 and not attributes and not rest:
                frozen[tag] = texts[0]
            else:
                frozen[tag] = (cls._freeze(children), texts, attributes, rest)
        return frozen

    def __call__(self, element: etree._Element) -> Fields:
        fields: Fields = dict(self._initial)
        for name in self._lists:
            fields[name] = []
        _walk(element, self._trie, fields, set())
        for name in self._counts:  # as XPath writes a number
            fields[name] = str(fields[name])
        return fields

    def need(self, fields: Fields, name: str, where: str) -> str:
        """The value of a mandatory field, or ParseError naming its element path."""
        value = fields[name]
        if value is None:
            path = self.paths[name]
            raise ParseError(f"falta el elemento obligatorio {path}", where=f"{where}/{path}")
        return value


def _walk(element: etree._Element, trie: _Trie, fields: Fields, seen: set[str]) -> None:
    """One pre-order pass (document order) over the children of ``element`` that ``trie`` names; ``seen`` holds the
    text and attribute fields read already (the first in document order counts)."""
    for child in element:
        entry = trie.get(child.tag)
        if entry is None:  # an element no path names, a comment or a processing instruction
            continue
        if entry.__class__ is str:  # a leaf of one text field
            if entry not in seen:
                seen.add(entry)  # type: ignore[arg-type]
                text = "".join(child.itertext()) if len(child) else child.text
                fields[entry] = text.strip(XML_WS) or None if text else None  # type: ignore[index]
            continue
        below, texts, attributes, rest = entry  # type: ignore[misc]
        for name in texts:
            if name not in seen:
                seen.add(name)
                fields[name] = _string_value(child).strip(XML_WS) or None
        for name, attribute in attributes:
            if name not in seen:
                value = child.get(attribute)
                if value is not None:
                    seen.add(name)
                    fields[name] = value.strip(XML_WS) or None
        for kind, name in rest:
            if kind == _COLLECT:
                fields[name].append(child)
            elif kind == _FLAG:
                fields[name] = "true"
            else:
                fields[name] += 1
        if below:
            _walk(child, below, fields, seen)


def own_text(found: list[etree._Element]) -> str | None:
    """The first element's own text (before any child), stripped; None when there is none or it is blank."""
    return (found[0].text or "").strip(XML_WS) or None if found else None


def notes(notes: list[etree._Element]) -> tuple[str, ...]:
    """The cbc:Note texts as written (their first text node), blank ones left out."""
    return tuple(note.text for note in notes if note.text and note.text.strip(XML_WS))
