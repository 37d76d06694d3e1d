"""Benchmark: peak memory of streaming SDN_ADVANCED.XML, at ~12 MB and ~120 MB (the real file's size).

Builds synthetic files in OFAC's format from the bundled sample (its reference sets once, then
its parties, relationships and entries repeated with fresh IDs), parses each in a fresh process
with orchestration.sources.ofac_advanced and prints peak RSS (resource.getrusage). For contrast,
the same files are also loaded whole with lxml's `etree.parse`, which is what streaming avoids.

    .venv/bin/python benchmarks/advanced_xml_memory.py [MB ...]      (default 12 120)
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "orchestration" / "sample" / "ofac" / "SDN_ADVANCED.XML"
# attributes that hold a party's, entry's or relationship's own IDs (not reference-set IDs)
OWN_IDS = re.compile(r'(?<![\w-])(ID|FixedRef|ProfileID|From-ProfileID|To-ProfileID|SanctionsEntryID|NamePartGroupID)="(\d+)"')
SECTIONS = ("DistinctParties", "ProfileRelationships", "SanctionsEntries")

MEASURE = """
import resource, sys, time
from pathlib import Path
start = time.perf_counter()
if sys.argv[2] == "stream":
    from orchestration.sources.ofac_advanced import parse_advanced_xml
    parsed = parse_advanced_xml(Path(sys.argv[1]), "SDN_ADVANCED.XML")
    rows = parsed.entries.num_rows
elif sys.argv[2] == "whole":
    from lxml import etree
    tree = etree.parse(sys.argv[1])
    rows = sum(1 for _ in tree.getroot().iter("{*}SanctionsEntry"))
else:
    from orchestration.sources.ofac_advanced import parse_advanced_xml  # imports only: the baseline
    rows = 0
print(rows, round(time.perf_counter() - start, 1), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def synthetic(target_mb: float, path: Path) -> int:
    """Write a file of about `target_mb` MB; returns the number of copies of the sample's items."""
    text = SAMPLE.read_text(encoding="utf-8")
    head = text[: text.index("  <DistinctParties>")]
    bodies = {}
    for section in SECTIONS:
        start = text.index(f"  <{section}>\n") + len(f"  <{section}>\n")
        bodies[section] = text[start : text.index(f"  </{section}>")]
    per_copy = sum(len(b) for b in bodies.values())
    copies = max(1, round((target_mb * 1_000_000 - len(head)) / per_copy))
    with open(path, "w", encoding="utf-8") as out:
        out.write(head)
        for section in SECTIONS:
            out.write(f"  <{section}>\n")
            for copy in range(copies):
                offset = copy * 10_000_000
                out.write(OWN_IDS.sub(lambda m, offset=offset: f'{m[1]}="{int(m[2]) + offset}"', bodies[section]))
            out.write(f"  </{section}>\n")
        out.write("  <SanctionsEntryLinks />\n</Sanctions>")
    return copies


def measure(path: Path, how: str) -> tuple[int, float, int]:
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path), how], cwd=REPO, capture_output=True, text=True, check=True)
    rows, seconds, peak = result.stdout.split()
    return int(rows), float(seconds), int(peak)


def main() -> None:
    sizes = [float(a) for a in sys.argv[1:]] or [12, 120]
    _, _, baseline = measure(SAMPLE, "imports")
    print(f"peak RSS of the imports alone: {baseline} MB")
    print(f"{'file':>9} {'entries':>9} | {'streamed: time':>14} {'peak RSS':>9} {'added':>7} | {'whole tree: time':>16} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory(prefix="advanced-xml-") as tmp:
        for size in sizes:
            path = Path(tmp) / "SDN_ADVANCED.XML"
            synthetic(size, path)
            mb = path.stat().st_size / 1_000_000
            rows, seconds, peak = measure(path, "stream")
            _, whole_seconds, whole_peak = measure(path, "whole")
            print(f"{mb:>6.1f} MB {rows:>9,} | {seconds:>12.1f} s {peak:>6} MB {peak - baseline:>+4} MB |"
                  f" {whole_seconds:>14.1f} s {whole_peak:>6} MB")
            path.unlink()


if __name__ == "__main__":
    main()
