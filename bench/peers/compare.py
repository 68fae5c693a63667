#!/usr/bin/python3
"""glnn and its CPU peers side by side: runs `glnn bench` and each peer program (bench/peers, built by
`make bench-peers`) alternately, case by case, for several rounds, then prints a table of medians with the
ratio glnn/peer.

Each measurement is one process: `glnn bench --device D --filter CASE --json --runs N` (run from the repository
root, so that the dog classifier finds ../shared), or `PEER --filter CASE --types T --threads N --runs N --json`.
Every process warms up (at least one run and 200 ms) and reports the median and minimum of its runs; a round runs
every contender once per case, in the opposite order on odd rounds, so that all of them meet the same machine.
The table gives, per case and contender, the median over rounds of those medians, the smallest minimum, G
multiply-adds per second at the median, and for each glnn device the median over rounds of the paired ratio
glnn time / contender time (above 1: glnn is slower), and "others": how many cores other processes kept busy
while the contender ran (from /proc/stat less the contender's own CPU time). The machines are shared: a
2-thread figure next to others ≈ 1 on a 2-core machine measures the neighbour, not the contender.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CASES = "conv3x3_64_128,conv1x1_64_128,dw3x3_64_128,img3x3s2_32_256,dog_classifier"
DEFAULT_PEERS = ["build-peers/peer_xnnpack", "build-peers/peer_opencv"]


def split(s):
    return [x for x in s.split(",") if x]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("glnn", nargs="?", default="build/glnn", help="the glnn command (default build/glnn)")
    p.add_argument("devices", nargs="?", default="cpu",
                   help="comma-separated glnn devices, each a contender (default cpu)")
    p.add_argument("--cases", default=DEFAULT_CASES, help="comma-separated case names (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    p.add_argument("--runs", type=int, default=20, help="timed runs per peer process (default 20)")
    p.add_argument("--glnn-runs", type=int, default=10,
                   help="--runs of glnn bench (default 10; glnn caps single layers at 3 on its CPU reference)")
    p.add_argument("--threads", default="1,2", help="comma-separated peer thread counts (default 1,2)")
    p.add_argument("--glnn-threads", help="GLNN_THREADS for glnn (its CPU back end's pool size)")
    p.add_argument("--peer", action="append", metavar="PROGRAM",
                   help="a peer program (repeatable; default build-peers/peer_xnnpack and build-peers/peer_opencv)")
    p.add_argument("--types", help="comma-separated peer types to run (e.g. f32,qs8; default: every type)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                   help="before each measurement, wait up to SECONDS for half a second in which other processes "
                        "keep less than a quarter of a core busy (default 0: do not wait)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--wide", action="store_true",
                   help="one row per contender, one column per case: median ms (G MAC/s), then the smallest minimum")
    p.add_argument("--raw", metavar="FILE", help="write every measurement as JSON to FILE")
    p.add_argument("--timeout", type=float, default=600, help="seconds one process may take (default 600)")
    p.add_argument("--from-raw", metavar="FILE", help="print the table of an earlier --raw FILE instead of measuring")
    return p.parse_args()


def resolve(path):
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def run(cmd, env=None, timeout=600):
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %g s" % timeout
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        return None, (p.stderr.strip() or p.stdout.strip() or "exit status %d" % p.returncode).splitlines()[-1]
    return p.stdout, None


class Contender:
    def __init__(self, label, threads, command, glnn_device=None, cases=None):
        self.label = label          # "glnn cpu", "xnnpack-f32"
        self.threads = threads      # "-" for glnn
        self.command = command      # function(case) -> argv
        self.glnn_device = glnn_device
        self.cases = cases          # the cases it has (None: all)
        self.results = {}           # case -> {round: (median_ms, min_ms, gmacs)}
        self.errors = {}            # case -> message
        self.device_name = None


def glnn_contenders(args):
    out = []
    for d in split(args.devices):
        def command(case, d=d):
            return [resolve(args.glnn), "bench", "--device", d, "--filter", case, "--json", "--runs",
                    str(args.glnn_runs)]
        out.append(Contender("glnn " + d, "-", command, glnn_device=d))
    return out


def peer_contenders(args):
    out = []
    wanted = split(args.types) if args.types else None
    for prog in args.peer or DEFAULT_PEERS:
        path = resolve(prog)
        if not os.access(path, os.X_OK):
            print("compare: %s not built (make bench-peers); left out" % prog, file=sys.stderr)
            continue
        types, err = run([path, "--list-types"])
        listing, err2 = run([path, "--list"])
        if types is None or listing is None:
            print("compare: %s: %s; left out" % (prog, err or err2), file=sys.stderr)
            continue
        cases = {line.split()[0] for line in listing.splitlines() if line.strip()}
        name = os.path.basename(path).replace("peer_", "")
        for t in split(types.strip()):
            if wanted and t not in wanted:
                continue
            for n in split(args.threads):
                def command(case, path=path, t=t, n=n):
                    return [path, "--filter", case, "--types", t, "--threads", n, "--runs", str(args.runs), "--json"]
                out.append(Contender("%s-%s" % (name, t), n, command, cases=cases))
    return out


def busy_seconds():
    """CPU time spent by the whole machine (all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_quiet(limit):
    """Waits up to limit seconds for a half second in which the machine is nearly idle (we run nothing then)."""
    end = time.monotonic() + limit
    while True:
        b0, t0 = busy_seconds(), time.monotonic()
        time.sleep(0.5)
        b1 = busy_seconds()
        if b0 is None or b1 is None or (b1 - b0) / (time.monotonic() - t0) < 0.25 or time.monotonic() >= end:
            return


def measure(c, case, args, env):
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    b0, c0, t0 = busy_seconds(), children_seconds(), time.monotonic()
    out, err = run(c.command(case), env=env, timeout=args.timeout)
    wall = time.monotonic() - t0
    b1, c1 = busy_seconds(), children_seconds()
    # cores kept busy by other processes while this one ran (the machine is shared)
    others = max(0.0, ((b1 - b0) - (c1 - c0)) / wall) if b0 is not None and b1 is not None and wall > 0 else 0.0
    if out is None:
        return None, err
    try:
        if c.glnn_device is not None:
            rows = json.loads(out)
        else:
            rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        return None, "unreadable output: %s" % e
    rows = [r for r in rows if r.get("name") == case]
    if not rows:
        return None, "no result for %s" % case
    r = rows[0]
    if c.glnn_device is not None:
        c.device_name = r.get("device")
    else:
        c.label = r.get("peer", c.label)
    return (r["median_ms"], r["min_ms"], r["gmacs"], others), None


def machine():
    model, cores = "?", os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d logical CPUs" % (model, cores)


def fmt_ms(v):
    return "%.3f" % v if v < 10 else "%.2f" % v if v < 100 else "%.1f" % v


def table(args, cases, glnns, contenders):
    everyone = glnns + contenders
    head = ["case", "contender", "threads", "median ms", "min ms", "G MAC/s", "others"] + \
        ["%s / this" % g.label for g in glnns]
    rows = []
    for case in cases:
        for c in everyone:
            res = c.results.get(case)
            if not res:
                if case in c.errors:
                    rows.append([case, c.label, str(c.threads), "error: " + c.errors[case][:60], "", "", ""] +
                                [""] * len(glnns))
                continue
            med = statistics.median(v[0] for v in res.values())
            mn = min(v[1] for v in res.values())
            gm = statistics.median(v[2] for v in res.values())
            others = statistics.median(v[3] for v in res.values())
            ratios = []
            for g in glnns:
                gres = g.results.get(case, {})
                pairs = [gres[r][0] / res[r][0] for r in res if r in gres and res[r][0] > 0]
                ratios.append("%.2f" % statistics.median(pairs) if pairs and g is not c else "")
            rows.append([case, c.label, str(c.threads), fmt_ms(med), fmt_ms(mn), "%.1f" % gm, "%.2f" % others] +
                        ratios)
    if args.markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
        fmt = lambda r: "  ".join(str(x).ljust(w) if i < 2 else str(x).rjust(w) for i, (x, w) in enumerate(zip(r, widths)))
        lines = [fmt(head)] + [fmt(r) for r in rows]
    return "\n".join(lines)


def wide_table(args, cases, everyone):
    head = ["contender", "threads"] + cases + ["others"]
    rows = []
    for c in everyone:
        cells, others = [], []
        for case in cases:
            res = c.results.get(case)
            if not res:
                cells.append("error" if case in c.errors else "")
                continue
            med = statistics.median(v[0] for v in res.values())
            gm = statistics.median(v[2] for v in res.values())
            mn = min(v[1] for v in res.values())
            others += [v[3] for v in res.values()]
            cells.append("%s (%.1f) %s" % (fmt_ms(med), gm, fmt_ms(mn)))
        rows.append([c.label, str(c.threads)] + cells + ["%.2f" % statistics.median(others) if others else ""])
    if args.markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i < 1 else "---:" for i in range(len(head))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        lines = ["  ".join(str(x).ljust(w) if i < 1 else str(x).rjust(w) for i, (x, w) in enumerate(zip(r, widths)))
                 for r in [head] + rows]
    return "\n".join(lines)


def report(args, info, cases, glnns, contenders):
    print("machine: %s; load average %.2f at the start, %.2f at the end; %d rounds in %.0f s" %
          (info["machine"], info["load"][0], info["load"][1], info["rounds"], info["seconds"]))
    for g in glnns:
        print("%s: %s (%s)" % (g.label, g.device_name or "?", info["glnn"]))
    print("peers: %d runs per process, glnn: --runs %d; medians over rounds; ratio = glnn time / contender time, "
          "paired by round; others: cores kept busy by other processes meanwhile (median over rounds)\n" %
          (info["runs"], info["glnn_runs"]))
    if args.wide:
        print("cells: median ms (G MAC/s at the median) and the smallest minimum ms\n")
        print(wide_table(args, cases, glnns + contenders))
    else:
        print(table(args, cases, glnns, contenders))


def from_raw(args):
    with open(args.from_raw) as f:
        raw = json.load(f)
    glnns, contenders = [], []
    for d in raw["contenders"]:
        device = d.get("glnn_device", d["label"][5:] if d["label"].startswith("glnn ") else None)
        c = Contender(d["label"], d["threads"], None, glnn_device=device)
        c.device_name = d.get("device")
        c.results = {k: {int(r): tuple(v) for r, v in res.items()} for k, res in d["results"].items()}
        c.errors = d.get("errors", {})
        (glnns if c.glnn_device is not None else contenders).append(c)
    info = raw.get("info") or {"machine": raw.get("machine", "?"), "load": raw.get("load", [0, 0]), "seconds": 0,
                               "rounds": max((len(r) for c in raw["contenders"] for r in c["results"].values()),
                                             default=0), "runs": 0, "glnn_runs": 0, "glnn": "?"}
    report(args, info, raw["cases"], glnns, contenders)
    return 0


def main():
    args = parse_args()
    if args.from_raw:
        return from_raw(args)
    cases = split(args.cases)
    env = dict(os.environ)
    env.setdefault("MESA_GLES_VERSION_OVERRIDE", "3.1")
    if args.glnn_threads:
        env["GLNN_THREADS"] = args.glnn_threads
    glnns = glnn_contenders(args)
    contenders = peer_contenders(args)
    everyone = glnns + contenders
    load0 = os.getloadavg()
    t0 = time.time()
    for r in range(args.rounds):
        order = everyone if r % 2 == 0 else list(reversed(everyone))
        for case in cases:
            line = []
            for c in order:
                if c.cases is not None and case not in c.cases:
                    continue
                if case in c.errors:
                    continue  # failed before: not retried
                res, err = measure(c, case, args, env)
                if res is None:
                    c.errors[case] = err
                    print("compare: %s %s: %s" % (c.label, case, err), file=sys.stderr)
                    continue
                c.results.setdefault(case, {})[r] = res
                line.append("%s/%s %s" % (c.label, c.threads, fmt_ms(res[0])))
            print("round %d/%d %s: %s" % (r + 1, args.rounds, case, ", ".join(line)), file=sys.stderr)
    info = {"machine": machine(), "load": [load0[0], os.getloadavg()[0]], "rounds": args.rounds,
            "seconds": time.time() - t0, "runs": args.runs, "glnn_runs": args.glnn_runs, "glnn": resolve(args.glnn),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    report(args, info, cases, glnns, contenders)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"info": info, "cases": cases,
                       "contenders": [{"label": c.label, "threads": c.threads, "glnn_device": c.glnn_device,
                                       "device": c.device_name,
                                       "results": {k: {str(r): v for r, v in res.items()}
                                                   for k, res in c.results.items()},
                                       "errors": c.errors} for c in everyone]}, f, indent=1)
    return 1 if any(c.errors for c in everyone) else 0


if __name__ == "__main__":
    sys.exit(main())
