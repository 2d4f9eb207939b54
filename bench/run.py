"""`make bench` (python -m bench.run): every scenario against its ceiling, then bench/results.json and
docs/benchmarks.md. `--quick` runs small counts (for developing the bench; its figures mean little),
`--only flash,fanout,storefront,sync` picks scenarios, `--keep` leaves the run database (named after
DATABASE_URL's, `lm_bench_run` by default). `--viewers 2000 --seconds 20` overrides the fan-out's viewer
steps and the length of each step (for profiling one step; such figures are not the recorded run).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

from .common import (
    PROJECT,
    RUN_DB,
    bench_environment,
    database_drop,
    database_recreate,
    free_port,
    machine_info,
    now_iso,
    start_redis,
    stop,
    write_json,
)

SCENARIOS = ("flash", "fanout", "storefront", "sync")
FULL = {
    "buyers": 500,
    "viewer_steps": [500, 1000, 2000],
    "step_seconds": 15,
    "main_seconds": 30,
    "rate": 10,
    "wrk_seconds": 10,
    "feed_rows": 100_000,
    "catalog_sizes": [20, 300],
}
QUICK = {
    "buyers": 100,
    "viewer_steps": [100, 200],
    "step_seconds": 4,
    "main_seconds": 6,
    "rate": 10,
    "wrk_seconds": 3,
    "feed_rows": 10_000,
    "catalog_sizes": [5, 30],
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--keep", action="store_true", help="keep the lm_bench_run database afterwards")
    parser.add_argument("--output", default=str(PROJECT / "bench" / "results.json"))
    parser.add_argument("--no-report", action="store_true", help="do not regenerate docs/benchmarks.md")
    parser.add_argument("--viewers", help="fan-out viewer steps, comma-separated (e.g. 2000)")
    parser.add_argument("--seconds", type=float, help="fan-out seconds per step")
    options = parser.parse_args(argv)
    chosen = [s.strip() for s in options.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    sizes = dict(QUICK if options.quick else FULL)
    if options.viewers:
        sizes["viewer_steps"] = [int(n) for n in options.viewers.split(",")]
    if options.seconds:
        sizes["step_seconds"] = sizes["main_seconds"] = options.seconds

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    redis_port = free_port()
    bench_environment(redis_port=redis_port)
    started = time.time()
    log(f"fresh database {RUN_DB}, private redis-server on {redis_port}")
    database_recreate()
    redis = start_redis(redis_port)
    results: dict = {
        "date": now_iso(),
        "quick": options.quick,
        "machine": machine_info(),
        "sizes": sizes,
        "scenarios": {},
    }
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        # The driver seeds chat and plays the host at any rate; the servers keep the real limits.
        settings.LIVEMARKET_CHAT_RATE = (1_000_000, 10)

        call_command("migrate", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)
        for name in chosen:
            t0 = time.time()
            log(f"scenario {name}")
            results["scenarios"][name] = _run(name, sizes)
            results["scenarios"][name]["wall_seconds"] = round(time.time() - t0, 1)
    finally:
        from django.db import connections

        connections.close_all()
        stop(redis)
        if not options.keep:
            database_drop()
    results["total_seconds"] = round(time.time() - started, 1)
    output = Path(options.output).resolve()
    write_json(output, results)
    log(f"wrote {output} in {results['total_seconds']} s")
    if not options.no_report:
        from .report import write_report

        write_report(results)
        log("regenerated docs/benchmarks.md")
    return 0


def _run(name: str, sizes: dict) -> dict:
    if name == "flash":
        from . import flash_sale

        return flash_sale.run(buyers=sizes["buyers"], log=log)
    if name == "fanout":
        from . import fanout

        return fanout.run(
            steps=sizes["viewer_steps"],
            step_seconds=sizes["step_seconds"],
            main_seconds=sizes["main_seconds"],
            rate=sizes["rate"],
            log=log,
        )
    if name == "storefront":
        from . import storefront

        return storefront.run(seconds=sizes["wrk_seconds"], catalog_sizes=sizes["catalog_sizes"], log=log)
    from . import inventory_sync

    return inventory_sync.run(rows=sizes["feed_rows"], log=log)


if __name__ == "__main__":
    sys.exit(main())
