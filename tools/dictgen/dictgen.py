#!/usr/bin/env python3
"""Generate the MedTransfer DICOM data dictionary from the PS3.6 table shipped by Debian.

Input (a data table: the facts of DICOM PS3.6 and PS3.7 Table E.1-1, not code that we run):
    Debian package  python3-pydicom (bookworm: 2.3.1-1, DICOM edition 2022a)
    file            /usr/lib/python3/dist-packages/pydicom/_dicom_dict.py
It holds two Python literals, read here with ast.literal_eval (the module is never imported):
    DicomDictionary      {0xGGGGEEEE: (VR, VM, Name, 'Retired' or '', Keyword)}
    RepeatersDictionary  {'60xx3000': (VR, VM, Name, 'Retired' or '', Keyword)}  (x = any hex digit)
The edition comes from __dicom_version__ in the sibling _version.py.

Output (never edit by hand; rerun this script):
    src/MedTransfer.Dicom/Dictionary/DicomDictionary.Generated.cs  the entry table as one string
    src/MedTransfer.Dicom/Dictionary/Tag.Generated.cs              one Tag.<Keyword> per non-retired entry

Usage:
    python3 tools/dictgen/dictgen.py            # regenerate in place
    python3 tools/dictgen/dictgen.py --check    # exit 1 when the committed files differ from a fresh run
    python3 tools/dictgen/dictgen.py --source PATH --out-dir DIR
Only the Python standard library is used; any python3 >= 3.8 works.
"""

import argparse
import ast
import hashlib
import os
import re
import sys

DEFAULT_SOURCE = "/usr/lib/python3/dist-packages/pydicom/_dicom_dict.py"
SOURCE_PACKAGE = "python3-pydicom"
VALID_VRS = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV",
    "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV",
}
# Files named *.Generated.cs are compiled as generated code, whose nullable context is off unless the file turns it
# on; without it their public members would have no nullability (and the public-API lists could not describe them).
NULLABLE = "#nullable enable\n"
KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
TAG_PATTERN = re.compile(r"^[0-9A-Fx]{8}$")


def repo_root():
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def read_source(path):
    with open(path, "rb") as f:
        raw = f.read()
    tables = {}
    for node in ast.parse(raw.decode("utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            tables[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            tables[node.targets[0].id] = ast.literal_eval(node.value)
    if "DicomDictionary" not in tables or "RepeatersDictionary" not in tables:
        sys.exit(f"dictgen: {path} does not hold DicomDictionary and RepeatersDictionary")
    return raw, tables["DicomDictionary"], tables["RepeatersDictionary"]


def read_edition(source_path):
    version_file = os.path.join(os.path.dirname(source_path), "_version.py")
    try:
        with open(version_file, encoding="utf-8") as f:
            match = re.search(r"__dicom_version__[^=]*=\s*['\"]([^'\"]+)['\"]", f.read())
            return match.group(1) if match else "unknown"
    except OSError:
        return "unknown"


def vr_field(vr_text, where):
    """'US or SS' -> 'US/SS'; 'NONE' (items and delimiters) -> ''."""
    if vr_text == "NONE":
        return ""
    parts = [p.strip() for p in vr_text.split(" or ")]
    for p in parts:
        if p not in VALID_VRS:
            sys.exit(f"dictgen: unknown VR '{vr_text}' at {where}")
    return "/".join(parts)


def clean(text, where):
    if "|" in text or "\n" in text or '"""' in text or text != text.strip():
        sys.exit(f"dictgen: field {text!r} at {where} cannot be stored in the table")
    return text


def build_rows(main, repeaters):
    rows = []
    for tag, (vr, vm, name, retired, keyword) in main.items():
        rows.append((f"{tag:08X}", vr, vm, name, retired, keyword))
    for mask, (vr, vm, name, retired, keyword) in repeaters.items():
        if not TAG_PATTERN.match(mask):
            sys.exit(f"dictgen: repeating-group tag {mask!r} not understood")
        rows.append((mask, vr, vm, name, retired, keyword))
    # Sort numerically with 'x' as 0, so a repeating group sits where its first member would be.
    rows.sort(key=lambda r: (int(r[0].replace("x", "0"), 16), r[0]))

    seen = set()
    lines = []
    for tag, vr, vm, name, retired, keyword in rows:
        where = f"({tag[:4]},{tag[4:]})"
        if keyword and not KEYWORD.match(keyword):
            sys.exit(f"dictgen: keyword {keyword!r} at {where} is not a C# identifier")
        if keyword and keyword in seen:
            sys.exit(f"dictgen: duplicate keyword {keyword!r} at {where}")
        if keyword:
            seen.add(keyword)
        if retired not in ("", "Retired"):
            sys.exit(f"dictgen: retired flag {retired!r} at {where} not understood")
        fields = [tag, vr_field(vr, where), clean(vm, where), clean(keyword, where), clean(name, where), "R" if retired else ""]
        lines.append("|".join(fields))
    return rows, lines


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header(source_path, raw, edition):
    digest = hashlib.sha256(raw).hexdigest()
    return (
        "// Generated by tools/dictgen/dictgen.py. Do not edit: rerun the script (see tools/dictgen/README.md).\n"
        f"// Source: Debian package {SOURCE_PACKAGE}, {source_path}\n"
        f"// DICOM edition {edition}; source sha256 {digest}\n"
    )


def render_table(source_path, raw, edition, lines):
    out = [header(source_path, raw, edition), NULLABLE, "namespace MedTransfer.Dicom;\n", "\n"]
    out.append("public static partial class DicomDictionary\n{\n")
    out.append("    /// <summary>The edition of DICOM PS3.6 the table was generated from.</summary>\n")
    out.append(f'    public const string StandardEdition = "{edition}";\n\n')
    out.append("    /// <summary>\n")
    out.append("    /// One entry per line: tag (GGGGEEEE, 'x' for any hex digit of a repeating group) | VR, '/'-separated\n")
    out.append("    /// when the standard allows several, empty for items and delimiters | VM | keyword | name | 'R' when retired.\n")
    out.append("    /// </summary>\n")
    out.append('    private const string EntryTable = """\n')
    for line in lines:
        out.append("        " + line + "\n")
    out.append('        """;\n')
    out.append("}\n")
    return "".join(out)


def first_member(tag, exact):
    """The lowest member of a repeating range that is neither a group length nor an element of its own."""
    free = [i for i, c in enumerate(tag) if c == "x"]
    for k in range(16 ** len(free)):
        digits = list(tag)
        for n, position in enumerate(reversed(free)):
            digits[position] = "0123456789ABCDEF"[(k >> (4 * n)) & 0xF]
        candidate = "".join(digits)
        if candidate[4:] != "0000" and candidate not in exact:
            return candidate
    return tag.replace("x", "0")


def render_tags(source_path, raw, edition, rows):
    exact = {r[0] for r in rows if "x" not in r[0]}
    out = [header(source_path, raw, edition), NULLABLE, "namespace MedTransfer.Dicom;\n", "\n"]
    out.append("public static partial class Tag\n{\n")
    for tag, vr, vm, name, retired, keyword in rows:
        if retired or not keyword:
            continue
        group, element = tag[:4], tag[4:]
        value = first_member(tag, exact) if "x" in tag else tag
        note = ", first of a repeating group" if "x" in tag else ""
        out.append(f"    /// <summary>{xml_escape(name)} ({group},{element}) {vr} {vm}{note}.</summary>\n")
        out.append(f"    public static DicomTag {keyword} => new(0x{value});\n")
    out.append("}\n")
    return "".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="pydicom's _dicom_dict.py (default: %(default)s)")
    parser.add_argument("--out-dir", default=os.path.join(repo_root(), "src", "MedTransfer.Dicom", "Dictionary"))
    parser.add_argument("--check", action="store_true", help="compare with the files in --out-dir instead of writing")
    args = parser.parse_args()

    if not os.path.isfile(args.source):
        sys.exit(f"dictgen: {args.source} not found: apt-get install {SOURCE_PACKAGE}")
    raw, main_table, repeaters = read_source(args.source)
    edition = read_edition(args.source)
    rows, lines = build_rows(main_table, repeaters)
    outputs = {
        "DicomDictionary.Generated.cs": render_table(args.source, raw, edition, lines),
        "Tag.Generated.cs": render_tags(args.source, raw, edition, rows),
    }

    stale = []
    for name, text in outputs.items():
        path = os.path.join(args.out_dir, name)
        data = text.encode("utf-8")
        if args.check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        stale.append(path)
            except OSError:
                stale.append(path)
        else:
            with open(path, "wb") as f:
                f.write(data)
            print(f"dictgen: wrote {path} ({len(data)} bytes)")
    if stale:
        print("dictgen: out of date (rerun python3 tools/dictgen/dictgen.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"dictgen: {len(outputs)} files up to date ({len(lines)} entries, DICOM {edition})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
