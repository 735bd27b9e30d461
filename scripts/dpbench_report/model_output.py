"""The model document (format dpbench-model) and its markdown summary.

A separate format from dpbench-results on purpose: nothing in it is measured on a run except the
`measured` fields copied beside predictions for comparison, and every modelled value says
"source": "model", so no reader can mistake it for a measurement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .load import ResultsFile
from .outputs import write_atomic

MODEL_FORMAT, MODEL_VERSION = "dpbench-model", 1


def inputs(files: Sequence[ResultsFile]) -> list[dict[str, Any]]:
    """Where the numbers came from: path, command and system of each input."""
    return [{"path": str(f.path), "command": f.command, "system": f.system} for f in files]


def document(files: Sequence[ResultsFile], **sections: Any) -> dict[str, Any]:
    return {"format": MODEL_FORMAT, "format_version": MODEL_VERSION, "source": "model",
            "inputs": inputs(files), **sections}


def read_model(path: Path) -> dict[str, Any]:
    """A model document written by `model fit`; ValueError (exit 2) if it is not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read model: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a dpbench-model document (format {MODEL_FORMAT!r})")
    return doc


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None else format(x, fmt)


def markdown(doc: dict[str, Any]) -> str:
    """Human summary; every table is headed as modelled."""
    out = ["# dpbench cost model (modelled, not measured)", ""]
    out += [f"Inputs: {', '.join(i['path'] for i in doc['inputs'])}", ""]
    if doc.get("fits"):
        out += ["## Fits: T(S) = steps*alpha + wire_bytes(S)/beta (source: model)", "",
                "| algo | ranks | alpha us | beta GB/s | points | R² | median rel. resid | worst rel. resid |",
                "|---|---|---|---|---|---|---|---|"]
        for f in doc["fits"] + doc.get("pooled_fits", []):
            out.append(f"| {f['algo']} | {','.join(map(str, f['ranks']))} | {_num(f['alpha_us'])} | {_num(f['beta_gbps'])} "
                       f"| {f['points']} | {_num(f['r2'], '.4f')} | {_pct(f['rel_residual_median'])} "
                       f"| {_pct(f['rel_residual_max'])} |")
        out.append("")
    ho = doc.get("holdout")
    if ho:
        out += [f"## Held-out points ({ho['mode']}; fitted on {ho['fit_points']} points)", "",
                f"Predicted {ho['score']['points']} held-out points: median |error| "
                f"{_pct(ho['score']['abs_rel_error_median'])}, worst {_pct(ho['score']['abs_rel_error_max'])}.", "",
                "| algo | ranks | held-out points | median abs. rel. error | worst |", "|---|---|---|---|---|"]
        out += [f"| {g['algo']} | {g['ranks']} | {g['points']} | {_pct(g['abs_rel_error_median'])} "
                f"| {_pct(g['abs_rel_error_max'])} |" for g in ho["score"]["by_group"]]
        out.append("")
    if doc.get("train"):
        out += ["## DDP step: measured vs model", "",
                "Compute is as measured; the all-reduces are modelled. An anomaly is a residual beyond the fit's worst "
                "relative error on the modelled communication plus the step's measurement noise.", "",
                "| point | measured step ms | model step ms | residual | allowed ms | anomaly | eff. measured | eff. model |",
                "|---|---|---|---|---|---|---|---|"]
        for r in doc["train"]:
            out.append(f"| {r['id']} | {_num(r['measured']['step_ms'])} | {_num(r['model']['step_ms'])} "
                       f"| {_pct(r['residual_rel'])} | {_num(r['allowed_ms'])} | {'**yes**' if r['anomaly'] else 'no'} "
                       f"| {_num(r['measured']['scaling_efficiency'])} | {_num(r['model']['scaling_efficiency'])} |")
        out.append("")
    wi = doc.get("whatif")
    if wi:
        out += [f"## What-if (modelled): {wi['per_node']} GPUs per node, intra {wi['intra']}, inter {wi['inter']}", "",
                "| algo | GPUs | nodes | bytes | time us | busbw GB/s |", "|---|---|---|---|---|---|"]
        for r in wi["allreduce"]:
            out.append(f"| {r['algo']} | {r['gpus']} | {r['nodes']} | {r['bytes']} | {_num(r['time_us'])} "
                       f"| {_num(r['busbw_gbps'])} |")
        if wi["train"]:
            out += ["", "| train point | algo | GPUs | step ms | exposed comm ms | efficiency |", "|---|---|---|---|---|---|"]
            for r in wi["train"]:
                out.append(f"| {r['train_point']} | {r['algo']} | {r['gpus']} | {_num(r['step_ms'])} "
                           f"| {_num(r['exposed_comm_ms'])} | {_num(r['scaling_efficiency'])} |")
        out.append("")
    return "\n".join(out)


def write(doc: dict[str, Any], out: Path) -> list[Path]:
    """Write OUT (JSON) and OUT with .md beside it."""
    md = out.with_suffix(".md")
    try:
        write_atomic(out, json.dumps(doc, indent=1, sort_keys=False) + "\n")
        write_atomic(md, markdown(doc))
    except OSError as e:
        raise ValueError(f"cannot write {out}: {e.strerror or e}") from None
    return [out, md]
