#!/usr/bin/python3
"""Reference measurement for `medtransfer bench ingest --reference pydicom`.

Reads every file under a folder with pydicom (Debian python3-pydicom, 2.3.x, with numpy) in one
thread, either headers only (stop_before_pixels) or with full pixel decoding (ds.pixel_array),
and prints one JSON object: files, passes, seconds, files_per_s, decoded_mb_per_s, failures by reason.
Run with Debian's interpreter (/usr/bin/python3): that is where python3-pydicom installs.
"""
import json
import os
import sys
import time

import pydicom


def main() -> int:
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in ("header", "full"):
        print("usage: pydicom_ingest.py DIR header|full [MIN_SECONDS]", file=sys.stderr)
        return 2
    root, mode = sys.argv[1], sys.argv[2]
    minimum_seconds = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    failures = {}
    decoded = 0
    ok = 0

    def read(path):
        if mode == "header":
            pydicom.dcmread(path, stop_before_pixels=True)
            return 0
        ds = pydicom.dcmread(path)
        return ds.pixel_array.nbytes

    # Warm-up, untimed, on the same first files as MedTransfer's (WarmUpFiles = 8).
    for path in paths[:8]:
        try:
            read(path)
        except Exception:
            pass

    # Timed passes over the folder until MIN_SECONDS were measured (as MedTransfer does); counts from pass 1.
    start = time.perf_counter()
    passes = 0
    while True:
        for path in paths:
            try:
                decoded += read(path)
                if passes == 0:
                    ok += 1
            except Exception as exc:  # a reference measurement counts failures, it does not stop
                if passes == 0:
                    name = type(exc).__name__
                    failures[name] = failures.get(name, 0) + 1
        passes += 1
        if time.perf_counter() - start >= minimum_seconds or not paths:
            break
    seconds = time.perf_counter() - start
    print(json.dumps({
        "tool": "pydicom " + pydicom.__version__,
        "mode": mode,
        "files": len(paths),
        "succeeded": ok,
        "seconds": seconds,
        "passes": passes,
        "files_per_s": len(paths) * passes / seconds if seconds > 0 else 0.0,
        "decoded_mb_per_s": decoded / 1e6 / seconds if seconds > 0 else 0.0,
        "failures": failures,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
