"""Fail when the Swedish catalogue misses a string or its compiled .mo is out of date.

Runs makemessages into the real catalogue, reads msgfmt's statistics, then puts the committed
catalogue back, so nothing changes on disk. `scripts/messages.sh` updates both files.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "svardesk" / "locale" / "sv" / "LC_MESSAGES"
SVARDESK = ROOT / ".venv" / "bin" / "svardesk"


def main() -> int:
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    if not po.exists() or not mo.exists():
        print("Swedish catalogue missing: run scripts/messages.sh")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "django.po"
        shutil.copy2(po, saved)
        try:
            subprocess.run(
                [str(SVARDESK), "makemessages", "-l", "sv", "--no-obsolete", "--no-location",
                 "--ignore", "node_modules/*", "--ignore", ".venv/*", "--ignore", "data/*"],
                cwd=ROOT / "svardesk", check=True, capture_output=True,
            )  # fmt: skip
            stats = subprocess.run(
                ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                check=True, capture_output=True, text=True,
            ).stderr  # fmt: skip
        finally:
            shutil.copy2(saved, po)
        fresh_mo = Path(tmp) / "django.mo"
        subprocess.run(["msgfmt", "--check", "-o", str(fresh_mo), str(po)], check=True)
        problems = []
        if "untranslated" in stats or "fuzzy" in stats:
            problems.append(f"Swedish catalogue is incomplete ({stats.strip()})")
        if fresh_mo.read_bytes() != mo.read_bytes():
            problems.append("django.mo is older than django.po")
    for problem in problems:
        print(problem + ": run scripts/messages.sh and translate the new strings.")
    if not problems:
        print(f"Swedish catalogue complete: {stats.strip()}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
