#!/bin/sh
# Regenerates the subsampled YCbCr JPEG fixtures of JpegChromaUpsamplingTests with Debian's libjpeg-turbo-progs
# (cjpeg/djpeg; 2.1.5 made the committed files): a 35x23 RGB test card with hard colour edges (odd sizes, so the
# last chroma column and row cover one pixel), encoded 4:2:2 (-sample 2x1) and 4:2:0 (-sample 2x2), and each decoded
# by djpeg with its default upsampling (libjpeg's "fancy" triangle filter) and with -nosmooth (replication), each
# with djpeg's default integer IDCT and with -dct float (the IDCT family JpegLibrary uses, so a comparison with
# those isolates the upsampling). Run it from anywhere; it writes next to itself.
set -eu
cd "$(dirname "$0")"

# The test card: eight colour bars across, a dark-to-bright ramp down, and a red square with a cyan border in the
# middle, so chroma changes abruptly in both directions.
/usr/bin/python3 - > colour-edges.ppm <<'PY'
import sys
w, h = 35, 23
bars = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
out = bytearray(b"P6\n%d %d\n255\n" % (w, h))
for y in range(h):
    for x in range(w):
        r, g, b = bars[x * len(bars) // w]
        shade = 64 + (191 * y) // (h - 1)
        r, g, b = (r * shade) // 255, (g * shade) // 255, (b * shade) // 255
        if 12 <= x < 23 and 7 <= y < 16:
            r, g, b = (0, 200, 200) if x in (12, 22) or y in (7, 15) else (220, 30, 30)
        out += bytes((r, g, b))
sys.stdout.buffer.write(bytes(out))
PY

for pair in "422 2x1" "420 2x2"; do
    set -- $pair
    cjpeg -quality 90 -sample "$2" -outfile "ycbcr-$1.jpg" colour-edges.ppm
    djpeg -ppm -outfile "ycbcr-$1.djpeg.ppm" "ycbcr-$1.jpg"
    djpeg -ppm -dct float -outfile "ycbcr-$1.djpeg-float.ppm" "ycbcr-$1.jpg"
    djpeg -ppm -nosmooth -outfile "ycbcr-$1.nosmooth.ppm" "ycbcr-$1.jpg"
    djpeg -ppm -nosmooth -dct float -outfile "ycbcr-$1.nosmooth-float.ppm" "ycbcr-$1.jpg"
done
