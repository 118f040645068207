#!/usr/bin/python3
"""Counts how much of the real reference data in ../shared/data MedTransfer reads correctly.

For every corpus folder (dcm_qa_*), two numbers, measured through the `medtransfer` command itself:

* files: how many files of In/ decode with `medtransfer dicom pixels` (strict first; tolerant after a refusal),
  and how many of those give the same stored values as pydicom (Debian's python3-pydicom, native and RLE
  syntaxes; JPEG and JPEG-LS after DCMTK's dcmdjpeg/dcmdjpls decompressed them) -- or, where neither has a
  decoder (JPEG 2000), the same values as the corpus's first file when the corpus README says all files hold
  one image (dcm_qa_ts);
* volumes: how many series `medtransfer volume --out-dir` writes, and how many of those match dcm2niix's
  Ref/*.nii (paired by SeriesNumber from Ref/*.json): same shape after both are turned to the nearest RAS axes
  (permuted/flipped, never resampled), affine within 1e-3 mm, every voxel equal, and -- for a diffusion series --
  the same b-values and the same gradient directions in world space.

Usage: tools/conformance/measure_shared_data.py MEDTRANSFER_EXECUTABLE [SHARED_DATA_DIR]
Needs /usr/bin/python3 with python3-numpy and python3-pydicom (Debian). Writes only to a temporary folder.
"""

import glob
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pydicom


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def read_nifti(path):
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    sizeof_hdr = struct.unpack("<i", raw[0:4])[0]
    if sizeof_hdr != 348:
        raise ValueError("only NIfTI-1 is read here")
    dim = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    vox_offset = int(struct.unpack("<f", raw[108:112])[0])
    slope, inter = struct.unpack("<2f", raw[112:120])
    srow = np.array(struct.unpack("<12f", raw[280:328]), dtype=np.float64).reshape(3, 4)
    dtypes = {2: "<u1", 4: "<i2", 8: "<i4", 16: "<f4", 64: "<f8", 256: "<i1", 512: "<u2", 768: "<u4"}
    nx, ny, nz = dim[1], dim[2], max(1, dim[3])
    nt = max(1, dim[4]) if dim[0] >= 4 else 1
    count = nx * ny * nz * nt
    data = np.frombuffer(raw, dtype=dtypes[datatype], count=count, offset=vox_offset).astype(np.float64)
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data * (slope if slope != 0 else 1.0) + inter
    data = data.reshape(nt, nz, ny, nx)  # C order: t, k, j, i
    affine = np.vstack([srow, [0, 0, 0, 1]])
    return data, affine


def to_ras(data, affine):
    """Permutes and flips the voxel axes so that axis 0/1/2 run along +x/+y/+z (the nearest RAS axes)."""
    # data is (t, k, j, i); work with voxel axes (i, j, k).
    vol = np.transpose(data, (0, 3, 2, 1))  # t, i, j, k
    a = affine.copy()
    rot = a[:3, :3]
    order = [int(np.argmax(np.abs(rot[:, c]))) for c in range(3)]
    if sorted(order) != [0, 1, 2]:
        raise ValueError("ambiguous orientation")
    perm = [order.index(w) for w in range(3)]  # voxel axis that runs along world axis w
    vol = np.transpose(vol, [0] + [p + 1 for p in perm])
    a_new = np.eye(4)
    a_new[:3, :3] = rot[:, perm]
    a_new[:3, 3] = a[:3, 3]
    shape = vol.shape[1:]
    for w in range(3):
        if a_new[w, w] < 0:
            vol = np.flip(vol, axis=w + 1)
            a_new[:3, 3] = a_new[:3, 3] + a_new[:3, w] * (shape[w] - 1)
            a_new[:3, w] = -a_new[:3, w]
    return vol, a_new, perm


def world_directions(bvec, affine):
    """FSL bvecs (voxel axes, x flipped when det > 0) to unit directions in world space."""
    rot = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    v = bvec.copy()
    if np.linalg.det(affine[:3, :3]) > 0:
        v[0] = -v[0]
    return rot @ v


def dcmtk_or_pydicom(path, tmp):
    """Stored values by pydicom; for JPEG and JPEG-LS, pydicom after DCMTK's dcmdjpeg/dcmdjpls decompressed the file."""
    try:
        return pydicom.dcmread(path).pixel_array
    except Exception:
        pass
    for tool in ("dcmdjpeg", "dcmdjpls"):
        plain = os.path.join(tmp, "plain.dcm")
        try:
            if run([tool, path, plain]).returncode == 0:
                return pydicom.dcmread(plain).pixel_array
        except (OSError, Exception):
            continue
    return None


def file_counts(medtransfer, folder, tmp, same_image):
    files = sorted(p for p in glob.glob(os.path.join(folder, "In", "**", "*"), recursive=True) if os.path.isfile(p))
    decoded, strict_ok, matched, compared, failures = 0, 0, 0, 0, []
    first = None
    for f in files:
        out = os.path.join(tmp, "x.npy")
        r = run([medtransfer, "dicom", "pixels", f, "--out", out])
        if r.returncode == 0:
            strict_ok += 1
        else:
            r = run([medtransfer, "dicom", "pixels", f, "--out", out, "--tolerant"])
        if r.returncode != 0:
            failures.append((os.path.relpath(f, folder), (r.stderr or r.stdout).strip().splitlines()[-1:]))
            continue
        decoded += 1
        ours = np.load(out)
        reference = dcmtk_or_pydicom(f, tmp)
        if reference is None and same_image:
            reference = first
        if first is None:
            first = ours
        if reference is not None:
            compared += 1
            if reference.shape == ours.shape and np.array_equal(reference.astype(np.int64), ours.astype(np.int64)):
                matched += 1
            else:
                failures.append((os.path.relpath(f, folder), ["values differ from the reference"]))
    return len(files), strict_ok, decoded, compared, matched, failures


def volume_counts(medtransfer, folder, tmp):
    refs = {}
    for j in glob.glob(os.path.join(folder, "Ref", "*.json")):
        meta = json.load(open(j))
        refs[int(meta["SeriesNumber"])] = j[:-5]
    out = os.path.join(tmp, "vol")
    r = run([medtransfer, "volume", os.path.join(folder, "In"), "--out-dir", out])
    written = sorted(glob.glob(os.path.join(out, "*.nii.gz")))
    matched, problems = 0, []
    for w in written:
        number = os.path.basename(w).split("_")[0]
        if not number.isdigit() or int(number) not in refs:
            problems.append((os.path.basename(w), "no reference with this series number"))
            continue
        stem = refs[int(number)]
        ours, oa = read_nifti(w)
        theirs, ta = read_nifti(stem + ".nii")
        ov, oa2, operm = to_ras(ours, oa)
        tv, ta2, _ = to_ras(theirs, ta)
        if ov.shape != tv.shape:
            problems.append((os.path.basename(w), f"shape {ov.shape} vs dcm2niix {tv.shape}"))
            continue
        if np.max(np.abs(oa2[:3, :] - ta2[:3, :])) > 1e-3:
            problems.append((os.path.basename(w), f"affine differs by {np.max(np.abs(oa2[:3, :] - ta2[:3, :])):.4g} mm"))
            continue
        differing = int(np.count_nonzero(ov != tv))
        if differing:
            problems.append((os.path.basename(w), f"{differing} of {tv.size} voxels differ (max |d| {np.max(np.abs(ov - tv)):.4g})"))
            continue
        if os.path.exists(stem + ".bval"):
            ours_stem = w[: -len(".nii.gz")]
            if not os.path.exists(ours_stem + ".bval") or not os.path.exists(ours_stem + ".bvec"):
                problems.append((os.path.basename(w), "no .bval/.bvec written"))
                continue
            ob = np.loadtxt(ours_stem + ".bval", ndmin=1)
            tb = np.loadtxt(stem + ".bval", ndmin=1)
            og = world_directions(np.loadtxt(ours_stem + ".bvec", ndmin=2), oa)
            tg = world_directions(np.loadtxt(stem + ".bvec", ndmin=2), ta)
            if ob.shape != tb.shape or np.max(np.abs(ob - tb)) > 0.01 or np.max(np.abs(og - tg)) > 1e-3:
                problems.append((os.path.basename(w), "b-values or gradient directions differ"))
                continue
        matched += 1
    return len(refs), len(written), matched, problems, r.returncode


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    medtransfer = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "..", "shared", "data")
    shared = os.path.abspath(shared)
    for corpus in sorted(glob.glob(os.path.join(shared, "dcm_qa_*"))):
        name = os.path.basename(corpus)
        with tempfile.TemporaryDirectory(prefix="medtransfer-conformance-") as tmp:
            total, strict_ok, decoded, compared, matched, ffail = file_counts(medtransfer, corpus, tmp, same_image=(name == "dcm_qa_ts"))
            refs, written, vmatched, vproblems, code = volume_counts(medtransfer, corpus, tmp)
        print(f"{name}: files {decoded}/{total} decode ({strict_ok} strict), {matched}/{compared} compared equal to the reference; "
              f"volumes: {written} series written, {vmatched}/{refs} match dcm2niix (volume exit code {code})")
        for path, why in ffail:
            print(f"    file {path}: {' '.join(why) if isinstance(why, list) else why}")
        for path, why in vproblems:
            print(f"    volume {path}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
