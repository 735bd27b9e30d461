#!/usr/bin/env python3
"""Helpers of scripts/gpu-validate.sh (standard library only; runs under the GPU machine's python3).

  compare --nccl-tests LOG --dpbench JSON --out PREFIX [--tolerance PCT] [--min-bytes N] [--min-time-us T]
      nccl-tests all_reduce_perf's table beside dpbench's nccl-auto points of the same sizes:
      time (us), algbw and busbw (GB/s) per size and placement, and the % difference of dpbench
      against nccl-tests. Writes PREFIX.md and PREFIX.json; exit 1 when a row that decides (size >=
      --min-bytes and nccl-tests' time >= --min-time-us, i.e. not launch-latency bound) differs by
      more than --tolerance percent in time (both are fp32 sums, one rank: busbw is 0).
  summary --run DIR      reports/gpu/<run>/summary.md and summary.json from steps/, env.txt, results/
  verdict --run DIR      one line; exit 0 when every step passed or was skipped for a reason that is
                         not a spent budget, else 1
  nccl-version --info JSON          the NCCL version dpbench loaded (system.runtime.nccl_version)
  version-at-least A B              exit 0 when version A >= B (dotted numbers)
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys

FUNCTIONAL_ONLY = {"allreduce-nccl-2rank-1gpu": "functional only: 2 NCCL ranks share one GPU "
                   "(NCCL_MULTI_RANK_GPU_ENABLE=1); its times are not bandwidth figures"}


def vtuple(text: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", text or "")
    return tuple(int(n) for n in nums[:3]) if nums else (0,)


# ---- nccl-tests vs dpbench ----------------------------------------------------------------------
def parse_nccl_tests(path: str) -> dict:
    """Rows of all_reduce_perf's table: size -> {out: {...}, in: {...}}, plus the header facts."""
    rows, facts = {}, {}
    for line in open(path, errors="replace"):
        if line.startswith("#"):
            m = re.search(r"nccl-tests version (\S+).*nccl-headers=(\d+).*nccl-library=(\d+)", line)
            if m:
                facts.update(version=m.group(1), nccl_headers=int(m.group(2)), nccl_library=int(m.group(3)))
            m = re.search(r"Avg bus bandwidth\s*:\s*([\d.]+)", line)
            if m:
                facts["avg_busbw"] = float(m.group(1))
            continue
        tok = line.split()
        # size count type redop root | time algbw busbw #wrong | time algbw busbw #wrong
        if len(tok) >= 13 and tok[0].isdigit() and tok[1].isdigit():
            def num(s):
                try:
                    return float(s)
                except ValueError:
                    return None
            rows[int(tok[0])] = {
                "out": {"time_us": num(tok[5]), "algbw": num(tok[6]), "busbw": num(tok[7]), "wrong": tok[8]},
                "in": {"time_us": num(tok[9]), "algbw": num(tok[10]), "busbw": num(tok[11]), "wrong": tok[12]},
            }
    return {"rows": rows, "facts": facts}


def parse_dpbench(path: str) -> dict:
    d = json.load(open(path))
    rows = {}
    for p in d.get("points", []):
        ax = p.get("axes", {})
        if p.get("kind") != "allreduce" or ax.get("algo") != "nccl-auto" or ax.get("dtype") != "fp32":
            continue
        t = (p.get("stats") or {}).get("time") or {}
        m = p.get("metrics") or {}
        rows.setdefault(int(ax["bytes"]), {})["in" if ax.get("in_place") else "out"] = {
            "status": p.get("status"), "time_us": t.get("mean"), "median_us": t.get("median"),
            "algbw": (m.get("algbw") or {}).get("value"), "busbw": (m.get("busbw") or {}).get("value"),
            "wrong": (p.get("check") or {}).get("wrong_elements"),
        }
    return {"rows": rows, "nccl": ((d.get("system") or {}).get("runtime") or {}).get("nccl_version")}


def fmt_size(n: int) -> str:
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def pct(a, b):
    if a is None or b is None or b == 0:
        return None
    return 100.0 * (a - b) / b


def cmd_compare(a) -> int:
    nt = parse_nccl_tests(a.nccl_tests) if os.path.exists(a.nccl_tests) else {"rows": {}, "facts": {}}
    dp = parse_dpbench(a.dpbench) if os.path.exists(a.dpbench) else {"rows": {}, "nccl": None}
    out_rows, bad, decided = [], [], 0
    for size in sorted(set(nt["rows"]) | set(dp["rows"])):
        for place in ("out", "in"):
            n = nt["rows"].get(size, {}).get(place)
            d = dp["rows"].get(size, {}).get(place)
            diff = pct(d and d["time_us"], n and n["time_us"])
            decides = size >= a.min_bytes and bool(n) and (n.get("time_us") or 0) >= a.min_time_us
            ok = None if diff is None else abs(diff) <= a.tolerance
            if decides and n and d:
                decided += 1
                if not ok:
                    bad.append(f"{fmt_size(size)} {place}-of-place {diff:+.1f}%" if diff is not None else fmt_size(size))
            out_rows.append({"bytes": size, "placement": "in-place" if place == "in" else "out-of-place",
                             "nccl_tests": n, "dpbench": d, "time_diff_pct": diff, "decides": decides,
                             "agree": ok})
    missing = not nt["rows"] or not dp["rows"]
    verdict = ("no data: " + ("nccl-tests table missing" if not nt["rows"] else "dpbench points missing")) if missing \
        else (f"agree within {a.tolerance:g}% on all {decided} rows that decide" if not bad and decided
              else (f"differ by more than {a.tolerance:g}%: " + ", ".join(bad)) if bad
              else "no row decides (none >= " + fmt_size(a.min_bytes) + f" and >= {a.min_time_us:g} us)")
    result = {"what": "nccl-tests all_reduce_perf -g 1 vs dpbench allreduce --algo nccl-auto --gpus 1, fp32 sum",
              "tolerance_pct": a.tolerance, "min_bytes": a.min_bytes, "min_time_us": a.min_time_us,
              "nccl_tests": nt["facts"],
              "dpbench_nccl": dp["nccl"], "verdict": verdict, "rows": out_rows}
    with open(a.out + ".json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    def g(x, k, spec):
        v = (x or {}).get(k)
        return format(v, spec) if isinstance(v, (int, float)) else "-"
    lines = [
        "### nccl-tests vs dpbench (NCCL all-reduce, fp32 sum, 1 rank on GPU 0)", "",
        f"nccl-tests {nt['facts'].get('version', '?')} (NCCL library {nt['facts'].get('nccl_library', '?')}), "
        f"dpbench's NCCL {dp['nccl'] or '?'}. Time: nccl-tests' mean over 50 calls after 10 warm-ups; "
        "dpbench's mean (and median) over 50 timed calls after 10 warm-ups. With one rank busbw = algbw x 0 = 0, "
        "so time and algbw are compared. Rows of at least "
        f"{fmt_size(a.min_bytes)} where nccl-tests takes at least {a.min_time_us:g} us decide; the others are "
        "launch-latency bound (at one rank an in-place all-reduce copies nothing) and informational.", "",
        "| size | placement | nccl-tests us | dpbench us (median) | time diff | nccl-tests algbw | dpbench algbw | busbw (nt / dp) | agree |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in out_rows:
        n, d = r["nccl_tests"], r["dpbench"]
        diff = "-" if r["time_diff_pct"] is None else f"{r['time_diff_pct']:+.1f}%"
        agree = "-" if r["agree"] is None else ("yes" if r["agree"] else "NO")
        if not r["decides"]:
            agree += " (info)"
        lines.append(f"| {fmt_size(r['bytes'])} | {r['placement']} | {g(n, 'time_us', '.2f')} | "
                     f"{g(d, 'time_us', '.2f')} ({g(d, 'median_us', '.2f')}) | {diff} | {g(n, 'algbw', '.1f')} | "
                     f"{g(d, 'algbw', '.1f')} | {g(n, 'busbw', '.1f')} / {g(d, 'busbw', '.1f')} | {agree} |")
    lines += ["", f"Verdict: {verdict}.", ""]
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0 if not missing and not bad and decided else 1


# ---- summary ---------------------------------------------------------------------------------------
def read_steps(run: str) -> list[dict]:
    steps = []
    for path in glob.glob(os.path.join(run, "steps", "*.status")):
        parts = open(path).read().rstrip("\n").split("\t", 3)
        while len(parts) < 4:
            parts.append("")
        steps.append({"name": os.path.basename(path)[:-len(".status")], "result": parts[0],
                      "seconds": int(parts[1] or 0), "phase": int(parts[2] or 0), "command": parts[3],
                      "mtime": os.path.getmtime(path)})
    steps.sort(key=lambda s: (s["phase"], s["mtime"]))
    for s in steps:
        s.pop("mtime")
        if s["name"] in FUNCTIONAL_ONLY:
            s["note"] = FUNCTIONAL_ONLY[s["name"]]
        log = os.path.join(run, "logs", s["name"] + ".log")
        if s["result"].startswith("FAIL") and os.path.exists(log):
            last = [l.strip() for l in open(log, errors="replace") if l.strip()]
            if last:
                s["last_log_line"] = last[-1][:200]
    return steps


def step_ok(s: dict) -> bool:
    return s["result"] == "pass" or (s["result"].startswith("skipped") and "budget spent" not in s["result"])


def read_env(run: str) -> dict:
    env = {}
    path = os.path.join(run, "env.txt")
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env.setdefault(k, v) if k != "gpu" else env.setdefault("gpus_list", []).append(v)
    return env


def tests_summary(run: str) -> dict | None:
    files = sorted(glob.glob(os.path.join(run, "results", "tests-gpu.shard*.json")))
    if not files:
        return None
    total = failed = skipped = 0
    failures = []
    for f in files:
        try:
            d = json.load(open(f))
        except (OSError, ValueError):
            continue
        for suite in d.get("testsuites", []):
            for t in suite.get("testsuite", []):
                total += 1
                if t.get("failures"):
                    failed += 1
                    failures.append(f"{suite.get('name')}.{t.get('name')}")
                elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                    skipped += 1
    return {"shards": len(files), "tests": total, "failed": failed, "skipped": skipped,
            "passed": total - failed - skipped, "failures": failures[:50]}


def sweep_summaries(run: str) -> list[dict]:
    out = []
    for f in sorted(glob.glob(os.path.join(run, "results", "*.json"))):
        base = os.path.basename(f)
        if base.startswith("tests-gpu") or base == "info.json":
            continue
        try:
            d = json.load(open(f))
        except (OSError, ValueError):
            out.append({"file": base, "error": "unreadable (cut short?)"})
            continue
        pts = d.get("points", [])
        status = {}
        for p in pts:
            status[p.get("status", "?")] = status.get(p.get("status", "?"), 0) + 1
        best = {}
        for p in pts:
            if p.get("status") != "ok" or d.get("command") != "allreduce":
                continue
            ax = p["axes"]
            key = f"{ax.get('algo')} {ax.get('dtype')} {ax.get('ranks')} rank(s)"
            bw = ((p.get("metrics") or {}).get("busbw") or {}).get("value")
            if ax.get("ranks", 1) == 1:
                bw = ((p.get("metrics") or {}).get("algbw") or {}).get("value")
            if bw is not None and (key not in best or ax["bytes"] > best[key][0] or
                                   (ax["bytes"] == best[key][0] and bw > best[key][1])):
                best[key] = (ax["bytes"], bw)
        wrong = sum(((p.get("check") or {}).get("wrong_elements") or 0) for p in pts)
        out.append({"file": base, "command": d.get("command"), "points": len(pts), "status": status,
                    "wrong_elements": wrong,
                    "largest_size_bw": {k: {"bytes": v[0], "GBps": round(v[1], 2)} for k, v in sorted(best.items())}})
    return out


def cmd_summary(a) -> int:
    run = a.run
    steps = read_steps(run)
    env = read_env(run)
    tests = tests_summary(run)
    sweeps = sweep_summaries(run)
    compare_md = os.path.join(run, "compare.md")
    compare = json.load(open(os.path.join(run, "compare.json"))) if os.path.exists(os.path.join(run, "compare.json")) else None
    ok = all(step_ok(s) for s in steps) and bool(steps)
    summary = {"run_id": os.path.basename(run.rstrip("/")), "all_ok": ok, "environment": env, "steps": steps,
               "gpu_tests": tests, "sweeps": sweeps, "nccl_tests_compare": compare}
    with open(os.path.join(run, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    L = [f"# GPU validation {summary['run_id']}", ""]
    for k, label in (("date", "date"), ("gpus_list", "GPU"), ("nccl_loaded", "NCCL loaded"),
                     ("bundle.GIT_COMMIT", "bundle commit"), ("bundle.GIT_DIRTY", "bundle had local changes"),
                     ("bundle.BUILT_AGAINST", "built against"), ("bundle.CUDA_ARCHITECTURES", "CUDA archs"),
                     ("bundle.NCCL_TESTS_VERSION", "nccl-tests"), ("kernel", "kernel"),
                     ("compute_sanitizer", "compute-sanitizer"), ("LD_LIBRARY_PATH", "LD_LIBRARY_PATH")):
        v = env.get(k)
        if v:
            L.append(f"- {label}: {'; '.join(v) if isinstance(v, list) else v}")
    libs = sorted((k, v) for k, v in env.items() if k.startswith("ldd.dpbench."))
    if libs:
        L.append("- dpbench loads: " + ", ".join(f"{k.split('.', 2)[2]} -> {v}" for k, v in libs))
    L += ["", "| phase | step | result | seconds |", "| ---: | --- | --- | ---: |"]
    for s in steps:
        res = s["result"] + (f" ({s['note']})" if s.get("note") and s["result"] == "pass" else "")
        if s.get("last_log_line"):
            res += ": " + s["last_log_line"].replace("|", "\\|")
        L.append(f"| {s['phase']} | {s['name']} | {res} | {s['seconds']} |")
    if tests:
        L += ["", f"gpu tests: {tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped "
              f"of {tests['tests']} ({tests['shards']} shards)"]
        L += [f"- FAILED {t}" for t in tests["failures"]]
        if tests["skipped"]:
            L += ["", "(On one GPU the nccl-* conformance cases with more ranks than GPUs skip by design: NCCL "
                  "before 2.30 refuses two ranks on one GPU. Other skips name their reason in logs/tests-gpu.shard*.log.)"]
    if sweeps:
        L += ["", "| results file | points | status | wrong elements |", "| --- | ---: | --- | ---: |"]
        for s in sweeps:
            st = ", ".join(f"{k} {v}" for k, v in sorted(s.get("status", {}).items())) or s.get("error", "")
            L.append(f"| {s['file']} | {s.get('points', '-')} | {st} | {s.get('wrong_elements', '-')} |")
        L += ["", "Largest size per series (busbw; algbw at one rank), GB/s:", ""]
        for s in sweeps:
            for k, v in (s.get("largest_size_bw") or {}).items():
                L.append(f"- {s['file']}: {k} at {fmt_size(v['bytes'])}: {v['GBps']}")
    if os.path.exists(compare_md):
        L += ["", open(compare_md).read().rstrip()]
    failed = [s["name"] for s in steps if not step_ok(s)]
    L += ["", ("Verdict: every step passed (or was skipped for a stated reason)." if ok
               else f"Verdict: {len(failed)} step(s) failed or were cut: {', '.join(failed) or 'no steps ran'}."), ""]
    with open(os.path.join(run, "summary.md"), "w") as f:
        f.write("\n".join(L))
    return 0


def cmd_verdict(a) -> int:
    steps = read_steps(a.run)
    failed = [s["name"] for s in steps if not step_ok(s)]
    if steps and not failed:
        print(f"gpu-validate: all {len(steps)} steps passed or were skipped for a stated reason ({a.run})")
        return 0
    print(f"gpu-validate: {len(failed)} of {len(steps)} steps FAILED or were cut: {', '.join(failed)} ({a.run})")
    return 1


def cmd_nccl_version(a) -> int:
    d = json.load(open(a.info))
    v = ((d.get("system") or {}).get("runtime") or {}).get("nccl_version")
    if not v:
        return 1
    print(v)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--nccl-tests", required=True)
    c.add_argument("--dpbench", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--tolerance", type=float, default=float(os.environ.get("GPU_VALIDATE_COMPARE_TOL_PCT", 5)))
    c.add_argument("--min-bytes", type=int, default=int(os.environ.get("GPU_VALIDATE_COMPARE_MIN_BYTES", 16 << 20)))
    c.add_argument("--min-time-us", type=float,
                   default=float(os.environ.get("GPU_VALIDATE_COMPARE_MIN_TIME_US", 100)))
    for name in ("summary", "verdict"):
        s = sub.add_parser(name)
        s.add_argument("--run", required=True)
    v = sub.add_parser("nccl-version")
    v.add_argument("--info", required=True)
    w = sub.add_parser("version-at-least")
    w.add_argument("have")
    w.add_argument("need")
    a = ap.parse_args(argv)
    if a.cmd == "compare":
        return cmd_compare(a)
    if a.cmd == "summary":
        return cmd_summary(a)
    if a.cmd == "verdict":
        return cmd_verdict(a)
    if a.cmd == "nccl-version":
        return cmd_nccl_version(a)
    return 0 if vtuple(a.have) >= vtuple(a.need) else 1


if __name__ == "__main__":
    sys.exit(main())
