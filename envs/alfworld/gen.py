"""Generate ALFWorld games from what the ``alfworld`` package ships.

A game is a room (an AI2-THOR layout: its receptacles and navigation points from
``alfworld/gen/layouts``), target and distractor objects placed by ALFWorld's constants
tables (which object fits which receptacle, which are heatable/coolable/cleanable), a goal
from ALFWorld's goal library (PDDL goal + text template) and ALFWorld's PDDL domain and
twl2 grammar. The output is a ``game.tw-pddl`` + ``traj_data.json`` pair in ALFWorld's own
format, so ALFWorld's loader and engine play it unchanged. Every game is checked solvable:
the planner expert's plan, played on the engine, must reach the goal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from envs.alfworld.engine import AlfredEngine, alfworld_dir, import_alfworld

# ALFWorld's six task types, in ALFWorld's order (alfred_tw_env.TASK_TYPES 1..6).
TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
APPLIANCE = {  # receptacle type the task's state change needs (from the PDDL domain)
    "pick_clean_then_place_in_recep": "SinkBasin",
    "pick_heat_then_place_in_recep": "Microwave",
    "pick_cool_then_place_in_recep": "Fridge",
}
ABILITY = {  # constants.VAL_ACTION_OBJECTS key the target object needs
    "pick_clean_then_place_in_recep": "Cleanable",
    "pick_heat_then_place_in_recep": "Heatable",
    "pick_cool_then_place_in_recep": "Coolable",
}
LAMPS = ("DeskLamp", "FloorLamp")
LAMP_HOLDERS = ("Desk", "SideTable", "Dresser", "Shelf", "CoffeeTable", "DiningTable", "TVStand")
GEN_VERSION = 1
MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class GenConfig:
    """Size of generated rooms: at most this many receptacles and objects (the engine slows
    down as they grow: ~6 receptacles play several times faster than a full 25-receptacle room)."""

    max_receptacles: int = 8
    max_objects: int = 10

    def __post_init__(self) -> None:
        if not 4 <= self.max_receptacles <= 60:
            raise ValueError(f"max_receptacles must be in 4..60, got {self.max_receptacles}")
        if not 3 <= self.max_objects <= 80:
            raise ValueError(f"max_objects must be in 3..80, got {self.max_objects}")


@dataclass(frozen=True)
class Layout:
    """One AI2-THOR room as ALFWorld ships it: receptacle ids with their navigation points and
    the object types present."""

    scene: int
    receptacles: dict[str, tuple[float, float, int, int]]
    object_types: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedGame:
    """A generated game: ALFWorld's two files as JSON-able dicts, and the checked plan."""

    game: dict[str, Any]
    traj_data: dict[str, Any]
    task_dir: str  # ALFWorld's "<task_type>-<Obj>-None-<Parent|Toggle>-<scene>" folder name
    plan: list[str]


def rtype(rid: str) -> str:
    """Receptacle type of an ALFRED id ("Sink|..|..|..|SinkBasin" -> "SinkBasin")."""
    parts = rid.split("|")
    return parts[4] if len(parts) > 4 else parts[0]


@lru_cache(maxsize=256)
def load_layout(scene: int) -> Layout:
    """The shipped layout of ``FloorPlan<scene>``."""
    base = alfworld_dir() / "gen" / "layouts" / f"FloorPlan{scene}"
    points = json.loads((base.parent / f"{base.name}-openable.json").read_text())
    types = json.loads((base.parent / f"{base.name}-objects.json").read_text())
    recs = {k: (float(v[0]), float(v[1]), int(v[2]), int(v[3])) for k, v in sorted(points.items())}
    return Layout(scene, recs, tuple(sorted(set(types))))


def _constants() -> Any:
    import_alfworld()
    import alfworld.gen.constants as constants

    return constants


def scenes_for(task_type: str, unseen: bool) -> list[int]:
    """Scenes where ALFRED allows ``task_type``: ALFRED's train rooms, or its test rooms when
    ``unseen``."""
    c = _constants()
    rooms = c.GOALS_VALID[task_type]
    nums = c.TEST_SCENE_NUMBERS if unseen else c.TRAIN_SCENE_NUMBERS
    return [n for n in nums if any(n in c.SCENE_TYPE[r] for r in rooms)]


def _fits(rt: str, ot: str) -> bool:
    return ot in _constants().VAL_RECEPTACLE_OBJECTS.get(rt, ())


def _movable(layout: Layout) -> list[str]:
    c = _constants()
    placeable = set().union(*c.VAL_RECEPTACLE_OBJECTS.values())
    return [t for t in layout.object_types if t in placeable and not t.endswith("Sliced")]


def goal_choices(layout: Layout, task_type: str) -> list[tuple[str, str]]:
    """Every (object type, parent receptacle type or lamp type) goal this room supports."""
    c = _constants()
    rtypes = sorted({rtype(r) for r in layout.receptacles})
    appliance = APPLIANCE.get(task_type)
    if appliance and appliance not in rtypes:
        return []
    objs = _movable(layout)
    if task_type in ABILITY:
        objs = [o for o in objs if o in c.VAL_ACTION_OBJECTS[ABILITY[task_type]]]
    if task_type == "look_at_obj_in_light":
        lamps = [lt for lt in LAMPS if lt in layout.object_types]
        if not lamps or not any(rt in LAMP_HOLDERS for rt in rtypes):
            return []
        return [(o, lt) for o in objs for lt in lamps if _sources(layout, o, "", appliance)]
    return [
        (o, p)
        for o in objs
        for p in rtypes
        if p != appliance and _fits(p, o) and _sources(layout, o, p, appliance)
    ]


def _sources(layout: Layout, obj: str, parent: str, appliance: str | None) -> list[str]:
    """Receptacles a target may start in: it fits, and it is neither the goal's parent type nor
    the task's appliance (so the goal is not met, or half met, at the start)."""
    return [
        r
        for r in layout.receptacles
        if _fits(rtype(r), obj) and rtype(r) not in (parent, appliance)
    ]


def _coord(v: float) -> str:
    sign = "+" if v > 0 else "-" if v < 0 else ""
    return f"{sign}{abs(v):05.2f}"


def _loc(p: tuple[float, float, int, int]) -> str:
    return f"loc|{round(p[0] / 0.25)}|{round(p[1] / 0.25)}|{p[2] // 90}|{p[3]}"


def mangle(name: str) -> str:
    """ALFWorld's PDDL-safe spelling of an ALFRED id (PlannedGameState.fix_pddl_str_chars)."""
    for a, b in (
        ("-", "_minus_"),
        ("|", "_bar_"),
        ("+", "_plus_"),
        (".", "_dot_"),
        (",", "_comma_"),
    ):
        name = name.replace(a, b)
    return name


@dataclass
class _Room:
    """The sampled content of one game, before it is written as PDDL."""

    layout: Layout
    task_type: str
    obj: str
    target: str  # parent receptacle type, or lamp type for look_at_obj_in_light
    receptacles: list[str]
    objects: dict[str, str]  # object id -> receptacle id it starts in
    agent_at: str


def sample_room(
    layout: Layout, task_type: str, cfg: GenConfig, rng: np.random.Generator
) -> _Room | None:
    """Sample a goal and the room's content, or None when the room supports no such goal."""
    goals = goal_choices(layout, task_type)
    if not goals:
        return None
    obj, target = goals[int(rng.integers(len(goals)))]
    look = task_type == "look_at_obj_in_light"
    appliance = APPLIANCE.get(task_type)
    by_type: dict[str, list[str]] = {}
    for r in layout.receptacles:
        by_type.setdefault(rtype(r), []).append(r)
    required: list[str] = []

    def pick(rids: list[str]) -> str:
        rid = rids[int(rng.integers(len(rids)))]
        if rid not in required:
            required.append(rid)
        return rid

    if not look:
        pick(by_type[target])
    if appliance:
        pick(by_type[appliance])
    placed: dict[str, str] = {}
    sources = _sources(layout, obj, "" if look else target, appliance)
    n_targets = (
        int(rng.integers(2, 4))
        if task_type == "pick_two_obj_and_place"
        else int(rng.integers(1, 3))
    )
    for _ in range(n_targets):
        placed[f"{obj}#{len(placed)}"] = pick(sources)
    if look:
        holders = [r for r in layout.receptacles if rtype(r) in LAMP_HOLDERS]
        placed[f"{target}#lamp"] = pick(holders)
    if len(required) > cfg.max_receptacles:
        return None
    others = [r for r in layout.receptacles if r not in required]
    extra = rng.permutation(len(others))[: max(0, cfg.max_receptacles - len(required))]
    receptacles = sorted(required + [others[int(i)] for i in extra])
    fillers = [t for t in _movable(layout) if t != obj]
    for _ in range(4 * cfg.max_objects):
        if len(placed) >= cfg.max_objects or not fillers:
            break
        ot = fillers[int(rng.integers(len(fillers)))]
        fits = [r for r in receptacles if _fits(rtype(r), ot)]
        if fits:
            placed[f"{ot}#{len(placed)}"] = fits[int(rng.integers(len(fits)))]
    objects = _name_objects(layout, placed, rng)
    locs = {_loc(layout.receptacles[r]) for r in receptacles}
    xs = [p[0] for p in layout.receptacles.values()]
    zs = [p[1] for p in layout.receptacles.values()]
    agent_at = _loc((max(xs) + 1.0, max(zs) + 1.0, 0, 30))  # off the room's points
    for _ in range(100):
        x = float(rng.uniform(min(xs), max(xs)))
        z = float(rng.uniform(min(zs), max(zs)))
        spot = _loc((x, z, 90 * int(rng.integers(4)), 30))
        if spot not in locs:
            agent_at = spot
            break
    return _Room(layout, task_type, obj, target, receptacles, objects, agent_at)


def _name_objects(
    layout: Layout, placed: dict[str, str], rng: np.random.Generator
) -> dict[str, str]:
    """ALFRED-style ids ("Apple|+01.20|+00.95|-02.10") near the receptacle each object is in."""
    out: dict[str, str] = {}
    for key, rid in placed.items():
        ot = key.split("#")[0]
        parts = rid.split("|")
        base = [float(parts[1]), float(parts[2]), float(parts[3])]
        while True:
            d = rng.uniform([-0.3, 0.02, -0.3], [0.3, 0.35, 0.3])
            oid = (
                ot
                + "|"
                + "|".join(_coord(round(b + float(x), 2)) for b, x in zip(base, d, strict=True))
            )
            if oid not in out:
                break
        out[oid] = rid
    return out


def problem_pddl(room: _Room, name: str) -> str:
    """The room as a PDDL problem in the layout of ALFWorld's ``initial_state.pddl``."""
    c = _constants()
    from alfworld.gen import goal_library

    lay, recs, objs = room.layout, room.receptacles, room.objects
    otypes = sorted({o.split("|")[0] for o in objs} | {room.obj})
    rtypes = sorted(
        {rtype(r) for r in recs} | ({room.target} if room.task_type != TASK_TYPES[1] else set())
    )
    rlocs = {r: _loc(lay.receptacles[r]) for r in recs}
    locs = sorted(set(rlocs.values()) | {room.agent_at})
    m = mangle
    decl = ["agent1 - agent"]
    decl += [f"{t}Type - otype" for t in otypes] + [f"{t}Type - rtype" for t in rtypes]
    decl += [f"{m(o)} - object" for o in sorted(objs)] + [f"{m(r)} - receptacle" for r in recs]
    decl += [f"{m(loc)} - location" for loc in locs]
    facts = [f"(receptacleType {m(r)} {rtype(r)}Type)" for r in recs]
    facts += [f"(objectType {m(o)} {o.split('|')[0]}Type)" for o in sorted(objs)]
    facts += [
        f"(canContain {rt}Type {ot}Type)"
        for rt in sorted({rtype(r) for r in recs})
        for ot in otypes
        if _fits(rt, ot)
    ]
    for o in sorted(objs):
        ot = o.split("|")[0]
        if ot not in LAMPS:
            facts.append(f"(pickupable {m(o)})")
        if ot in c.MOVABLE_RECEPTACLES_SET:
            facts.append(f"(isReceptacleObject {m(o)})")
        for key, pred in (
            ("Cleanable", "cleanable"),
            ("Heatable", "heatable"),
            ("Coolable", "coolable"),
        ):
            if ot in c.VAL_ACTION_OBJECTS[key]:
                facts.append(f"({pred} {m(o)})")
        if ot in c.VAL_ACTION_OBJECTS["Toggleable"]:
            facts.append(f"(toggleable {m(o)})")
    facts += [f"(openable {m(r)})" for r in recs if rtype(r) in c.OPENABLE_CLASS_SET]
    facts.append(f"(atLocation agent1 {m(room.agent_at)})")
    facts += [f"(inReceptacle {m(o)} {m(r)})" for o, r in sorted(objs.items())]
    facts += [f"(receptacleAtLocation {m(r)} {m(rlocs[r])})" for r in recs]
    facts += [f"(objectAtLocation {m(o)} {m(rlocs[r])})" for o, r in sorted(objs.items())]
    goal = goal_library.gdict[room.task_type]["pddl"].format(
        obj=room.obj, recep=room.target, toggle=room.target, mrecep=""
    )
    sep = "\n        "
    return (
        f"\n(define (problem plan_{name})\n(:domain alfred)\n"
        f"(:objects\n{sep.join(decl)}\n        )\n"
        f"\n(:init\n{sep}{sep.join(facts)}\n        )\n\n{goal.replace('#', '-')}"
    )


def task_text(room: _Room, rng: np.random.Generator) -> str:
    """The goal sentence from ALFWorld's goal-library templates (as ``get_templated_task_desc``)."""
    from alfworld.gen import goal_library

    templates = goal_library.gdict[room.task_type]["templates"]
    template = templates[int(rng.integers(len(templates)))]
    low = room.obj.lower(), room.target.lower()
    return str(template.format(obj=low[0], recep=low[1], toggle=low[1], mrecep=""))


def game_files(
    room: _Room, name: str, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """ALFWorld's ``game.tw-pddl`` (domain, grammar with the goal filled in, problem) and
    ``traj_data.json`` for ``room``."""
    base = alfworld_dir() / "data"
    domain = (base / "alfred.pddl").read_text()
    grammar = (base / "alfred.twl2").read_text().replace("UNKNOWN GOAL", task_text(room, rng))
    look = room.task_type == "look_at_obj_in_light"
    traj = {
        "task_type": room.task_type,
        "task_id": name,
        "scene": {"floor_plan": f"FloorPlan{room.layout.scene}", "scene_num": room.layout.scene},
        "pddl_params": {
            "object_target": room.obj,
            "parent_target": "" if look else room.target,
            "toggle_target": room.target if look else "",
            "mrecep_target": "",
            "object_sliced": False,
        },
    }
    game = {"pddl_domain": domain, "grammar": grammar, "pddl_problem": problem_pddl(room, name)}
    return game, traj


def check_solvable(engine: AlfredEngine, path: str) -> list[str] | None:
    """The planner expert's plan from the start if playing it wins (and the start is not already
    won), else None."""
    engine.load(path)
    if engine.reset().won:
        return None
    plan = engine.plan()
    if not plan:
        return None
    for cmd in plan:
        st = engine.step(cmd)
        if not st.applied:
            return None
    return plan if st.won else None


def task_dir_name(room: _Room) -> str:
    """ALFWorld's task folder name, e.g. ``pick_heat_then_place_in_recep-Apple-None-Fridge-12``."""
    return f"{room.task_type}-{room.obj}-None-{room.target}-{room.layout.scene}"
