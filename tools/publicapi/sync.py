#!/usr/bin/env python3
"""Brings each project's PublicAPI.*.txt in line with its code after a deliberate API change.

Reads a build log (dotnet build output) and, per project: adds every symbol of an RS0016 error ("not part of the
declared public API") to PublicAPI.Unshipped.txt, and removes every symbol of an RS0017 error ("part of the declared
API, but is either not public or could not be found") from PublicAPI.Shipped.txt / Unshipped.txt. Review the diff:
the analyzer exists so that a public API change is a visible decision.

Usage: dotnet build ... > build.log; python3 tools/publicapi/sync.py build.log
"""
import os
import re
import sys

pattern = re.compile(r"error (RS001[67]): Symbol '(.*)' is (?:not part of the declared public API|part of the declared API, but is either not public or could not be found) \(.*?\) \[(.*\.csproj)\]")
adds, removes = {}, {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = pattern.search(line)
    if not m:
        continue
    rule, symbol, project = m.groups()
    folder = os.path.dirname(project)
    (adds if rule == "RS0016" else removes).setdefault(folder, set()).add(symbol)

for folder in sorted(set(adds) | set(removes)):
    for name in ("PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt"):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        lines = open(path, encoding="utf-8").read().splitlines()
        kept = [l for l in lines if l not in removes.get(folder, set())]
        if name == "PublicAPI.Unshipped.txt":
            present = set(kept)
            kept += sorted(s for s in adds.get(folder, set()) if s not in present)
            if not kept or kept[0] != "#nullable enable":
                kept = ["#nullable enable"] + [l for l in kept if l != "#nullable enable"]
        open(path, "w", encoding="utf-8").write("\n".join(kept) + "\n")
    print(f"{folder}: +{len(adds.get(folder, ()))} -{len(removes.get(folder, ()))}")
