"""CPU instructions per request of workspace pages, counted by valgrind (callgrind), with
/healthz counted in the same run. On a shared machine wall-clock figures move by ±40% from one
run to the next; instruction counts repeat to within 0.2%, so this is the figure to compare
before and after a change.

    python -m bench.instructions                         # queue, complaint page, /healthz
    python -m bench.instructions --path "?view=overdue" --requests 5
    python -m bench.instructions --path "POST complaints/{id}/classify?severity=major&cause_category=machine"

Needs valgrind (apt-get install valgrind) and the database of ``python -m bench.seed``. Each
page is counted in its own valgrind run: the app starts, signs in through the test client as
the seed's quality user and warms up with instrumentation off; only the N requests are
counted. The database's own work is not included (it runs in PostgreSQL).

A path written ``POST <path>?<form data>`` is a panel's POST as htmx sends it (HX-Request,
the CSRF token and the complaint's version from the page; each answer carries the next
version, which the next request sends, so every request is a real, successful save).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_bench"
PAGES = ["/healthz", "", "complaints/{id}",
         "POST complaints/{id}/classify?severity=major&info_class=A&cause_category=machine"]


def poster(client, url: str, path: str):
    """A function sending the panel POST ``path`` (see the module's docstring), for the
    complaint page at ``url``; each call sends the version the previous answer gave."""
    from urllib.parse import parse_qsl

    target, _, query = path[len("POST "):].partition("?")
    page = client.get(url).get_data(as_text=True)
    state = {"version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"',
                      page)
    data = dict(parse_qsl(query), csrf_token=token.group(1) or token.group(2))
    post_url = url.rsplit("/complaints/", 1)[0] + "/" + target.replace(
        "complaints/{id}", "complaints/" + url.rsplit("/", 1)[1])

    def send():
        response = client.post(post_url, data={**data, "version": state["version"]},
                               headers={"HX-Request": "true", "Referer": f"https://localhost{url}"})
        found = re.search(r'name="version" value="(\d+)"', response.get_data(as_text=True))
        state["version"] = found.group(1) if found else state["version"]
        return response
    return send


def inner(database_url: str, tenant: str, path: str, requests: int) -> None:
    """Runs under valgrind: warm up uninstrumented, then count ``requests`` requests."""
    from bench.profile_pages import signed_in_client

    if path.startswith("POST "):
        client, url = signed_in_client(database_url, tenant, "complaints/{id}")
        send = poster(client, url, path)
    else:
        client, url = signed_in_client(database_url, tenant, path)
        send = lambda: client.get(url)  # noqa: E731
    for _ in range(3):
        assert send().status_code == 200, url
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                   capture_output=True)
    for _ in range(requests):
        send()
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True,
                   capture_output=True)


def count(database_url: str, tenant: str, path: str, requests: int) -> int:
    """Instructions per request for ``path`` (below the tenant's /staff/, or absolute)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, "-m",
             "bench.instructions", "--inner", "--database-url", database_url, "--tenant", tenant,
             "--path", path, "--requests", str(requests)],
            cwd=ROOT, capture_output=True, text=True, timeout=1800)
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not collected:
        raise SystemExit(f"valgrind run for {path!r} failed:\n{result.stderr[-2000:]}")
    return int(collected.group(1)) // requests


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tenant", default="bench1")
    parser.add_argument("--path", action="append", help="a page (repeatable); default: "
                        "the queue, a complaint page and /healthz")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args.database_url, args.tenant, args.path[0], args.requests)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    paths = args.path or PAGES
    figures = {path: count(args.database_url, args.tenant, path, args.requests)
               for path in (["/healthz"] + [p for p in paths if p != "/healthz"])}
    trivial = figures["/healthz"]
    print(f"| page ({args.requests} requests each) | instructions per request | × /healthz |")
    print("| --- | ---: | ---: |")
    for path, figure in figures.items():
        label = path if path.startswith(("/", "POST ")) else f"/t/{args.tenant}/staff/{path}"
        print(f"| {label} | {figure / 1e6:.1f} M | {figure / trivial:.1f}× |")


if __name__ == "__main__":
    main()
