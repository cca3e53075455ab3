"""Lineage results as plain dicts, and their conversion to networkx graphs."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

__all__ = ["Lineage", "to_networkx"]


class Lineage(Dict[str, Any]):
    """A GetLineage result: ``{"nodes": [...], "edges": [...], "truncated": bool}``.

    It is a plain ``dict`` (JSON-serialisable, comparable, picklable); the nodes are entity documents
    with ``_id``, the edges carry ``_from`` and ``_to``. :meth:`to_networkx` makes a graph of it in one
    call.
    """

    def __init__(self, nodes: List[Dict[str, Any]], edges: List[Dict[str, Any]], truncated: bool = False) -> None:
        super().__init__(nodes=nodes, edges=edges, truncated=truncated)

    @property
    def nodes(self) -> List[Dict[str, Any]]:
        nodes: List[Dict[str, Any]] = self["nodes"]
        return nodes

    @property
    def edges(self) -> List[Dict[str, Any]]:
        edges: List[Dict[str, Any]] = self["edges"]
        return edges

    @property
    def truncated(self) -> bool:
        return bool(self["truncated"])

    def to_networkx(self) -> Any:
        """This lineage as a ``networkx.MultiDiGraph``; see :func:`to_networkx`."""
        return to_networkx(self)


def to_networkx(lineage: Mapping[str, Any]) -> Any:
    """A ``networkx.MultiDiGraph`` of a lineage dict (also one read back from JSON).

    Nodes are keyed by ``_id`` and carry the entity's attributes plus ``collection`` (the vertex type);
    edges go ``_from`` -> ``_to`` as stored (the seed graph's direction), keyed by the edge's ``_id``, and
    carry its attributes plus ``collection`` (the edge type). ``graph.graph["truncated"]`` tells whether
    the server cut the result. Needs networkx (``pip install arangopipe-client[networkx]``).
    """
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - exercised by users without the extra
        raise ImportError("to_networkx needs networkx: pip install 'arangopipe-client[networkx]'") from None
    graph = nx.MultiDiGraph(truncated=bool(lineage.get("truncated", False)))
    for node in lineage.get("nodes", ()):
        attrs = dict(node)
        attrs.setdefault("collection", str(node["_id"]).split("/", 1)[0])
        graph.add_node(node["_id"], **attrs)
    for edge in lineage.get("edges", ()):
        attrs = dict(edge)
        attrs.setdefault("collection", str(edge["_id"]).split("/", 1)[0])
        graph.add_edge(edge["_from"], edge["_to"], key=edge["_id"], **attrs)
    return graph
