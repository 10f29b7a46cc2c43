"""The leaderboard as one static web page: ``leaderboard/site/index.html`` and its episode grids.

Self-contained (no network, no external scripts or styles): per suite a table that sorts on a
click of its header, and a per-split bar chart with 95 % intervals that a small inline script
draws as SVG from the data embedded in the page; for symbolic agents, the program (and
explanation, when the agent gives one) found on a few sample episodes, beside the episode grid
with the agent's answers (PNG files next to the page).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from PIL import Image

from leaderboard.suites import SUITES, Suite, concept_list_environment
from leaderboard.tables import Entry, by_suite, env_label, oracle_gap
from pix2code_env.grid import episode_grid

SAMPLES_PER_SUITE = 3
GRID_IMAGE_SIZE = 96  # longer side of each picture in a grid (small files, still legible)
GRID_QUERIES = 20

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th{cursor:pointer;background:#f4f4f4;user-select:none}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}td.name,th.name,td.text{text-align:left}
tfoot td{color:#555;font-style:italic}small{color:#777}
.chart{display:block;margin:.5em 0 1.5em}.bar{opacity:.9}.sample{display:flex;gap:1em;margin:1em 0;
border-top:1px solid #eee;padding-top:1em}.sample img{max-width:620px;border:1px solid #ccc}
code{background:#f6f6f6;padding:2px 4px;white-space:pre-wrap;word-break:break-all}
"""

SCRIPT = """
(function(){
const data=JSON.parse(document.getElementById('leaderboard-data').textContent);
const colors=['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac'];
const NS='http://www.w3.org/2000/svg';
function el(name,attrs,text){const e=document.createElementNS(NS,name);
  for(const k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
document.querySelectorAll('table.board').forEach(function(table){
  table.querySelectorAll('thead th').forEach(function(th,col){
    th.addEventListener('click',function(){
      const down=th.getAttribute('aria-sort')!=='descending';
      table.querySelectorAll('thead th').forEach(h=>h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort',down?'descending':'ascending');
      const body=table.tBodies[0];const rows=Array.from(body.rows);
      rows.sort(function(a,b){const x=a.cells[col].dataset.value,y=b.cells[col].dataset.value;
        const nx=parseFloat(x),ny=parseFloat(y);
        const c=(isNaN(nx)||isNaN(ny))?String(x).localeCompare(String(y)):nx-ny;return down?-c:c;});
      rows.forEach(r=>body.appendChild(r));});});});
data.suites.forEach(function(suite){
  const svg=document.getElementById('chart-'+suite.name);if(!svg)return;
  const W=1100,H=300,L=50,B=70,T=20,plot=H-B-T;const groups=suite.envs.length,n=suite.agents.length;
  const gw=(W-L-10)/groups,bw=Math.max(2,(gw-10)/Math.max(1,n));
  svg.setAttribute('viewBox','0 0 '+W+' '+(H+20*Math.ceil(n/4)));svg.setAttribute('width',W);
  svg.setAttribute('height',H+20*Math.ceil(n/4));
  for(let t=0;t<=4;t++){const v=t/4,y=T+plot*(1-v);
    svg.appendChild(el('line',{x1:L,x2:W-10,y1:y,y2:y,stroke:'#e4e4e4'}));
    svg.appendChild(el('text',{x:L-6,y:y+4,'text-anchor':'end','font-size':11},v.toFixed(2)));}
  suite.envs.forEach(function(env,g){
    const x0=L+g*gw+5;
    svg.appendChild(el('text',{x:x0+gw/2-5,y:H-B+16,'text-anchor':'middle','font-size':11},env));
    suite.agents.forEach(function(agent,i){const v=agent.values[g];if(v===null)return;
      const x=x0+i*bw,h=plot*v.mean;const bar=el('rect',{class:'bar',x:x,y:T+plot-h,width:bw-1,height:h,
        fill:colors[i%colors.length]});bar.appendChild(el('title',{},agent.name+' on '+env+': '+
        v.mean.toFixed(3)+' ['+v.low.toFixed(3)+', '+v.high.toFixed(3)+']'));svg.appendChild(bar);
      svg.appendChild(el('line',{class:'ci',x1:x+bw/2,x2:x+bw/2,y1:T+plot*(1-v.high),y2:T+plot*(1-v.low),
        stroke:'#222'}));});});
  suite.agents.forEach(function(agent,i){const x=L+(i%4)*260,y=H-B+40+20*Math.floor(i/4);
    svg.appendChild(el('rect',{x:x,y:y-10,width:12,height:12,fill:colors[i%colors.length]}));
    svg.appendChild(el('text',{x:x+18,y:y,'font-size':12},agent.name));});
  svg.setAttribute('data-drawn','yes');});
})();
"""


def _td(text: str, value: Any, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<td{cls} data-value="{html.escape(str(value))}">{text}</td>'


def suite_table(suite: Suite, rows: Sequence[Entry]) -> str:
    header = ["agent", "input", "mean", *[env_label(e) for e in suite.env_ids]] + (["mAP"] if suite.map_pool else [])
    parts = [f'<table class="board" id="table-{suite.name}"><thead><tr>']
    parts += [f'<th class="{"name" if i < 2 else ""}">{html.escape(h)}</th>' for i, h in enumerate(header)]
    parts.append("</tr></thead><tbody>")
    for entry in rows:
        s = entry.summary
        cells = [_td(html.escape(entry.agent + (" (partial)" if entry.partial else "")), entry.agent, "name"),
                 _td(html.escape(entry.input), entry.input, "text"),
                 _td(_fmt(s["accuracy"]), s["accuracy"] if s["accuracy"] is not None else "")]
        for env_id in suite.env_ids:
            env = s["envs"].get(env_id)
            if env is None:
                cells.append(_td("–", ""))
                continue
            acc = env["accuracy"]
            failed = f" <small>({env['failures']} failed)</small>" if env["failures"] else ""
            cells.append(_td(f"{acc['mean']:.3f}<br><small>[{acc['low']:.3f}, {acc['high']:.3f}]</small>{failed}",
                             acc["mean"]))
        if suite.map_pool:
            cells.append(_td(_fmt(s["map"]), s["map"] if s["map"] is not None else ""))
        parts.append('<tr class="entry">' + "".join(cells) + "</tr>")
    parts.append("</tbody>")
    gap = oracle_gap(rows) if suite.map_pool else None
    if gap:
        cells = ['<td class="name" colspan="3">compositionality gap (strong − weak oracle)</td>']
        cells += [f"<td>{_fmt(gap[e]['accuracy']) if e in gap else '–'}</td>" for e in suite.env_ids]
        cells.append("<td></td>")
        parts.append("<tfoot><tr>" + "".join(cells) + "</tr></tfoot>")
    parts.append("</table>")
    return "".join(parts)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def chart_data(suite: Suite, rows: Sequence[Entry]) -> dict[str, Any]:
    agents = []
    labels = [f"{e.agent} ({e.input})" for e in rows]
    for entry, label in zip(rows, labels):
        values = []
        for env_id in suite.env_ids:
            env = entry.summary["envs"].get(env_id)
            values.append(None if env is None else env["accuracy"])
        name = label if labels.count(label) == 1 else f"{label} [{entry.path.stem}]"
        agents.append({"name": name, "values": values})
    return {"name": suite.name, "envs": [env_label(e) for e in suite.env_ids], "agents": agents}


def sample_records(entry: Entry, count: int = SAMPLES_PER_SUITE) -> list[dict[str, Any]]:
    """Answered episodes with a program, the first of each env, spread over the suite's envs."""
    firsts: dict[str, dict[str, Any]] = {}
    for record in entry.data["records"]:
        if record["program"] and record["failure"] is None and record["env_id"] not in firsts:
            firsts[record["env_id"]] = record
    picks = list(firsts.values())
    if len(picks) > count:
        picks = [picks[round(i * (len(picks) - 1) / (count - 1))] for i in range(count)] if count > 1 else picks[:1]
    return picks


def draw_sample(entry: Entry, record: dict[str, Any], out: Path, concept_list: str | None) -> str:
    """The episode grid of a record with the agent's answers; returns the concept in English."""
    from agents.pix2code.explain.titles import concept_title  # the DSL and agent: only when pages are drawn

    options = entry.suite.family_options(concept_list)
    with concept_list_environment(concept_list):
        env = gym.make(record["env_id"], subset=record["subset"], modality="image", image_size=GRID_IMAGE_SIZE,
                       family_options=options or None, reveal_concept=True)
        _, info = env.reset(seed=record["seed"], options=record["options"])
        episode = env.unwrapped.episode
        family = env.unwrapped.family
        english = concept_title(family.name, info["concept"]) or family.describe_concept(info["concept_id"])
    if info["concept_id"] != record["concept_id"] or episode.n_query != len(record["predictions"]):
        raise ValueError(f"{record['env_id']} seed {record['seed']} does not regenerate the recorded episode")
    title = f"{record['env_id']} seed {record['seed']}: {english}"
    picture = episode_grid(episode, predictions=np.asarray(record["predictions"]), max_queries=GRID_QUERIES, title=title)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).quantize(colors=128).save(out, optimize=True)
    return english


def samples_html(entries: Sequence[Entry], site: Path, concept_list: str | None) -> str:
    parts = []
    for entry in entries:
        picks = sample_records(entry)
        if not picks:
            continue
        stem = entry.path.stem
        parts.append(f'<h3>{html.escape(entry.agent)} on {entry.suite.name}</h3>')
        for record in picks:
            name = f"grids/{stem}--{env_label(record['env_id'])}--{record['seed']}.png"
            try:
                english = draw_sample(entry, record, site / name, concept_list)
                image = f'<img src="{name}" alt="episode grid of {html.escape(record["env_id"])} seed {record["seed"]}">'
            except (ValueError, OSError) as error:
                english, image = "", f"<p><small>no grid: {html.escape(str(error))}</small></p>"
            explanation = record["explanation"] or "(the agent gives no explanation)"
            parts.append(
                f'<div class="sample">{image}<div><p><b>{html.escape(record["env_id"])}</b>, seed {record["seed"]}, '
                f'concept {html.escape(record["concept_id"])}: {html.escape(english)}</p>'
                f'<p>program: <code>{html.escape(record["program"])}</code></p>'
                f'<p>explanation: {html.escape(explanation)}</p>'
                f'<p>class-balanced accuracy {record["score"]:.3f}'
                + (f'; fallback: {html.escape(record["fallback"])}' if record["fallback"] else "") + "</p></div></div>"
            )
    if not parts:
        return ""
    return '<section id="programs"><h2>Programs on sample episodes</h2><p>Grid: support positives and negatives, ' \
           'then the first queries; a query frame shows the truth, its corner tag the agent\'s answer (green: right).' \
           "</p>" + "".join(parts) + "</section>"


def page(entries: Sequence[Entry], site: Path, concept_list: str | None = None) -> str:
    groups = by_suite(entries)
    sections, data = [], []
    for name, rows in groups.items():
        suite = SUITES[name]
        sections.append(
            f'<section class="suite" id="suite-{name}"><h2>{html.escape(name)} <small>version {suite.version}</small></h2>'
            f"<p>{html.escape(suite.description)}.</p>{suite_table(suite, rows)}"
            f'<h3>Class-balanced accuracy per split (bars: mean; lines: 95 % interval)</h3>'
            f'<svg class="chart" id="chart-{name}" role="img" aria-label="per-split accuracy of {name}"></svg></section>'
        )
        data.append(chart_data(suite, rows))
    payload = json.dumps({"suites": data}, sort_keys=True).replace("</", "<\\/")
    nav = " · ".join(f'<a href="#suite-{n}">{html.escape(n)}</a>' for n in groups)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pix2code-gym leaderboard</title>'
        f"<style>{STYLE}</style></head><body><h1>pix2code-gym leaderboard</h1>"
        "<p>Class-balanced accuracy on each suite's test episodes (mean over episodes, 95 % bootstrap interval "
        "over episodes; failed episodes score 0), and CURI's mAP for agents that give scores. † marks agents that "
        "read ground-truth object tables. Click a column header to sort. Every number was recomputed from the "
        "submissions' predictions by <code>pix2code leaderboard build</code>.</p>"
        f"<nav>{nav}</nav>{''.join(sections)}{samples_html(entries, site, concept_list)}"
        f'<script id="leaderboard-data" type="application/json">{payload}</script><script>{SCRIPT}</script>'
        "</body></html>\n"
    )


def write_site(entries: Sequence[Entry], site: Path, concept_list: str | None = None) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    for old in (site / "grids").glob("*.png"):
        old.unlink()
    index = site / "index.html"
    index.write_text(page(entries, site, concept_list), encoding="utf-8")
    return index
