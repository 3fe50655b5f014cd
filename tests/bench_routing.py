"""Latency benchmark for the region resolver (not a test).

Run: .venv/bin/python tests/bench_routing.py [--repeat N]
Prints the directory load time and p50/p99/max latency of RegionDirectory.resolve over the
dev set plus the phrasings in tests/test_regions.py, repeated.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from handlers.regions import RegionDirectory  # noqa: E402


def _messages() -> list[str]:
    texts = [
        json.loads(line)["text"]
        for line in (HERE / "eval" / "routing_dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    sys.path.insert(0, str(HERE))
    from test_regions import OWN_CASES

    texts.extend(text for text, _ in OWN_CASES)
    # A long message without any place name: the worst case for the fuzzy fallback.
    texts.append(
        "Hei! Olemme pieni potilasyhdistys ja haluaisimme kysyä, miten järjestöavustusten "
        "hakeminen hyvinvointialueelta käytännössä toimii, mitä liitteitä hakemukseen "
        "tarvitaan ja milloin seuraava hakuaika alkaa. Kiitos paljon etukäteen vastauksesta!"
    )
    return texts


def main() -> None:
    """Measure load time and resolve() latency percentiles."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    start = time.perf_counter()
    directory = RegionDirectory.load()
    load_ms = (time.perf_counter() - start) * 1000

    texts = _messages()
    for text in texts:  # warm-up
        directory.resolve(text)
    samples: list[float] = []
    for _ in range(args.repeat):
        for text in texts:
            t0 = time.perf_counter()
            directory.resolve(text)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"load time: {load_ms:.1f} ms")
    print(f"messages: {len(texts)} x {args.repeat} = {len(samples)} calls")
    print(f"resolve p50: {p50:.3f} ms  p99: {p99:.3f} ms  max: {samples[-1]:.3f} ms")


if __name__ == "__main__":
    main()
