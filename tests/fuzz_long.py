"""The long fuzz run (not collected by pytest): ``python tests/fuzz_long.py [cases] [write_every]``.

Runs tests/test_fuzz.py's hypothesis test with many examples and prints the cases run, how many had
every file refused, how many results were written, and the time taken. A failure is shrunk and shown
by hypothesis as in the suite.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ["KAOPING_FUZZ_EXAMPLES"] = sys.argv[1] if len(sys.argv) > 1 else "10000"
os.environ["KAOPING_FUZZ_WRITE_EVERY"] = sys.argv[2] if len(sys.argv) > 2 else "4"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_fuzz  # noqa: E402  (reads the settings above when imported)


class _Temps:
    """Enough of pytest's tmp_path_factory: a fresh folder per case, the previous one removed (disk)."""

    def __init__(self, root: Path):
        self.root = root
        self.count = 0

    def mktemp(self, name: str) -> Path:
        shutil.rmtree(self.root / f"{name}{self.count}", ignore_errors=True)
        self.count += 1
        if self.count % 500 == 0:
            print(f"{self.count} cases", flush=True)
        path = self.root / f"{name}{self.count}"
        path.mkdir()
        return path


def main() -> int:
    start = time.monotonic()
    failed = None
    with tempfile.TemporaryDirectory() as root:
        try:
            test_fuzz.test_mutated_samples_never_crash_and_lose_no_unit(tmp_path_factory=_Temps(Path(root)))
        except BaseException as exc:  # noqa: BLE001 - report whatever hypothesis raised, then exit 1
            failed = exc
    stats = test_fuzz.STATS
    print(f"cases {stats['cases']}, every file refused {stats['refused_all']}, results written {stats['written']}, "
          f"{time.monotonic() - start:.0f} s, {'FAILED: ' + repr(failed)[:2000] if failed else 'no failure'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
