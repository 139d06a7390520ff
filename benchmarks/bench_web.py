"""`make bench-web`: the web app's first Leads page at the size of a real marketing database
(issue 11: at most 300 ms with 1,000,000 contacts), beside two baselines measured in the same
run on the same store — the store's query alone (`Project.leads_page`, in process) and the
HTTP API's page of the same leads (`GET /v1/leads?limit=25`) — so that what the page adds
(session, rendering, the HTTP round trip) shows however busy the shared machine is.

    python benchmarks/bench_web.py [--contacts 1000000] [--events 3000000] [--repeat 20]
        [--work DIR] [--json]

Steps: `leadscore generate`, `import contacts`, `import events`, `score` into a fresh project
(kept in --work to be measured again: a project already there is reused), then `leadscore
serve --port 0` and, with a logged-in salesperson, the first page `--repeat` times after one
warm-up request."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LEADSCORE = [sys.executable, "-m", "leadscore"]
GOAL_SECONDS = 0.3
EMAIL, PASSWORD = "bench@example.com", "bench password 1"


def run(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def build(work: Path, contacts: int, events: int) -> dict[str, float]:
    if (work / "leadscore.toml").exists():
        return {}
    work.mkdir(parents=True, exist_ok=True)
    times = {"init": run([*LEADSCORE, "init", str(work)], work.parent)}
    times["generate"] = run([*LEADSCORE, "generate", "--contacts", str(contacts), "--events",
                             str(events), "--seed", "7"], work)
    times["import contacts"] = run([*LEADSCORE, "import", "contacts", "data/contacts.csv"], work)
    times["import events"] = run([*LEADSCORE, "import", "events", "data/events.jsonl"], work)
    times["score"] = run([*LEADSCORE, "score"], work)
    return times


def timed(call: Any, repeat: int) -> dict[str, float]:
    call()  # warm-up: the first request loads what later ones reuse
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return {"median": statistics.median(seconds), "p90": seconds[int(len(seconds) * 0.9) - 1],
            "min": seconds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=None, help="default: 3 per contact")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import httpx

    from leadscore.project import Project

    events = args.events if args.events is not None else 3 * args.contacts
    work = args.work or Path(tempfile.gettempdir()) / f"leadscore-bench-web-{args.contacts}"
    built = build(work.resolve(), args.contacts, events)
    project = Project.open(work)
    if not any(u.email == EMAIL for u in project.users()):
        project.create_user(EMAIL, "sales", PASSWORD)
    key = project.create_api_key(["read"], name="bench-web").secret
    store = timed(lambda: project.leads_page(limit=25), args.repeat)
    project.close()
    env = {**os.environ, "NO_COLOR": "1"}
    server = subprocess.Popen([*LEADSCORE, "serve", "--port", "0"], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline())
        assert port is not None, "serve printed no address"
        client = httpx.Client(base_url=f"http://127.0.0.1:{port.group(1)}", timeout=60)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                     "csrf": token.group(1)})
        page = client.get("/leads")
        assert page.status_code == 200 and page.text.count('href="/contacts/') == 25, \
            page.status_code
        web = timed(lambda: client.get("/leads").raise_for_status(), args.repeat)
        api = timed(lambda: client.get("/v1/leads", params={"limit": 25}, headers={
            "Authorization": f"Bearer {key}"}).raise_for_status(), args.repeat)
    finally:
        server.terminate()
        server.communicate(timeout=120)
    result = {"contacts": args.contacts, "events": events, "repeat": args.repeat,
              "build_seconds": built, "leads_page_web": web, "leads_page_api": api,
              "leads_page_store": store, "goal_seconds": GOAL_SECONDS,
              "met": web["median"] <= GOAL_SECONDS, "load": os.getloadavg()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.contacts:,} contacts, {events:,} events; median of {args.repeat} "
          f"(load {os.getloadavg()[0]:.1f})")
    for name, figures in (("web page /leads", web), ("API /v1/leads", api),
                          ("store query alone", store)):
        print(f"  {name:<18} median {figures['median'] * 1000:7.1f} ms   "
              f"p90 {figures['p90'] * 1000:7.1f} ms   min {figures['min'] * 1000:7.1f} ms")
    print(f"  goal: the web page's first page within {GOAL_SECONDS * 1000:.0f} ms — "
          f"{'met' if result['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
