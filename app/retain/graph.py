"""The flow drawn as a graph for the builder: steps as boxes in layers from the first
step down to the confirm step, arrows for each way on (one per survey reason).

Pure: positions are computed from the definition alone (no canvas library, the page
draws them as SVG). Drafts may be unfinished, so arrows to missing steps and circles
are tolerated here and reported by :func:`app.retain.definition.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import definition as flow_definition
from .policy import describe_offer

NODE_W, NODE_H = 184, 56
GAP_X, GAP_Y = 28, 64
PAD = 16
LANE_GAP, LANE_LABEL = 16, 140
KIND_LABELS = {
    "survey": "Survey",
    "stories": "Stories",
    "offer": "Offer",
    "feedback": "Feedback",
    "confirm": "Confirm cancel",
}


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    label: str
    title: str
    x: int
    y: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str | None
    path: str
    label_x: int
    label_y: int
    anchor: str  # "middle" on the arrow; "start" beside an arrow going round


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def _depths(definition: dict[str, Any], ids: list[str]) -> dict[str, int]:
    """Longest distance from the first step (bounded, so a circle in a draft ends)."""
    depth = {ids[0]: 0} if ids else {}
    arrows = flow_definition.edges(definition)
    for _ in range(len(ids)):
        changed = False
        for source, target, _label in arrows:
            if (
                source in depth
                and depth[source] + 1 > depth.get(target, -1)
                and depth[source] + 1 < len(ids)
            ):
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    last = max(depth.values(), default=0)
    for step_id in ids:  # steps nothing leads to yet sit in the last row but one
        depth.setdefault(step_id, max(last, 1))
    confirm = next((i for i in ids if _kind(definition, i) == "confirm"), None)
    if confirm is not None:  # the way out always sits alone at the bottom
        depth[confirm] = max((d for k, d in depth.items() if k != confirm), default=-1) + 1
    return depth


def _kind(definition: dict[str, Any], step_id: str) -> str:
    return flow_definition.steps_by_id(definition)[step_id].get("kind", "")


def layout(definition: dict[str, Any]) -> Graph:
    steps = [
        s
        for s in definition.get("steps", [])
        if isinstance(s, dict) and isinstance(s.get("id"), str)
    ]
    ids = [s["id"] for s in steps]
    depth = _depths(definition, ids)
    rows: dict[int, list[str]] = {}
    for step_id in ids:
        rows.setdefault(depth[step_id], []).append(step_id)
    widest = max((len(r) for r in rows.values()), default=1)
    width = PAD * 2 + widest * NODE_W + (widest - 1) * GAP_X
    nodes: dict[str, Node] = {}
    by_id = {s["id"]: s for s in steps}
    for row, members in sorted(rows.items()):
        span = len(members) * NODE_W + (len(members) - 1) * GAP_X
        left = (width - span) // 2
        for i, step_id in enumerate(members):
            step = by_id[step_id]
            nodes[step_id] = Node(
                id=step_id,
                kind=step.get("kind", ""),
                label=_label(step),
                title=str(step.get("title") or "")[:60],
                x=left + i * (NODE_W + GAP_X),
                y=PAD + row * (NODE_H + GAP_Y),
            )
    merged: dict[tuple[str, str], list[str]] = {}
    for source, target, label in flow_definition.edges(definition):
        if source in nodes and target in nodes:
            merged.setdefault((source, target), []).extend([label] if label else [])
    lane = width + LANE_GAP  # arrows that skip a row go round the right of the boxes
    edges = []
    for (source, target), labels in merged.items():
        a, b = nodes[source], nodes[target]
        x1, y1 = a.x + NODE_W // 2, a.y + NODE_H
        x2, y2 = b.x + NODE_W // 2, b.y
        text = _join(labels)
        if _blocked(nodes.values(), a, b):
            path = (
                f"M{x1},{y1} C{x1},{y1 + 24} {lane},{y1 + 8} {lane},{y1 + 40} "
                f"L{lane},{y2 - 40} C{lane},{y2 - 8} {x2},{y2 - 24} {x2},{y2}"
            )
            edges.append(Edge(source, target, text, path, lane + 6, (y1 + y2) // 2, "start"))
            continue
        if y2 <= y1:  # an arrow back up (a circle in a draft): into the box's side
            x2, y2 = b.x + NODE_W, b.y + NODE_H // 2
        bend = max(24, (y2 - y1) // 2)
        path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
        # Labelled just above the box it leads to: arrows fanning out of one survey
        # end at different boxes, so their labels never sit on each other.
        edges.append(Edge(source, target, text, path, x2, y2 - 8, "middle"))
    if any(e.anchor == "start" for e in edges):
        width = lane + LANE_LABEL
    rows_count = max(rows, default=0) + 1
    height = PAD * 2 + rows_count * NODE_H + (rows_count - 1) * GAP_Y
    return Graph(list(nodes.values()), edges, width, height)


def _join(labels: list[str]) -> str | None:
    """One arrow's reasons: the first, and how many more lead the same way."""
    if not labels:
        return None
    first = labels[0] if len(labels[0]) <= 24 else labels[0][:23] + "…"
    return first if len(labels) == 1 else f"{first} +{len(labels) - 1}"


def _blocked(nodes: Any, a: Node, b: Node) -> bool:
    """Whether a box of a row between ``a`` and ``b`` stands in the straight arrow's way."""
    low, high = sorted((a.x, b.x))
    return any(a.y < n.y < b.y and n.x < high + NODE_W and n.x + NODE_W > low for n in nodes)


def _label(step: dict[str, Any]) -> str:
    kind = step.get("kind", "")
    if kind == "offer" and isinstance(step.get("offer"), dict):
        return describe_offer(step["offer"])
    return KIND_LABELS.get(kind, kind)
