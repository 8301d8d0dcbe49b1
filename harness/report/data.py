"""The numbers behind a report: runs found on disk, leaderboards, paired comparisons, reranking."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.analysis.stats import mcnemar_exact, paired_bootstrap, pearson, returns_to_go
from harness.leaderboard import EPISODE_COLUMNS, LEADERBOARD_COLUMNS, episodes_frame, leaderboard
from harness.records import EpisodeRecord, latest_per_episode
from harness.store import EPISODES, BadArchive, RunStore

UNKNOWN = "unknown"
Steps = list[dict[str, Any]]
EpisodeId = tuple[str, str, str, int]  # run, env, agent, seed


class ReportInputError(ValueError):
    """The paths given to the report hold no usable run."""


@dataclass
class Run:
    """One run directory as read from disk."""

    path: Path
    label: str
    records: list[EpisodeRecord]
    info: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def fingerprints(self) -> dict[str, str]:
        """Env id -> env fingerprint, from ``run.json`` (empty when it is missing)."""
        return {str(k): str(v) for k, v in dict(self.info.get("env_fingerprints") or {}).items()}

    @property
    def commit(self) -> str:
        """The git commit that produced the run."""
        return str(self.info.get("git_commit") or UNKNOWN)

    @cached_property
    def store(self) -> RunStore:
        """The run dir's store (read only; its archive, if packed, opened once)."""
        return RunStore(self.path)

    def trajectory(self, env_id: str, agent: str, seed: int) -> Steps | None:
        """The stored step lines of an episode (loose or packed); None when missing or
        unreadable."""
        try:
            return self.store.trajectory(env_id, agent, seed)
        except (OSError, ValueError):
            return None


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run dirs named by ``paths``: a dir with episodes.jsonl, or every run below a dir."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            raise ReportInputError(f"{str(p)!r} is not a directory: give run dirs or results/")
        if (p / EPISODES).exists():
            found.append(p)
            continue
        below = []
        for root, dirs, files in os.walk(p):
            if EPISODES in files:
                below.append(Path(root))
                dirs.clear()
            dirs.sort()
        if not below:
            raise ReportInputError(
                f"no run under {str(p)!r} (a run dir holds {EPISODES}; "
                "make one with python -m harness.run)"
            )
        found.extend(sorted(below))
    return list(dict.fromkeys(q.resolve() for q in found))


def _labels(paths: Sequence[Path]) -> list[str]:
    depth = 1
    while True:
        labels = ["/".join(p.parts[-depth:]) for p in paths]
        if len(set(labels)) == len(labels) or depth > max(len(p.parts) for p in paths):
            return labels
        depth += 1


def load_runs(paths: Sequence[Path]) -> list[Run]:
    """Read each run dir (records deduplicated by episode key, latest wins)."""
    runs = []
    for path, label in zip(paths, _labels(paths), strict=True):
        problems = []
        records = latest_per_episode(RunStore(path).load())
        if not records:
            problems.append("no finished episodes")
        try:
            info = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
            problems.append("run.json missing or unreadable: env fingerprints unknown")
        run = Run(path, label, records, info, problems)
        try:
            run.store.members()
        except BadArchive as exc:
            problems.append(str(exc))
        runs.append(run)
    return runs


@dataclass
class ReportData:
    """Everything a report shows, computed once."""

    runs: list[Run]
    episodes: pd.DataFrame
    board: pd.DataFrame
    trajectories: dict[EpisodeId, Steps | None]

    def entries(self, env_id: str) -> list[str]:
        """The (run, agent) entry labels that played ``env_id``, sorted."""
        return sorted(self.board.loc[self.board["env_id"] == env_id, "entry"])

    @property
    def env_ids(self) -> list[str]:
        """Env ids in the report, sorted."""
        return sorted(set(self.board["env_id"]))


def build(runs: list[Run]) -> ReportData:
    """Episode frame and leaderboard over all runs, with entry labels and fingerprint flags."""
    multi = sum(1 for r in runs if r.records) > 1
    frames, boards = [], []
    trajectories: dict[EpisodeId, Steps | None] = {}
    for run in runs:
        if not run.records:
            continue
        ep = episodes_frame(run.records)
        ep.insert(0, "run", run.label)
        board = leaderboard(ep, run.fingerprints, run.commit)
        board.insert(0, "run", run.label)
        ep["env_fingerprint"] = ep["env_id"].map(lambda e, r=run: r.fingerprints.get(e, UNKNOWN))
        frames.append(ep)
        boards.append(board)
        for rec in run.records:
            trajectories[(run.label, rec.env_id, rec.agent, rec.seed)] = run.trajectory(
                rec.env_id, rec.agent, rec.seed
            )
        run.store.close_archive()
    if not frames:
        empty_board = pd.DataFrame(columns=["run", *LEADERBOARD_COLUMNS, "entry", "note"])
        empty_eps = pd.DataFrame(columns=["run", *EPISODE_COLUMNS, "env_fingerprint", "entry"])
        return ReportData(runs, empty_eps, empty_board, trajectories)
    episodes = pd.concat(frames, ignore_index=True)
    board = pd.concat(boards, ignore_index=True)
    for df in (episodes, board):
        df["entry"] = _entry(df, multi)
    board["note"] = _fingerprint_notes(board)
    board = board.sort_values(["env_id", "entry"], kind="stable").reset_index(drop=True)
    return ReportData(runs, episodes, board, trajectories)


def _entry(df: pd.DataFrame, multi: bool) -> pd.Series:
    if not multi:
        return df["agent"].astype(str)
    return df["agent"].astype(str) + " [" + df["run"].astype(str) + "]"


def agent_of(entry: str) -> str:
    """The agent name of a report entry (``agent`` or ``agent [run]``)."""
    return entry.split(" [", 1)[0]


def _fingerprint_notes(board: pd.DataFrame) -> list[str]:
    notes = []
    distinct = board.groupby("env_id")["env_fingerprint"].nunique()
    for _, row in board.iterrows():
        if row["env_fingerprint"] == UNKNOWN:
            notes.append("fingerprint unknown")
        elif distinct[row["env_id"]] > 1:
            notes.append("fingerprint differs")
        else:
            notes.append("")
    return notes


def paired_comparisons(data: ReportData, seed: int = 0) -> pd.DataFrame:
    """Every pair of entries of one env and fingerprint with shared seeds: A − B differences
    (paired bootstrap intervals; exact McNemar p-value for success)."""
    cols = ["env_id", "a", "b", "shared_seeds", "success_a", "success_b"]
    cols += ["success_diff", "success_low", "success_high", "success_p_mcnemar", "reward_diff"]
    cols += ["reward_low", "reward_high"]
    rows = []
    ep = data.episodes
    for env_id in data.env_ids:
        env_ep = ep[ep["env_id"] == env_id]
        by_entry = {e: g.set_index(["split", "seed"]) for e, g in env_ep.groupby("entry")}
        fps = env_ep.groupby("entry")["env_fingerprint"].first()
        for a, b in combinations(sorted(by_entry), 2):
            if fps[a] != fps[b] or UNKNOWN in (fps[a], fps[b]):
                continue
            shared = by_entry[a].index.intersection(by_entry[b].index).sort_values()
            if shared.empty:
                continue
            ga, gb = by_entry[a].loc[shared], by_entry[b].loc[shared]
            sa, sb = ga["success"].astype(float).to_numpy(), gb["success"].astype(float).to_numpy()
            ra, rb = ga["total_reward"].to_numpy(float), gb["total_reward"].to_numpy(float)
            rows.append(
                [
                    env_id,
                    a,
                    b,
                    len(shared),
                    sa.mean(),
                    sb.mean(),
                    *paired_bootstrap(sa, sb, seed=seed),
                    mcnemar_exact(sa, sb),
                    *paired_bootstrap(ra, rb, seed=seed),
                ]
            )
    return pd.DataFrame(rows, columns=cols)


LIFT = ("react-q", "react")
"""(guided, base): the comparison a report shows first."""


def lift_rows(pairs: pd.DataFrame, guided: str = LIFT[0], base: str = LIFT[1]) -> pd.DataFrame:
    """The rows of ``paired_comparisons`` between ``guided`` and ``base``, oriented as
    guided − base (A = guided)."""
    out = []
    for r in pairs.to_dict("records"):
        agents = (agent_of(r["a"]), agent_of(r["b"]))
        if agents == (guided, base):
            out.append(r)
        elif agents == (base, guided):
            flipped = {**r, "a": r["b"], "b": r["a"]}
            flipped["success_a"], flipped["success_b"] = r["success_b"], r["success_a"]
            for m in ("success", "reward"):
                flipped[f"{m}_diff"] = -r[f"{m}_diff"]
                flipped[f"{m}_low"], flipped[f"{m}_high"] = -r[f"{m}_high"], -r[f"{m}_low"]
            out.append(flipped)
    return pd.DataFrame(out, columns=pairs.columns)


def cost_table(data: ReportData) -> pd.DataFrame:
    """Tokens and seconds per episode and per success, for each env and entry."""
    cols = ["env_id", "entry", "episodes", "successes", "success_rate", "tokens_per_episode"]
    cols += ["seconds_per_episode", "tokens_per_success", "seconds_per_success"]
    rows = []
    for (env_id, entry), g in data.episodes.groupby(["env_id", "entry"], sort=True):
        wins = int(g["success"].astype(bool).sum())
        tokens = float((g["input_tokens"] + g["output_tokens"]).sum())
        secs = float(g["wall_s"].sum())
        per_win = 1.0 / wins if wins else float("nan")
        rows.append(
            [
                env_id,
                entry,
                len(g),
                wins,
                wins / len(g),
                tokens / len(g),
                secs / len(g),
                tokens * per_win,
                secs * per_win,
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def steps_to_success(data: ReportData) -> tuple[pd.DataFrame, dict[tuple[str, str], list[int]]]:
    """Summary of steps taken in won episodes, and the raw step counts per (env, entry)."""
    cols = ["env_id", "entry", "successes", "min", "median", "mean", "max"]
    rows, raw = [], {}
    for (env_id, entry), g in data.episodes.groupby(["env_id", "entry"], sort=True):
        steps = g.loc[g["success"].astype(bool), "steps"].astype(int).tolist()
        raw[(str(env_id), str(entry))] = steps
        x = np.asarray(steps, dtype=float)
        stats = [x.min(), np.median(x), x.mean(), x.max()] if steps else [float("nan")] * 4
        rows.append([env_id, entry, len(steps), *stats])
    return pd.DataFrame(rows, columns=cols), raw


def step_lines(steps: Steps | None) -> tuple[Steps, dict[str, Any] | None]:
    """Split a trajectory into its step lines and its terminal line (if present)."""
    steps = steps or []
    body = [s for s in steps if not dict(s.get("meta") or {}).get("terminal")]
    final = next((s for s in steps if dict(s.get("meta") or {}).get("terminal")), None)
    return body, final


def top_actions(candidates: Iterable[dict[str, Any]]) -> set[str]:
    """Actions of the candidates with the highest policy logprob (empty when none has one)."""
    lps = [(c.get("logprob"), str(c.get("action"))) for c in candidates]
    known = [(float(lp), a) for lp, a in lps if lp is not None]
    if not known:
        return set()
    best = max(lp for lp, _ in known)
    return {a for lp, a in known if lp == best}


def rerank_analysis(data: ReportData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per entry: how often the chosen action is not the policy's top candidate; and the
    calibration points (chosen action's score vs the realised return from that step)."""
    sum_cols = ["env_id", "entry", "episodes", "reranked_steps", "steps_with_logprobs"]
    sum_cols += ["differs_from_top", "differs_rate", "chosen_not_in_candidates", "scorers"]
    pt_cols = ["env_id", "entry", "scorer", "score", "return", "success", "seed", "t"]
    summary, points = [], []
    for (env_id, entry), g in data.episodes.groupby(["env_id", "entry"], sort=True):
        n_eps = reranked = with_lp = differs = missing = 0
        scorers: set[str] = set()
        for row in g.itertuples():
            body, _ = step_lines(data.trajectories.get((row.run, env_id, row.agent, row.seed)))
            rtg = returns_to_go(body)
            hit = False
            for i, step in enumerate(body):
                cands = list(step.get("candidates") or [])
                if not cands:
                    continue
                hit, reranked = True, reranked + 1
                action = str(step.get("action"))
                tops = top_actions(cands)
                if tops:
                    with_lp += 1
                    differs += action not in tops
                chosen = next((c for c in cands if str(c.get("action")) == action), None)
                if chosen is None:
                    missing += 1
                    continue
                for name, value in dict(chosen.get("scores") or {}).items():
                    if value is None or not np.isfinite(float(value)):
                        continue
                    scorers.add(str(name))
                    points.append(
                        [
                            env_id,
                            entry,
                            str(name),
                            float(value),
                            rtg[i],
                            bool(row.success),
                            int(row.seed),
                            int(step.get("t", i)),
                        ]
                    )
            n_eps += hit
        if reranked:
            rate = differs / with_lp if with_lp else float("nan")
            summary.append(
                [
                    env_id,
                    entry,
                    n_eps,
                    reranked,
                    with_lp,
                    differs,
                    rate,
                    missing,
                    ", ".join(sorted(scorers)),
                ]
            )
    return pd.DataFrame(summary, columns=sum_cols), pd.DataFrame(points, columns=pt_cols)


def calibration_summary(points: pd.DataFrame) -> pd.DataFrame:
    """Per env, entry and scorer: points, mean score, mean return and their correlation."""
    cols = ["env_id", "entry", "scorer", "points", "mean_score", "mean_return", "pearson_r"]
    rows = []
    for (env_id, entry, scorer), g in points.groupby(["env_id", "entry", "scorer"], sort=True):
        rows.append(
            [
                env_id,
                entry,
                scorer,
                len(g),
                g["score"].mean(),
                g["return"].mean(),
                pearson(g["score"], g["return"]),
            ]
        )
    return pd.DataFrame(rows, columns=cols)
