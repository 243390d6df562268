#!/usr/bin/env python
"""Local AWS for `make run`: moto server on 127.0.0.1, on a free port, with persistence.

moto keeps no state of its own, so this wrapper uses moto's request recorder: every request that can change
state is appended to ``.local/moto-recording.jsonl`` (reads are not: the recording, and the time to replay
it, grow with the data, not with the traffic); on start the file is replayed into the fresh server
*before* recording is turned on (so replay is not recorded twice) and before the app is told the
port. Cognito pool and client ids are derived from their names (HASH strategy) and the first
recorded request seeds moto's random source, so ids the app stored survive a replay.

When ready it writes ``{"endpoint_url": ...}`` to ``.local/localaws.json`` (read by settings) and
prints one line; SIGINT/SIGTERM stop the server and remove that file. Delete the recording to start
from empty (`make reset-local`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.environ.get("CLOUDKIDA_LOCAL_STATE_DIR", ".local"))
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()

    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    recording = state_dir / "moto-recording.jsonl"
    endpoint_file = state_dir / "localaws.json"
    endpoint_file.unlink(missing_ok=True)

    # moto reads these when it is imported.
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    os.environ.pop("MOTO_ENABLE_RECORDING", None)
    os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
    os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH")

    import requests
    from moto.moto_api import recorder
    from moto.server import ThreadedMotoServer

    from scripts.emulator import record_only_writes, serialize_moto

    serialize_moto()
    record_only_writes()

    lines = _valid_lines(recording)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    if lines:
        recorder.replay_recording(target_host=url)
        print(f"localaws: restored {lines} recorded requests from {recording}", flush=True)
    recorder.start_recording()
    if not lines:
        requests.post(f"{url}/moto-api/seed?a={args.seed}", timeout=10)

    endpoint_file.write_text(json.dumps({"endpoint_url": url, "pid": os.getpid()}))
    print(f"localaws: moto server ready on {url} (recording to {recording})", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):  # a timed wait, so a signal caught by another thread still wakes us
        pass
    recorder.stop_recording()
    server.stop()
    endpoint_file.unlink(missing_ok=True)
    print("localaws: stopped", flush=True)
    return 0


def _valid_lines(recording: Path) -> int:
    """Drop a truncated last line (a kill mid-write) so replay does not stop there; count the rest."""
    if not recording.exists():
        return 0
    good, bad = [], 0
    for line in recording.read_text().splitlines(keepends=True):
        try:
            json.loads(line)
            good.append(line if line.endswith("\n") else line + "\n")
        except ValueError:
            bad += 1
    if bad:
        recording.write_text("".join(good))
    return len(good)


if __name__ == "__main__":
    sys.exit(main())
