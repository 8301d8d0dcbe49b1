"""HTML pieces of a report: page shell, tables, and the collapsible trajectory viewer (no JS)."""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

from harness.report.data import ReportData, Steps, step_lines, top_actions

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;
background:#f6f7f9}
main{max-width:1400px;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:.6rem 0}h2{border-bottom:2px solid #d8dde3;padding-bottom:.2rem;
margin-top:2.2rem}h3{margin:1.4rem 0 .4rem}
nav{position:sticky;top:0;background:#1d232a;padding:.45rem 1.5rem;z-index:2}
nav a{color:#e8edf2;margin-right:1.1rem;text-decoration:none;font-size:.92rem}
nav a:hover{text-decoration:underline}
table{border-collapse:collapse;margin:.4rem 0 1rem;background:#fff;font-size:.86rem}
th,td{border:1px solid #d8dde3;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.flag td{background:#fff3cd}.leaderboard td:last-child{white-space:nowrap}
tr.chosen td{background:#e3f4e1}
.warn{background:#fff3cd;border-left:4px solid #e0a800;padding:.4rem .7rem}
.muted{color:#66707a}.scroll{overflow-x:auto;max-width:100%}.error{color:#a4161a}
svg.chart{max-width:100%;height:auto;background:#fff;border:1px solid #d8dde3;margin:.3rem 0}
details{margin:.25rem 0}summary{cursor:pointer}
details.entry>summary{font-weight:600}
details.episode{background:#fff;border:1px solid #d8dde3;border-radius:4px;padding:.25rem .6rem}
ol.steps{padding-left:1.6rem}ol.steps>li{margin:.2rem 0}
pre{white-space:pre-wrap;word-break:break-word;background:#f0f2f5;padding:.4rem .6rem;
margin:.25rem 0;max-height:18rem;overflow:auto;font-size:.82rem}
code{background:#eef1f4;padding:0 .25rem;border-radius:3px}
dl{margin:.2rem 0}dt{font-weight:600}dd{margin:0 0 .2rem 1rem}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.78rem;color:#fff}
.won{background:#2b8a3e}.lost{background:#868e96}.err{background:#a4161a}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value), quote=True)


def _is_num(text: str) -> bool:
    if text.startswith("[") and text.endswith("]"):  # an interval
        return all(_is_num(x.strip()) for x in text[1:-1].split(","))
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def table(view: pd.DataFrame, row_classes: list[str] | None = None, cls: str = "") -> str:
    """A table of pre-formatted string cells; numeric cells are right-aligned."""
    head = "".join(f"<th>{esc(c)}</th>" for c in view.columns)
    rows = []
    for i, row in enumerate(view.itertuples(index=False)):
        klass = row_classes[i] if row_classes else ""
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if _is_num(str(v)) else f"<td>{esc(v)}</td>"
            for v in row
        )
        rows.append(f'<tr class="{esc(klass)}">{cells}</tr>' if klass else f"<tr>{cells}</tr>")
    klass = f' class="{esc(cls)}"' if cls else ""
    body = f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
    return f'<div class="scroll"><table{klass}>{body}</table></div>'


def value_html(value: Any, depth: int = 0) -> str:
    """Nested dicts and lists (e.g. rubric verdicts) as definition lists and bullet lists."""
    if depth > 5:
        return f"<code>{esc(json.dumps(value, default=str))}</code>"
    if isinstance(value, dict):
        if not value:
            return '<span class="muted">{}</span>'
        items = "".join(
            f"<dt>{esc(k)}</dt><dd>{value_html(v, depth + 1)}</dd>" for k, v in value.items()
        )
        return f"<dl>{items}</dl>"
    if isinstance(value, list | tuple):
        if not value:
            return '<span class="muted">[]</span>'
        return "<ul>" + "".join(f"<li>{value_html(v, depth + 1)}</li>" for v in value) + "</ul>"
    if isinstance(value, float):
        return esc(f"{value:.4g}")
    return esc(value)


def page(title: str, nav: list[tuple[str, str]], body: list[str]) -> str:
    """A complete, self-contained HTML document."""
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{CSS}</style></head>'
        f"<body><nav>{links}</nav><main>{''.join(body)}</main></body></html>\n"
    )


def _badge(row: Any) -> str:
    if str(row.error):
        return '<span class="badge err">error</span>'
    return (
        '<span class="badge won">won</span>'
        if row.success
        else '<span class="badge lost">lost</span>'
    )


def _num(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def candidates_html(step: dict[str, Any]) -> str:
    """Every candidate of a step: logprob, each score, details; chosen and top marked."""
    cands = list(step.get("candidates") or [])
    names = sorted({str(k) for c in cands for k in dict(c.get("scores") or {})})
    tops, action = top_actions(cands), str(step.get("action"))
    head = "".join(f"<th>{esc(n)}</th>" for n in ["", "action", "logprob", *names, "details"])
    rows = []
    for c in cands:
        mark = ("✓ chosen " if str(c.get("action")) == action else "") + (
            "★ top" if str(c.get("action")) in tops else ""
        )
        scores = dict(c.get("scores") or {})
        cells = [esc(mark.strip()), f"<code>{esc(c.get('action'))}</code>"]
        cells += [esc(_num(c.get("logprob")))] + [esc(_num(scores.get(n))) for n in names]
        details = c.get("details") or {}
        cells.append(value_html(details) if details else "")
        klass = ' class="chosen"' if str(c.get("action")) == action else ""
        rows.append(f"<tr{klass}>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    body = f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
    return f'<div class="scroll"><table>{body}</table></div>'


def _step_html(step: dict[str, Any]) -> str:
    cands = step.get("candidates") or []
    bits = [f"t={esc(step.get('t'))}", f"<code>{esc(step.get('action'))}</code>"]
    bits.append(f"reward {esc(_num(step.get('reward')))}")
    if step.get("invalid_action"):
        bits.append('<span class="error">invalid</span>')
    if cands:
        bits.append(f"{len(cands)} candidates")
    body = [f"<pre>{esc(step.get('observation', ''))}</pre>"]
    if step.get("thought"):
        body.append(f"<p><b>thought</b></p><pre>{esc(step['thought'])}</pre>")
    body.append(f"<p><b>action</b> <code>{esc(step.get('action'))}</code></p>")
    if cands:
        body.append(candidates_html(step))
    tokens = (step.get("input_tokens") or 0, step.get("output_tokens") or 0)
    body.append(
        f'<p class="muted">tokens in/out {tokens[0]}/{tokens[1]} · '
        f"latency {esc(_num(step.get('latency_s')))} s</p>"
    )
    if step.get("meta"):
        body.append(f"<p><b>meta</b></p>{value_html(step['meta'])}")
    return f"<li><details><summary>{' · '.join(bits)}</summary>{''.join(body)}</details></li>"


def episode_html(row: Any, steps: Steps | None) -> str:
    """One collapsible episode: outcome, error, each step and the final observation."""
    summary = (
        f"seed {esc(row.seed)} {_badge(row)} reward {esc(_num(row.total_reward))} · "
        f"{esc(row.steps)} steps"
    )
    body = [
        f'<p class="muted">task {esc(row.task_id)} · split {esc(row.split)} · tokens '
        f"{esc(row.input_tokens)}/{esc(row.output_tokens)} · {esc(_num(row.wall_s))} s"
        f"{' · truncated' if row.truncated else ''}</p>"
    ]
    if str(row.error):
        body.append(f'<pre class="error">{esc(row.error)}</pre>')
    if steps is None:
        body.append('<p class="error">trajectory file missing or unreadable</p>')
    else:
        lines, final = step_lines(steps)
        if lines:
            body.append('<ol class="steps" start="0">')
            body.extend(_step_html(s) for s in lines)
            body.append("</ol>")
        else:
            body.append('<p class="muted">no steps recorded</p>')
        if final is not None:
            body.append(
                f"<p><b>final observation</b></p><pre>{esc(final.get('observation'))}</pre>"
            )
    return f'<details class="episode"><summary>{summary}</summary>{"".join(body)}</details>'


def trajectories_html(data: ReportData, limit: int) -> str:
    """The trajectory viewer: env, then entry, then up to ``limit`` episodes, all collapsible."""
    if data.episodes.empty:
        return '<p class="muted">no episodes</p>'
    out = [
        '<p class="muted">Click to expand. In candidate tables, ✓ marks the action taken and ★ '
        "the policy's top candidate (highest logprob).</p>"
    ]
    for env_id in data.env_ids:
        out.append(f"<h3>{esc(env_id)}</h3>")
        env_ep = data.episodes[data.episodes["env_id"] == env_id]
        for entry, g in env_ep.groupby("entry", sort=True):
            shown = g.sort_values("seed").head(limit)
            wins = int(g["success"].astype(bool).sum())
            more = f" (first {len(shown)} shown; raise --trajectories)" if len(g) > limit else ""
            out.append(
                f'<details class="entry"><summary>{esc(entry)} — {len(g)} episodes, '
                f"{wins} won{esc(more)}</summary>"
            )
            for row in shown.itertuples():
                key = (row.run, row.env_id, row.agent, int(row.seed))
                out.append(episode_html(row, data.trajectories.get(key)))
            out.append("</details>")
    return "".join(out)
