"""The raw aiokafka consume-then-produce passthrough (``e2e_kafka.passthrough``) in a
process of its own, like a worker, so the baseline gets its own CPU and its CPU
seconds can be read from /proc. SIGTERM stops it.

    python benchmarks/perf_passthrough.py BOOTSTRAP SOURCE TARGET
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from e2e_kafka import passthrough

__all__ = ["main"]


async def _run(bootstrap: str, source: str, target: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await passthrough(bootstrap, source, target, stop)


def main() -> int:
    bootstrap, source, target = sys.argv[1:4]
    asyncio.run(_run(bootstrap, source, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
