"""`dpbench-report model fit|whatif`: the cost model's command line (registered from cli.py).

    dpbench-report model fit a.json t.json --out m/model.json [--holdout even|odd|ranks=1,2] [--dtype fp32]
        -> m/model.json (format dpbench-model), m/model.md, m/model_plots/{allreduce,train}_model.png
    dpbench-report model whatif --from m/model.json --gpus 16,64,256 --intra 370,3 --inter 50,10
        [--gpus-per-node 8] [--algo ring,tree,hierarchical] [--bytes 25M] [--train t.json] --out w/whatif.json
    dpbench-report report a.json t.json --model m/model.json --out report/

Bad input (no all-reduce points, an unknown algorithm, a malformed --intra) raises ValueError, which
cli.py turns into one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any, Callable

from .load import ResultsFile, load_many
from .model_output import document, read_model, write
from .model_whatif import WHATIF_ALGOS, Link, parse_link, whatif

log = logging.getLogger("dpbench_report")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
DEFAULT_WHATIF_BYTES = ",".join(f"{1 << e}" for e in range(12, 31, 2))


def parse_sizes(text: str) -> list[int]:
    """'4K,25M' -> bytes (binary units, as dpbench -b/-e)."""
    out = []
    for part in text.split(","):
        m = _SIZE.match(part)
        if not m:
            raise ValueError(f"--bytes takes sizes like 4K,25M; got {part!r}")
        out.append(int(float(m.group(1)) * _UNIT[m.group(2).upper()]))
    return out


def parse_ints(text: str, flag: str) -> list[int]:
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        vals = []
    if not vals or min(vals) < 1:
        raise ValueError(f"{flag} takes positive integers like 16,64,256; got {text!r}")
    return vals


def add_model_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `model fit` and `model whatif` under the given subparsers."""
    model = sub.add_parser("model", help="fit a latency-bandwidth cost model, predict DDP steps, what-if")
    msub = model.add_subparsers(dest="model_command", required=True, metavar="{fit,whatif}")
    p = msub.add_parser("fit", help="fit all-reduce results; predict train points given beside them")
    p.add_argument("results", nargs="+", help="dpbench results files: allreduce (fitted) and train (predicted)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="model JSON (a .md summary goes beside)")
    p.add_argument("--holdout", metavar="even|odd|ranks=N,..",
                   help="fit on even/odd-indexed sizes or these rank counts only; score the rest")
    p.add_argument("--dtype", help="fit only this dtype (default: all, pooled)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots (OUT_plots/)")
    add_common(p)
    p = msub.add_parser("whatif", help="modelled all-reduce / DDP efficiency for other GPU counts and topologies")
    p.add_argument("--from", dest="model", type=Path, required=True, metavar="MODEL", help="model JSON from `model fit`")
    p.add_argument("--gpus", required=True, help="GPU counts, e.g. 16,64,256")
    p.add_argument("--gpus-per-node", default="8", help="GPUs per node (default 8)")
    p.add_argument("--intra", help="intra-node link BW,LAT (GB/s, us); default: the fitted ring's beta, alpha")
    p.add_argument("--inter", help="inter-node network BW,LAT (GB/s, us) per GPU")
    p.add_argument("--algo", default=",".join(WHATIF_ALGOS), help="ring,tree,hierarchical (default all)")
    p.add_argument("--bytes", default=DEFAULT_WHATIF_BYTES, help="message sizes, e.g. 25M (default 4K..1G)")
    p.add_argument("--train", metavar="RESULTS", help="train results: predict DDP step and efficiency too")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="what-if JSON (a .md goes beside)")
    add_common(p)


def _fit(args: argparse.Namespace) -> int:
    # numpy/scipy only when fitting: the other dpbench-report commands start as fast as before
    from .model_fit import allreduce_points, fit_all, fit_pooled, parse_holdout, score, split
    from .model_predict import predict_train
    files = load_many(args.results)
    holdout = parse_holdout(args.holdout)
    points = allreduce_points(files, args.dtype)
    if not points:
        raise ValueError(f"no ok all-reduce points in {', '.join(args.results)}"
                         + (f" with dtype {args.dtype}" if args.dtype else ""))
    train_set, held = split(points, holdout) if holdout else (points, [])
    if not train_set:
        raise ValueError(f"--holdout {args.holdout} leaves no points to fit")
    fits, pooled = fit_all(train_set), fit_pooled(train_set)
    sections: dict[str, Any] = {
        "fits": [f.to_json() for f in fits.values()], "pooled_fits": [f.to_json() for f in pooled.values()],
        "fit_quality": score(train_set, fits, pooled)}
    if holdout:
        sections["holdout"] = {"mode": args.holdout, "fit_points": len(train_set),
                               "score": score(held, fits if holdout[0] != "ranks" else {}, pooled)}
    train_files = [f for f in files if any(p.get("kind") == "train" for p in f.points)]
    sections["train"] = predict_train(train_files, fits, pooled)
    doc = document(files, **sections)
    written = write(doc, args.out)
    if not args.no_plots:
        written += _fit_plots(doc, args.out)
    for path in written:
        print(path)
    _summary(doc)
    return 0


def _fit_plots(doc: dict[str, Any], out: Path) -> list[Path]:
    from .model_plots import fit_plot, train_plot
    d = out.with_name(out.stem + "_plots")
    held = [dict(r, held_out=True) for r in doc["holdout"]["score"]["rows"]] if "holdout" in doc else []
    rows = doc["fit_quality"]["rows"] + held
    paths = [fit_plot(rows, d / "allreduce_model.png")]
    if doc["train"]:
        paths.append(train_plot(doc["train"], d / "train_model.png"))
    return paths


def _summary(doc: dict[str, Any]) -> None:
    for f in doc["fits"]:
        log.info("fit %s n=%s: alpha %.3g us, beta %s GB/s, R2 %.4f, rel resid median %.1f%% worst %.1f%% (model)",
                 f["algo"], f["ranks"], f["alpha_us"], f"{f['beta_gbps']:.3g}" if f["beta_gbps"] else "-", f["r2"],
                 100 * f["rel_residual_median"], 100 * f["rel_residual_max"])
    if "holdout" in doc:
        s = doc["holdout"]["score"]
        if s["points"]:
            log.info("held-out (%s): %d points, median |err| %.1f%%, worst %.1f%%", doc["holdout"]["mode"],
                     s["points"], 100 * s["abs_rel_error_median"], 100 * s["abs_rel_error_max"])
    for r in doc["train"]:
        log.info("train %s: measured %.3f ms, model %.3f ms, residual %+.1f%%%s", r["id"], r["measured"]["step_ms"],
                 r["model"]["step_ms"], 100 * r["residual_rel"], "  ANOMALY" if r["anomaly"] else "")


def _default_intra(model: dict[str, Any]) -> Link:
    fits = [f for f in model.get("pooled_fits", []) if f.get("beta_gbps")]
    ring = [f for f in fits if f["algo"] in ("p2p-ring", "nccl-ring", "nccl-auto")]
    if not (ring or fits):
        raise ValueError("the model has no fit with a bandwidth: give --intra BW,LAT")
    f = (ring or fits)[0]
    return Link(float(f["beta_gbps"]), float(f["alpha_us"]))


def _whatif(args: argparse.Namespace) -> int:
    model = read_model(args.model)
    gpus = parse_ints(args.gpus, "--gpus")
    per_node = parse_ints(args.gpus_per_node, "--gpus-per-node")[0]
    intra = parse_link(args.intra, "--intra") if args.intra else _default_intra(model)
    inter = parse_link(args.inter, "--inter") if args.inter else None
    algos = [a.strip() for a in args.algo.split(",") if a.strip()]
    files: list[ResultsFile] = load_many([args.train]) if args.train else []
    shapes = _train_shapes(files)
    wi = whatif(gpus, algos, parse_sizes(args.bytes), per_node, intra, inter, shapes)
    wi["model"] = str(args.model)
    doc = document(files, whatif=wi, model_inputs=model.get("inputs", []))
    written = write(doc, args.out)
    from .model_plots import whatif_plot
    written.append(whatif_plot(wi, args.out.with_name(args.out.stem + "_plots") / "whatif.png"))
    for path in written:
        print(path)
    return 0


def _train_shapes(files: list[ResultsFile]) -> list[tuple[str, Any]]:
    """The smallest-rank ok train points (their compute is what scales out in the what-if)."""
    pts = [p for f in files for p in f.points if p.get("kind") == "train" and p.get("status") == "ok"]
    if files and not pts:
        raise ValueError(f"no ok train points in {files[0].path}")
    from .model_predict import step_shape
    low = min((int(p["axes"]["ranks"]) for p in pts), default=0)
    return [(p["id"], step_shape(p)) for p in pts if int(p["axes"]["ranks"]) == low]


MODEL_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"fit": _fit, "whatif": _whatif}


def run_model(args: argparse.Namespace) -> int:
    return MODEL_COMMANDS[args.model_command](args)
