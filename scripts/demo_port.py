"""The demo's webhook receiver on a port that is free now, never a fixed one (other programs
run on the machines `make demo` runs on).

    python scripts/demo_port.py pick   # a free port; the project's webhook URL points at it
    python scripts/demo_port.py wait N # returns once something listens on port N (30 s at most)

Run in the demo project's folder."""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path


def pick() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = Path("leadscore.toml")
    config.write_text(re.sub(r"http://127\.0\.0\.1:\d+/", f"http://127.0.0.1:{port}/",
                             config.read_text(encoding="utf-8")), encoding="utf-8")
    return port


def wait(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on port {port} after {seconds:.0f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["pick"]:
        print(pick())
    elif sys.argv[1:2] == ["wait"] and len(sys.argv) == 3:
        wait(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
