"""The management flowchart (management.md §9), rendered from the same protocol data the engine evaluates.

Three faces of one protocol: Mermaid text (as §9.1 prints it), a standalone SVG drawn here without any
external renderer (a layered layout: longest-path layers, dummy nodes for long edges, barycentre ordering),
and an HTML page with the SVG, the node/rule table and the edge guards in machine form (§9.2, §9.3).

Solid arrows are edges the engine evaluates on a snapshot; dashed arrows are temporal transitions ("grade
rises", "after the suggestion") that a single snapshot cannot see and that are drawn for the reader only.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from itertools import pairwise

from crsguard.management.protocol import Comparison, Condition, Edge, NodeShape, Protocol

# ---------------------------------------------------------------------------------------- conditions in words


def describe_condition(condition: Condition | None) -> str:
    """A condition in words, e.g. 'crs_grade = 2 and crs_response in {not_improving, worsening}'."""
    if condition is None:
        return "always"
    parts = []
    for name in condition.model_fields_set - {"any_of"}:
        value = getattr(condition, name)
        if value is None:
            continue
        if isinstance(value, Comparison):
            parts.append(f"{name} {value.describe()}")
        elif isinstance(value, list):
            parts.append(f"{name} in {{{', '.join(getattr(item, 'value', str(item)) for item in value)}}}")
        elif isinstance(value, bool):
            parts.append(name if value else f"not {name}")
        else:
            parts.append(f"{name} = {getattr(value, 'value', value)}")
    parts.sort()
    if condition.any_of:
        parts.append("(" + " or ".join(describe_condition(branch) for branch in condition.any_of) + ")")
    return " and ".join(parts)


def _rule_ids(protocol: Protocol, node_id: str) -> list[str]:
    return [rule.id for rule in protocol.rules_at(node_id)]


# ---------------------------------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(protocol: Protocol) -> str:
    """Mermaid `flowchart TD` text: node labels with their rule ids, edges with their ids and labels."""
    lines = [f"%% {protocol.title} (protocol {protocol.id}, {protocol.version})", "flowchart TD"]
    shapes = {
        NodeShape.TERMINAL: ('(["', '"])'),
        NodeShape.DECISION: ('{"', '"}'),
        NodeShape.STEP: ('["', '"]'),
    }
    for node in protocol.nodes:
        rules = _rule_ids(protocol, node.id)
        label = node.label + (f"<br/><small>rules: {', '.join(rules)}</small>" if rules else "")
        opening, closing = shapes[node.shape]
        lines.append(f"  {node.id}{opening}{_mermaid_text(label)}{closing}")
    lines.append("")
    for edge in protocol.edges:
        arrow = "-->" if edge.evaluated else "-.->"
        lines.append(f'  {edge.source} {arrow}|"{_mermaid_text(f"{edge.id}: {edge.label}")}"| {edge.target}')
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- SVG layout

NODE_WIDTH = 230.0
CHAR_WIDTH = 6.4  # average advance of 12 px sans-serif
LINE_HEIGHT = 15.0
LAYER_GAP = 62.0
COLUMN_GAP = 34.0
MARGIN = 30.0
DUMMY_WIDTH = 14.0
FILL_BY_PREFIX = (
    ("C", "#dbeafe"),  # CRS
    ("D", "#dcfce7"),  # de-escalation
    ("N", "#ede9fe"),  # ICANS
    ("H", "#ffedd5"),  # IEC-HS
    ("F", "#fee2e2"),  # fever, febrile neutropenia
)


@dataclass
class _Box:
    id: str
    lines: list[str]
    rule_line: str
    shape: NodeShape | None  # None for a dummy (a bend point of a long edge)
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = NODE_WIDTH
    height: float = 0.0

    @property
    def dummy(self) -> bool:
        return self.shape is None


@dataclass
class _Layout:
    boxes: dict[str, _Box] = field(default_factory=dict)
    layers: list[list[str]] = field(default_factory=list)
    chains: dict[str, list[str]] = field(default_factory=dict)  # edge id → box ids from source to target
    back_edges: list[Edge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _forward_edges(protocol: Protocol) -> tuple[list[Edge], list[Edge]]:
    """Split edges into forward (acyclic, from a DFS from the start node) and back edges."""
    children: dict[str, list[Edge]] = {node.id: [] for node in protocol.nodes}
    for edge in protocol.edges:
        children[edge.source].append(edge)
    state: dict[str, int] = {}
    back: set[str] = set()

    def visit(node_id: str) -> None:
        state[node_id] = 1
        for edge in children[node_id]:
            if state.get(edge.target) == 1:
                back.add(edge.id)
            elif edge.target not in state:
                visit(edge.target)
        state[node_id] = 2

    for root in [protocol.start] + [node.id for node in protocol.nodes]:
        if root not in state:
            visit(root)
    forward = [edge for edge in protocol.edges if edge.id not in back]
    return forward, [edge for edge in protocol.edges if edge.id in back]


def _layers(protocol: Protocol, forward: list[Edge]) -> dict[str, int]:
    """Longest-path layering over the forward edges."""
    layer = {node.id: 0 for node in protocol.nodes}
    for _ in protocol.nodes:
        changed = False
        for edge in forward:
            if layer[edge.target] < layer[edge.source] + 1:
                layer[edge.target] = layer[edge.source] + 1
                changed = True
        if not changed:
            break
    return layer


def _node_box(protocol: Protocol, node_id: str) -> _Box:
    node = protocol.node(node_id)
    chars = int((NODE_WIDTH - 24) / CHAR_WIDTH)
    lines = textwrap.wrap(f"{node.id} · {node.label}", chars, break_on_hyphens=False) or [node.id]
    rules = _rule_ids(protocol, node_id)
    rule_line = "rules: " + ", ".join(rules) if rules else ""
    rule_lines = textwrap.wrap(rule_line, int(chars * 1.15), break_on_hyphens=False) if rule_line else []
    height = 14 + LINE_HEIGHT * len(lines) + 12.5 * len(rule_lines) + (6 if rule_lines else 0)
    return _Box(node_id, lines, "\n".join(rule_lines), node.shape, height=height)


def _order_layers(layout: _Layout, forward_pairs: list[tuple[str, str]]) -> None:
    """Barycentre ordering, a few down and up sweeps (reduces crossings)."""
    ups: dict[str, list[str]] = {}
    downs: dict[str, list[str]] = {}
    for source, target in forward_pairs:
        downs.setdefault(source, []).append(target)
        ups.setdefault(target, []).append(source)
    for sweep in range(8):
        indices = range(1, len(layout.layers)) if sweep % 2 == 0 else range(len(layout.layers) - 2, -1, -1)
        neighbours = ups if sweep % 2 == 0 else downs
        for index in indices:
            reference = layout.layers[index - 1] if sweep % 2 == 0 else layout.layers[index + 1]
            position = {box_id: pos for pos, box_id in enumerate(reference)}
            current = layout.layers[index]
            keys = {}
            for rank, box_id in enumerate(current):
                linked = [position[other] for other in neighbours.get(box_id, []) if other in position]
                keys[box_id] = sum(linked) / len(linked) if linked else float(rank)
            current.sort(key=keys.__getitem__)


def layout_protocol(protocol: Protocol) -> _Layout:
    """Compute box positions for the SVG."""
    forward, back = _forward_edges(protocol)
    layer_of = _layers(protocol, forward)
    layout = _Layout(back_edges=back)
    for node in protocol.nodes:
        box = _node_box(protocol, node.id)
        box.layer = layer_of[node.id]
        layout.boxes[node.id] = box
    depth = max(layer_of.values()) + 1
    layout.layers = [
        [node.id for node in protocol.nodes if layer_of[node.id] == index] for index in range(depth)
    ]
    pairs: list[tuple[str, str]] = []
    for edge in forward:
        chain = [edge.source]
        for step in range(layer_of[edge.source] + 1, layer_of[edge.target]):
            dummy = _Box(f"{edge.id}~{step}", [], "", None, layer=step, width=DUMMY_WIDTH, height=10.0)
            layout.boxes[dummy.id] = dummy
            layout.layers[step].append(dummy.id)
            chain.append(dummy.id)
        chain.append(edge.target)
        layout.chains[edge.id] = chain
        pairs += list(pairwise(chain))
    _order_layers(layout, pairs)
    _place(layout, pairs)
    return layout


def _place(layout: _Layout, pairs: list[tuple[str, str]]) -> None:
    """Vertical positions by layer; horizontal positions pulled towards the neighbours' mean (fewer bends)."""
    y = MARGIN + 40
    for layer in layout.layers:
        tallest = max((layout.boxes[box_id].height for box_id in layer), default=0.0)
        x = MARGIN
        for box_id in layer:
            box = layout.boxes[box_id]
            box.x, box.y = x, y + (tallest - box.height) / 2
            x += box.width + COLUMN_GAP
        y += tallest + LAYER_GAP
    neighbours: dict[str, list[str]] = {}
    for source, target in pairs:
        neighbours.setdefault(source, []).append(target)
        neighbours.setdefault(target, []).append(source)
    for _ in range(30):
        for layer in layout.layers:
            _pull_layer(layout, layer, neighbours)
    left = min(box.x for box in layout.boxes.values())
    for box in layout.boxes.values():
        box.x += MARGIN - left
    right = max(box.x + box.width for box in layout.boxes.values())
    layout.width, layout.height = right + MARGIN + 40, y + MARGIN


def _pull_layer(layout: _Layout, layer: list[str], neighbours: dict[str, list[str]]) -> None:
    """Move a layer's boxes towards their neighbours, keeping order and spacing (two passes, averaged)."""
    boxes = [layout.boxes[box_id] for box_id in layer]
    desired = []
    for box in boxes:
        linked = [layout.boxes[other] for other in neighbours.get(box.id, [])]
        centre = sum(o.x + o.width / 2 for o in linked) / len(linked) if linked else box.x + box.width / 2
        desired.append(centre - box.width / 2)
    left_pass, right_pass = list(desired), list(desired)
    for index in range(1, len(boxes)):
        minimum = left_pass[index - 1] + boxes[index - 1].width + COLUMN_GAP
        left_pass[index] = max(left_pass[index], minimum)
    for index in range(len(boxes) - 2, -1, -1):
        maximum = right_pass[index + 1] - boxes[index].width - COLUMN_GAP
        right_pass[index] = min(right_pass[index], maximum)
    for index, box in enumerate(boxes):
        box.x = (left_pass[index] + right_pass[index]) / 2
    for index in range(1, len(boxes)):  # averaging can reintroduce overlaps: resolve left to right
        minimum = boxes[index - 1].x + boxes[index - 1].width + COLUMN_GAP
        boxes[index].x = max(boxes[index].x, minimum)


# ------------------------------------------------------------------------------------------------ SVG drawing


def _fill(node_id: str) -> str:
    for prefix, colour in FILL_BY_PREFIX:
        if node_id.startswith(prefix):
            return colour
    return "#f1f5f9"


def _rect(x: float, y: float, width: float, height: float, radius: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="{radius:.1f}" '
        f'fill="{fill}" stroke="#334155"/>'
    )


def _shape_svg(box: _Box) -> str:
    x, y, w, h = box.x, box.y, box.width, box.height
    fill = _fill(box.id)
    if box.shape is NodeShape.TERMINAL:
        return _rect(x, y, w, h, h / 2, fill)
    if box.shape is NodeShape.DECISION:
        inset = 12.0
        points = [
            (x + inset, y),
            (x + w - inset, y),
            (x + w, y + h / 2),
            (x + w - inset, y + h),
            (x + inset, y + h),
            (x, y + h / 2),
        ]
        return '<polygon points="{}" fill="#fef9c3" stroke="#334155"/>'.format(
            " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        )
    return _rect(x, y, w, h, 4.0, fill)


def _node_svg(box: _Box) -> str:
    parts = [_shape_svg(box)]
    text_y = box.y + 18
    for line in box.lines:
        parts.append(
            f'<text x="{box.x + box.width / 2:.1f}" y="{text_y:.1f}" text-anchor="middle" class="label">'
            f"{html.escape(line)}</text>"
        )
        text_y += LINE_HEIGHT
    for line in box.rule_line.splitlines():
        parts.append(
            f'<text x="{box.x + box.width / 2:.1f}" y="{text_y + 2:.1f}" text-anchor="middle" class="rules">'
            f"{html.escape(line)}</text>"
        )
        text_y += 12.5
    return "\n".join(parts)


def _edge_label(edge: Edge) -> str:
    return f"{edge.id}: {edge.label}" if len(edge.label) <= 22 else edge.id


def _smooth_path(points: list[tuple[float, float]]) -> str:
    """A Catmull-Rom curve through the bend points of a long edge (straight when there is no bend)."""
    if len(points) == 2:
        (x1, y1), (x2, y2) = points
        return f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}"
    padded = [points[0], *points, points[-1]]
    parts = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
    for index in range(1, len(padded) - 2):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = padded[index - 1 : index + 3]
        c1 = (x1 + (x2 - x0) / 6, y1 + (y2 - y0) / 6)
        c2 = (x2 - (x3 - x1) / 6, y2 - (y3 - y1) / 6)
        parts.append(f"C {c1[0]:.1f} {c1[1]:.1f}, {c2[0]:.1f} {c2[1]:.1f}, {x2:.1f} {y2:.1f}")
    return " ".join(parts)


def _forward_edge_svg(edge: Edge, layout: _Layout, crowded_targets: set[str]) -> str:
    chain = [layout.boxes[box_id] for box_id in layout.chains[edge.id]]
    points = [(chain[0].x + chain[0].width / 2, chain[0].y + chain[0].height)]
    points += [(box.x + box.width / 2, box.y + box.height / 2) for box in chain[1:-1]]
    points.append((chain[-1].x + chain[-1].width / 2, chain[-1].y))
    path = _smooth_path(points)
    dash = "" if edge.evaluated else ' stroke-dasharray="5 4"'
    # labels near the target, unless many edges converge there (then near the source)
    if edge.target in crowded_targets:
        (x1, y1), (x2, y2), share = points[0], points[1], 0.4
    else:
        (x1, y1), (x2, y2), share = points[-2], points[-1], 0.55
    label_x, label_y = x1 + (x2 - x1) * share, y1 + (y2 - y1) * share
    label = html.escape(_edge_label(edge))
    return (
        f'<path d="{path}" fill="none" stroke="#475569" stroke-width="1.2"{dash} marker-end="url(#arrow)"/>\n'
        f'<text x="{label_x + 3:.1f}" y="{label_y:.1f}" class="edge">{label}</text>'
    )


def _back_edges_svg(layout: _Layout) -> str:
    """Return transitions (back edges) listed in a box: curves across the graph would hide the main flow."""
    if not layout.back_edges:
        return ""
    lines = [
        f"{edge.id}: {edge.source} → {edge.target}, {edge.label}" + ("" if edge.evaluated else " (temporal)")
        for edge in layout.back_edges
    ]
    x, y = MARGIN, layout.height
    height = 24 + 14 * len(lines)
    parts = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{layout.width - 2 * MARGIN:.1f}" height="{height:.1f}" rx="4" '
        'fill="#f8fafc" stroke="#94a3b8" stroke-dasharray="5 4"/>',
        f'<text x="{x + 10:.1f}" y="{y + 17:.1f}" class="label">'
        "Return transitions (drawn as a list to keep the flow readable):</text>",
    ]
    parts += [
        f'<text x="{x + 16:.1f}" y="{y + 33 + 14 * index:.1f}" class="edge">{html.escape(line)}</text>'
        for index, line in enumerate(lines)
    ]
    layout.height += height + MARGIN
    return "\n".join(parts)


def to_svg(protocol: Protocol) -> str:
    """A standalone SVG of the protocol's state graph."""
    layout = layout_protocol(protocol)
    title = html.escape(f"{protocol.title} — protocol '{protocol.id}' ({protocol.version})")
    legend = (
        "Solid arrows: evaluated by the engine on each snapshot; "
        "dashed: temporal transitions drawn for the reader. "
        "Decision support — not an order."
    )
    parts = [
        "<style>.label{font-size:12px;fill:#0f172a}.rules{font-size:10px;fill:#475569;font-style:italic}"
        ".edge{font-size:10px;fill:#334155}.back{fill:#64748b}.title{font-size:15px;font-weight:bold}"
        ".legend{font-size:11px;fill:#475569}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker>'
        '<marker id="arrow-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{MARGIN}" y="{MARGIN}" class="title">{title}</text>',
        f'<text x="{MARGIN}" y="{MARGIN + 18}" class="legend">{html.escape(legend)}</text>',
    ]
    incoming: dict[str, int] = {}
    for edge in protocol.edges:
        incoming[edge.target] = incoming.get(edge.target, 0) + 1
    crowded = {node_id for node_id, count in incoming.items() if count > 3}
    parts += [_forward_edge_svg(edge, layout, crowded) for edge in protocol.edges if edge.id in layout.chains]
    parts += [_node_svg(box) for box in layout.boxes.values() if not box.dummy]
    parts.append(_back_edges_svg(layout))
    parts.append("</svg>")
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" height="{layout.height:.0f}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" font-family="DejaVu Sans, Arial, sans-serif">'
    )
    return "\n".join([header, *parts]) + "\n"


# ------------------------------------------------------------------------------------------------------ HTML


def to_html(protocol: Protocol) -> str:
    """A self-contained page (no JavaScript): the SVG, node/rule table, edge guards and Mermaid text."""
    esc = html.escape
    rule_rows = "\n".join(
        f"<tr><td>{esc(rule.node)}</td><td>{esc(rule.id)}</td><td>{esc(rule.title)}</td><td>{rule.role.value}</td>"
        f"<td>{esc(describe_condition(rule.when))}</td><td>{esc(rule.source)}</td><td>{esc(rule.evidence)}</td></tr>"
        for rule in protocol.rules
    )
    edge_rows = "\n".join(
        f"<tr><td>{edge.id}</td><td>{edge.source}</td><td>{edge.target}</td><td>{esc(edge.label)}</td>"
        f"<td>{esc(describe_condition(edge.guard)) if edge.evaluated else 'temporal (display only)'}"
        "</td></tr>"
        for edge in protocol.edges
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(protocol.title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #cbd5e1;padding:3px 6px;vertical-align:top}}th{{background:#f1f5f9}}
.banner{{background:#fef3c7;padding:6px 10px;border:1px solid #f59e0b}}</style></head><body>
<h1>{esc(protocol.title)}</h1>
<p class="banner">Decision support — not an order. Protocol <code>{esc(protocol.id)}</code>, version
{esc(protocol.version)}; applies to {", ".join(item.value for item in protocol.applies_to)}.</p>
<p>{esc(protocol.description or "")}</p>
{to_svg(protocol)}
<h2>Rules (entry actions of the nodes)</h2>
<table><tr><th>node</th><th>rule</th><th>title</th><th>role</th><th>conditions</th><th>source</th><th>evidence</th></tr>
{rule_rows}
</table>
<h2>Edges and guards</h2>
<table><tr><th>edge</th><th>from</th><th>to</th><th>label</th><th>guard (machine form)</th></tr>
{edge_rows}
</table>
<h2>Mermaid source</h2>
<pre>{esc(to_mermaid(protocol))}</pre>
</body></html>
"""
