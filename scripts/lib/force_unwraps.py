#!/usr/bin/env python3
"""Counts force-unwraps (`x!`, `try!`, `as!`) in Swift sources, comments and string literals
left out, and compares them with the baseline: a file may have fewer than it had, never more,
and a new file has none, except in the C wrappers (where a C API's non-null pointer is
unwrapped at the boundary). `--write` records the current counts as the new baseline.

Why a counter of our own: swift-format's NeverForceUnwrap rule reports every existing one
and has no baseline, so it cannot say "no new ones"."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / ".ci" / "force-unwraps.txt"
# Where a C library's handles and buffers meet Swift.
WRAPPERS = ("Sources/Archive/", "Sources/Ext4/Ext2Filesystem",
            "Sources/Provision/PasswordHash.swift", "Sources/Disk/BlockProbe.swift")

STRING = re.compile(r'"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"')
BLOCK_COMMENT = re.compile(r"/\*[\s\S]*?\*/")
LINE_COMMENT = re.compile(r"//[^\n]*")
UNWRAP = re.compile(r"[\w\)\]\?]!(?!=)")


def count(text: str) -> int:
    text = BLOCK_COMMENT.sub("", text)
    text = STRING.sub('""', text)
    text = LINE_COMMENT.sub("", text)
    return len(UNWRAP.findall(text))


def current() -> dict:
    counts = {}
    for path in sorted((ROOT / "Sources").rglob("*.swift")):
        rel = path.relative_to(ROOT).as_posix()
        n = count(path.read_text(encoding="utf-8"))
        if n:
            counts[rel] = n
    return counts


def main() -> int:
    counts = current()
    if "--write" in sys.argv:
        BASELINE.write_text("".join(f"{n} {p}\n" for p, n in counts.items()))
        print(f"force-unwraps: baseline written ({sum(counts.values())} in {len(counts)} files)")
        return 0
    baseline = {}
    for line in BASELINE.read_text().splitlines():
        n, p = line.split(" ", 1)
        baseline[p] = int(n)
    bad = [(p, n, baseline.get(p, 0)) for p, n in counts.items()
           if n > baseline.get(p, 0) and not p.startswith(WRAPPERS)]
    for p, n, was in bad:
        print(f"{p}: {n} force-unwraps, {was} allowed (unwrap with guard/if let, or throw)")
    if bad:
        return 1
    print(f"force-unwraps: {sum(counts.values())} in {len(counts)} files, none new")
    return 0


if __name__ == "__main__":
    sys.exit(main())
