"""What a signature covers: finding it, resolving and digesting its references, canonicalizing the nodes."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from dian.errors import ParseError
from dian.xades.vocabulary import _C14N, _DIGESTS, DS, ENVELOPED, EXT, MAX_REFERENCES
from dian.xmlsafe import parse_xml

_INCLUSIVE_NAMESPACES = "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces"


class _RelativeNamespace(Exception):
    """libxml2's C14N refused the tree (relative namespace URI); retry on a rewritten copy."""


class _Canon:
    """Canonicalizes nodes of one tree; on a rewritten tree, maps placeholder URIs back to the original ones."""

    def __init__(self, root: etree._Element, restore: tuple[tuple[bytes, bytes], ...] = (), owned: bool = True) -> None:
        self.root = root
        self.restore = restore
        self.owned = owned  # False: the caller's tree, which the enveloped transform must not touch

    def c14n(self, node: etree._Element | etree._ElementTree, method: str, prefixes: list[str] | None = None) -> bytes:
        exclusive, comments = _C14N[method]
        try:
            out = etree.tostring(
                node,
                method="c14n",
                exclusive=exclusive,
                with_comments=comments,
                inclusive_ns_prefixes=prefixes if exclusive else None,
            )
        except etree.C14NError as exc:
            raise _RelativeNamespace(str(exc)) from exc
        for placeholder, original in self.restore:
            out = out.replace(placeholder, original)
        return out


_XMLNS_DECL = re.compile(rb'xmlns(?::([A-Za-z_][\w.-]*))?="([^"]*)"')


def _is_relative(uri: str) -> bool:
    return uri != "" and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) is None


def _rewrite_relative_namespaces(root: etree._Element) -> _Canon | None:
    """Re-parse ``root`` with relative namespace URIs replaced by unique absolute placeholders (dian-facts 5 pitfall 1).

    C14N 1.0 has no canonical form for relative namespace URIs and libxml2 refuses them, yet the signer's tool
    (which wrote ``xmlns:none="none"``) simply emitted the declaration as written. Canonicalizing a copy in which
    ``none`` becomes ``none:x-buzon-<random>`` and mapping it back in the output reproduces that tolerant canonical
    form byte for byte; the placeholder keeps the scheme-like prefix so attribute ordering by namespace URI holds.
    """
    serialized = etree.tostring(root.getroottree())
    # The declarations as written, read in one pass over the bytes: the namespace axis (//namespace::*) lists every
    # namespace in scope of every element, millions of nodes for a large document.
    declared = {
        ((match.group(1) or b"").decode(), match.group(2).decode(errors="replace"))
        for match in _XMLNS_DECL.finditer(serialized)
    }
    relative = {(prefix, uri) for prefix, uri in declared if _is_relative(uri)}
    if not relative:
        return None
    token = secrets.token_hex(8)
    mapping: dict[bytes, bytes] = {}
    for _prefix, uri in relative:
        base = uri if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", uri) else "urn"
        mapping[uri.encode()] = f"{base}:x-buzon-{token}-{len(mapping)}".encode()

    def swap(match: re.Match[bytes]) -> bytes:
        prefix = (match.group(1) or b"").decode()
        uri = match.group(2)
        if (prefix, uri.decode(errors="replace")) in relative:
            name = b"xmlns:" + match.group(1) if match.group(1) else b"xmlns"
            return name + b'="' + mapping[uri] + b'"'
        return match.group(0)

    try:
        rewritten = parse_xml(_XMLNS_DECL.sub(swap, serialized))
    except ParseError:
        return None
    return _Canon(rewritten, tuple((new, old) for old, new in mapping.items()))


@dataclass
class _Reference:
    uri: str
    digest_method: str
    digest_value: str
    transforms: list[tuple[str, list[str] | None]]
    type: str | None
    node: etree._Element
    target: etree._Element | None = None
    ok: bool = False
    problem: str | None = None
    c14n: bytes | None = None


def _text(node: etree._Element | None) -> str:
    if node is None:
        return ""
    if len(node):  # children (or a comment) split the text: all of it, as itertext gives it
        return "".join(node.itertext()).strip()
    return (node.text or "").strip()


@lru_cache(maxsize=64)
def _names_path(tags: tuple[str, ...]) -> etree.XPath:
    """The XPath "a/b/…" of a path of child names ({namespace}local): evaluated in C, a third of the Python walk."""
    prefixes: dict[str, str] = {}
    steps = []
    for tag in tags:
        if not tag.startswith("{"):
            raise ValueError(f"a child name is written {{namespace}}local, got {tag!r}")
        namespace, _, local = tag[1:].partition("}")
        steps.append(f"{prefixes.setdefault(namespace, f'n{len(prefixes)}')}:{local}")
    return etree.XPath("/".join(steps), namespaces={prefix: namespace for namespace, prefix in prefixes.items()})


def _find(element: etree._Element | None, *tags: str) -> etree._Element | None:
    """``element.find("a/b")`` for a path of child names ({namespace}local): the first match in document order. One
    name is looked up among the children directly, a path by a compiled XPath (both a fraction of lxml's path
    parser), and a verification makes about forty such lookups."""
    if element is None:
        return None
    if len(tags) == 1:
        for child in element.iterchildren(tags[0]):
            return child
        return None
    found = _names_path(tags)(element)
    return found[0] if found else None


def _find_all(element: etree._Element | None, *tags: str) -> list[etree._Element]:
    """``element.findall("a/b")`` for a path of child names ({namespace}local), in document order."""
    if element is None:
        return []
    if len(tags) == 1:
        return list(element.iterchildren(tags[0]))
    return _names_path(tags)(element)


def has_signature(root: etree._Element) -> bool:
    """True when the document carries a ds:Signature in its UBL extensions."""
    return bool(_SIGNATURES_OF(root))


_SIGNATURE_STEPS = (
    f"{{{EXT}}}UBLExtensions",
    f"{{{EXT}}}UBLExtension",
    f"{{{EXT}}}ExtensionContent",
    f"{{{DS}}}Signature",
)
_SIGNATURE_PATH = "/".join(_SIGNATURE_STEPS)
# The same child path as one compiled XPath: its element children by name, in document order, walked in C (about
# 1 µs where the Python walk took 6).
_SIGNATURES_OF = etree.XPath(
    "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/ds:Signature", namespaces={"ext": EXT, "ds": DS}
)


def _find_signature(root: etree._Element) -> tuple[etree._Element | None, str]:
    """The one ds:Signature in /*/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent (dian-facts 3.1)."""
    found = _SIGNATURES_OF(root)
    if not found:
        return None, "el documento no tiene firma ds:Signature en sus extensiones UBL"
    if len(found) > 1:
        return None, f"el documento tiene {len(found)} firmas en sus extensiones UBL; se espera una"
    return found[0], ""


@lru_cache(maxsize=MAX_REFERENCES)
def _id_lookup(count: int) -> etree.XPath:
    # One pass over the attributes for the values wanted, given as XPath variables: about half the time of listing
    # every Id (24 µs vs 54 µs on a real invoice), and a document of a million Ids costs no million Python objects.
    # Only elements carry attributes: stepping over elements alone (not "//", every node, text included) takes a
    # fifth less and finds the same attributes.
    wanted = " or ".join(f". = $v{i}" for i in range(count))
    every = "/descendant-or-self::*"
    return etree.XPath(f"{every}/@Id[{wanted}] | {every}/@ID[{wanted}] | {every}/@id[{wanted}]")


def _index_ids(root: etree._Element, wanted: Iterable[str]) -> dict[str, list[etree._Element]]:
    """The elements carrying each wanted Id/ID/id value; a value held twice makes its reference ambiguous."""
    values = sorted(set(wanted))
    index: dict[str, list[etree._Element]] = {}
    if not values:
        return index
    for value in _id_lookup(len(values))(root, **{f"v{i}": v for i, v in enumerate(values)}):
        index.setdefault(str(value), []).append(value.getparent())
    return index


class _Detached:
    """Temporarily remove the signature element (the enveloped-signature transform), keeping its tail text."""

    def __init__(self, signature: etree._Element) -> None:
        self.sig = signature

    def __enter__(self) -> None:
        sig = self.sig
        self.parent = sig.getparent()
        self.index = self.parent.index(sig)
        self.tail = sig.tail
        # The transform removes the element node only; its following text node stays in the document.
        if self.tail:
            prev = sig.getprevious()
            if prev is not None:
                self.prev_tail = prev.tail
                prev.tail = (prev.tail or "") + self.tail
            else:
                self.prev_tail = self.parent.text
                self.parent.text = (self.parent.text or "") + self.tail
        sig.tail = None
        self.parent.remove(sig)

    def __exit__(self, *exc: object) -> None:
        sig = self.sig
        self.parent.insert(self.index, sig)
        if self.tail:
            prev = sig.getprevious()
            if prev is not None:
                prev.tail = self.prev_tail
            else:
                self.parent.text = self.prev_tail
        sig.tail = self.tail


_ANY_COMMENT = etree.XPath("boolean(descendant-or-self::comment())")


def _has_comment(root: etree._Element) -> bool:
    return bool(_ANY_COMMENT(root))


def _is_ancestor(ancestor: etree._Element, node: etree._Element) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def _child_path(node: etree._Element) -> list[int]:
    """Child indices from the root down to ``node``."""
    path = []
    parent = node.getparent()
    while parent is not None:
        path.append(parent.index(node))
        node, parent = parent, parent.getparent()
    return path[::-1]


def _follow(root: etree._Element, path: list[int]) -> etree._Element:
    node = root
    for i in path:
        node = node[i]
    return node


def _resolve_reference(ref: _Reference, root: etree._Element, ids: dict) -> None:
    """Find the element a reference names; sets target, or problem when there is none or several."""
    if ref.uri == "":
        ref.target = root
    elif ref.uri.startswith("#") and not ref.uri.startswith("#xpointer("):
        hits = ids.get(ref.uri[1:], [])
        if len(hits) != 1:
            ref.problem = (
                f"la referencia {ref.uri} no apunta a ningún elemento"
                if not hits
                else f"la referencia {ref.uri} es ambigua: {len(hits)} elementos con ese Id (posible envoltura)"
            )
            return
        ref.target = hits[0]
    else:
        ref.problem = f"referencia no soportada URI={ref.uri!r}"


def _transformed(
    ref: _Reference,
    node: etree._Element | etree._ElementTree,
    canon: _Canon,
    signature: etree._Element,
    method: str,
    prefixes: list[str] | None,
    enveloped: bool,
) -> bytes:
    """The canonical bytes of a reference's node after its transforms (the enveloped one removes the signature)."""
    if not (enveloped and _is_ancestor(ref.target, signature)):
        return canon.c14n(node, method, prefixes)
    if canon.owned:
        # Runs after every in-place C14N of this verification (see _verify): putting the signature back lets lxml
        # drop declarations inside it that it finds redundant by URI, which would change their inclusive C14N.
        with _Detached(signature):
            return canon.c14n(node, method, prefixes)
    # Detaching and re-inserting lets lxml reconcile namespace declarations of the caller's tree; work on a copy
    # instead (about 0.14 ms for 20 KB).
    clone = copy.deepcopy(canon.root.getroottree())
    clone_sig = _follow(clone.getroot(), _child_path(signature))
    _Detached(clone_sig).__enter__()
    clone_node = clone if ref.uri == "" else _follow(clone.getroot(), _child_path(ref.target))
    return canon.c14n(clone_node, method, prefixes)


def _digest_reference(ref: _Reference, canon: _Canon, signature: etree._Element, done: dict) -> None:
    """Transform and digest one resolved reference; sets ok / problem / c14n on it.

    ``done`` keeps the canonical bytes already computed in this verification, by target and transforms: a repeated
    reference costs a dict lookup, not another C14N (or another detach) of the document.
    """
    if ref.target is None:
        return
    enveloped = False
    method = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    prefixes: list[str] | None = None
    for algorithm, prefix_list in ref.transforms:
        if algorithm == ENVELOPED:
            enveloped = True
        elif algorithm in _C14N:
            method, prefixes = algorithm, prefix_list
        else:
            ref.problem = f"transformación no soportada {algorithm!r} en la referencia {ref.uri or '«»'}"
            return
    if ref.digest_method not in _DIGESTS:
        ref.problem = f"algoritmo de resumen no soportado {ref.digest_method!r}"
        return
    if ref.uri == "":
        node: etree._Element | etree._ElementTree = canon.root.getroottree()
        # URI="" selects the document without comments (XMLDSig 4.4.3.2); C14N of the tree keeps top-level PIs.
        if _C14N[method][1]:
            method = method.replace("#WithComments", "") if "#" in method else method
    else:
        node = ref.target
    key = (id(ref.target), ref.uri == "", method, tuple(prefixes) if prefixes is not None else None, enveloped)
    data = done.get(key)
    if data is None:
        data = done[key] = _transformed(ref, node, canon, signature, method, prefixes, enveloped)
    ref.c14n = data
    try:
        expected = base64.b64decode("".join(ref.digest_value.split()), validate=True)
    except (binascii.Error, ValueError):
        ref.problem = f"DigestValue ilegible en la referencia {ref.uri or '«»'}"
        return
    if hashlib.new(_DIGESTS[ref.digest_method], data).digest() != expected:
        ref.problem = f"el resumen (digest) de la referencia {ref.uri or '«»'} no coincide: el contenido fue alterado"
        return
    ref.ok = True


def _points_at(ref: _Reference, element: etree._Element | None) -> bool:
    """True when the reference resolved to ``element`` or names its Id (even if the Id proved ambiguous)."""
    if element is None:
        return False
    if ref.target is element:
        return True
    own = element.get("Id")
    return own is not None and ref.uri == f"#{own}" and ref.target is None
