"""Latency of one suggestion through the HTTP API, warm, against a bare HTTP round trip in the same run.

Starts the real service (uvicorn, one worker, as ``clwstwr serve`` runs it: httptools and uvloop when installed) on 127.0.0.1 in a subprocess with a fresh data
directory, warms it, then alternates requests over one keep-alive connection of Python's standard
``http.client`` (a client that adds next to nothing, as curl or a browser's fetch): A = POST
/api/v1/suggest with a ~40-word answer, B = GET /healthz (the HTTP floor: same server, same
connection), C = the suggestion for an answer whose opener holds a capitalised word that could be a
name ("Patients tell us ..."), so de-identification runs spaCy's NER, which A's answers never
need (about half of real answers are like C), and D = A's kind of request sent through httpx on a
second keep-alive connection: what a Python program using that library pays, its own ~1 ms included.
Every A and D request uses a different answer, never seen before by the process, so the
embedding cache cannot answer it: this is the cost a reviewer pays for new text. When the API wants
a log-in, a reviewer account is made with ``clwstwr user add`` first and both clients log in, so the
session check is part of what is measured, as it is for a real reviewer.

Then, with the server stopped, the same service is built in this process on the same data directory
and timed on as many further unseen answers (``in_process_suggest_ms``): what the suggestion itself
costs, so that the rest of the HTTP figure is seen to be the web stack (HTTP parsing, routing, the session
check, JSON). The machine is shared: the load average at the start and at the end is recorded too.

The whole HTTP measurement is repeated in ``--rounds`` server lifetimes (3 by default, each on
answers unseen so far): on a shared machine one run can land in a busy minute, so the figures of
record are the medians over rounds of each round's p50 and p99, with every round kept beside them.

    python -m evaluation.api_latency [--requests 300] [--rounds 3] [--out evaluation/results/api_latency.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from evaluation.results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
OPENERS = ["Honestly,", "In our cluster", "For us", "Over the last year", "As a practice manager I'd say", "Mostly,"]
#: Openers with a capitalised word that could be a name (a content word or a place), as about half of
#: real answers have: de-identification then runs spaCy's NER, which the openers above never need.
NAMED_OPENERS = ["Patients tell us", "Staff feel", "Nurses in Cardiff think", "Looking back,", "Realistically,",
                 "Receptionists tell us"]
FRAGMENTS = [
    "the funding is short term and non-recurrent so projects stop every March",
    "clinicians cannot be released from clinics to attend the cluster meetings",
    "the health board sign-off process adds months to every small purchase",
    "half the practices never send anyone and social care rarely attend",
    "nobody is clear what the cluster is for now that the PCPG exists",
    "our cluster lead gives clear direction and chairs the meetings well",
    "relationships between the pharmacists, GPs and nurses are built on trust",
    "working with the council's housing team has opened doors for patients",
    "patients now see the physio directly without going through the GP",
    "recurrent funding would let us keep the staff we have trained",
    "staff morale is low because good ideas never get off the ground",
    "the community connectors link people with local groups and services",
]


def make_answers(n: int, seed: int, openers: list[str] = OPENERS) -> list[str]:
    """Distinct ~40-word answers (three fragments and an opener, in varying order)."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        parts = rng.sample(FRAGMENTS, 3)
        out.add(f"{rng.choice(openers)} {parts[0]}; {parts[1]}, and {parts[2]}. (ref {rng.randint(1, 10**6)})")
    return sorted(out)


class LeanClient:
    """One keep-alive HTTP/1.1 connection through ``http.client``, carrying the session cookie by hand."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie: str | None = None

    def request(self, method: str, path: str, body: dict[str, object] | None = None) -> bytes:
        headers = {"cookie": self.cookie} if self.cookie else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["content-type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
        cookie = response.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return data

    def close(self) -> None:
        self.connection.close()


def _uvicorn_stack() -> str:
    """What uvicorn's "auto" settings choose here: httptools and uvloop when importable, else h11/asyncio."""
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http}, {loop}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


BENCH_USER = "latency-bench"
BENCH_PASSWORD = "latency benchmark only, not a secret"


def add_bench_user(env: dict[str, str]) -> bool:
    """Create the reviewer account the client logs in with; False when this version has no accounts."""
    done = subprocess.run(
        [sys.executable, "-m", "clwstwr.cli", "user", "add", BENCH_USER, "--role", "reviewer", "--password-stdin",
         "--by", "api_latency"],
        cwd=ROOT, env=env, input=BENCH_PASSWORD + "\n", capture_output=True, text=True,
    )
    return done.returncode == 0


def time_in_process(home: Path, models_path: Path | None, texts: list[str], warmup: int) -> list[float]:
    """``SuggestionService.suggest`` per text, in ms, built as the server builds it (same data directory)."""
    from clwstwr.settings import Settings
    from clwstwr.suggesting import build_suggestion_service, load_text_models
    from corpora.codebook import load_codebook

    settings = Settings(home=home, models_path=models_path)
    service = build_suggestion_service(settings, load_codebook(), models=load_text_models(settings))
    for text in texts[:warmup]:
        service.suggest(text, "barrier")
    out = []
    for text in texts[warmup:]:
        t0 = time.perf_counter()
        service.suggest(text, "barrier")
        out.append((time.perf_counter() - t0) * 1000)
    service.close()
    return out


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p99": round(percentile(values, 99), 2),
            "mean": round(statistics.fmean(values), 2)}


@dataclass
class HttpRound:
    """One server lifetime's timings, in ms, per series (see the module docstring)."""

    suggest: list[float]
    healthz: list[float]
    needing_ner: list[float]
    httpx: list[float]
    startup_seconds: float

    def summary(self) -> dict[str, object]:
        return {"suggest_ms": summary(self.suggest), "baseline_healthz_ms": summary(self.healthz),
                "suggest_ms_answers_needing_ner": summary(self.needing_ner),
                "suggest_ms_through_httpx": summary(self.httpx), "server_startup_seconds": round(self.startup_seconds, 1)}


def run_http_round(env: dict[str, str], has_accounts: bool, requests: int, warmup: int, seed: int) -> HttpRound:
    """Start the server, warm it, time A/B/C/D interleaved on answers unseen so far, stop it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_environment",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        started = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None:
                    raise SystemExit(f"server exited: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.5)
            startup = time.monotonic() - started
            lean = LeanClient(port)
            if has_accounts:
                login = {"username": BENCH_USER, "password": BENCH_PASSWORD}
                client.post("/api/v1/login", json=login).raise_for_status()
                lean.request("POST", "/api/v1/login", login)
            answers = make_answers(2 * (warmup + requests), seed=seed)
            answers, via_httpx = answers[::2], answers[1::2]
            for text, other in zip(answers[:warmup], via_httpx[:warmup]):
                lean.request("POST", "/api/v1/suggest", {"text": text, "kind": "barrier"})
                lean.request("GET", "/healthz")
                client.post("/api/v1/suggest", json={"text": other, "kind": "barrier"}).raise_for_status()
            named = make_answers(requests, seed=seed + 1000, openers=NAMED_OPENERS)
            out = HttpRound([], [], [], [], startup)
            for text, other, again in zip(answers[warmup:], named, via_httpx[warmup:]):
                t0 = time.perf_counter()
                lean.request("POST", "/api/v1/suggest", {"text": text, "kind": "barrier"})
                out.suggest.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                lean.request("GET", "/healthz")
                out.healthz.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                lean.request("POST", "/api/v1/suggest", {"text": other, "kind": "barrier"})
                out.needing_ner.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                client.post("/api/v1/suggest", json={"text": again, "kind": "barrier"}).raise_for_status()
                out.httpx.append((time.perf_counter() - t0) * 1000)
            lean.close()
            return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _median_over_rounds(rounds: list[dict[str, object]], series: str) -> dict[str, float]:
    return {q: round(statistics.median(r[series][q] for r in rounds), 2) for q in ("p50", "p99")}  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per series and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="server lifetimes, one after another; the figures of record are medians over rounds")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--models-path", type=Path, default=None, help="reuse fitted models from here")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "api_latency.json")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clwstwr-latency-"))
    env = dict(os.environ, CLWSTWR_HOME=str(home))
    if args.models_path:
        env["CLWSTWR_MODELS_PATH"] = str(args.models_path)
    load_at_start = list(os.getloadavg())
    has_accounts = add_bench_user(env)
    rounds = []
    for k in range(args.rounds):
        timed = run_http_round(env, has_accounts, args.requests, args.warmup, seed=7 + 100 * k)
        rounds.append({"round": k + 1, "load_average_after": list(os.getloadavg()), **timed.summary()})
    later = make_answers(args.warmup + args.requests, seed=5)  # never sent to the server
    in_process_ms = time_in_process(home, args.models_path, later, args.warmup)
    result = {
        "what": "POST /api/v1/suggest, ~40-word answer never seen before, warm server, keep-alive connections",
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "median_words": statistics.median(len(t.split()) for t in later),
        "suggest_ms": _median_over_rounds(rounds, "suggest_ms"),
        "baseline_healthz_ms": _median_over_rounds(rounds, "baseline_healthz_ms"),
        "suggest_ms_answers_needing_ner": _median_over_rounds(rounds, "suggest_ms_answers_needing_ner"),
        "suggest_ms_through_httpx": _median_over_rounds(rounds, "suggest_ms_through_httpx"),
        "median_note": "each figure above is the median over rounds of that round's p50 (or p99)",
        "per_round": rounds,
        "httpx_note": "series D: A's kind of request through httpx on its own keep-alive connection, interleaved "
                      "with A; the difference from suggest_ms is the client library's own time",
        "answers_needing_ner": {"openers": NAMED_OPENERS, "note": "same fragments; a capitalised word that could be "
                                "a name sends the answer through NER (see nlp.deidentify.may_hold_a_name)"},
        "in_process_suggest_ms": summary(in_process_ms),
        "targets": {"p50_ms": 15, "p99_ms": 30},
        "logged_in": has_accounts,
        "http_stack": f"uvicorn ({_uvicorn_stack()}) in a subprocess on 127.0.0.1; A, B, C: http.client, one keep-alive "
                      "connection; D: httpx, another",
        "load_average_at_start": load_at_start,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
