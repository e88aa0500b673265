#!/usr/bin/env python3
"""Image files for the tests of `typegrad predict` and of the ONNX export, in plain Python (no
numpy, no PIL): 28x28 digits from MNIST's test set (when a directory with
t10k-images-idx3-ubyte[.gz] is given) or drawn here, written as PGM (P5, P2), PNG (gray, RGB,
16-bit, damaged, other sizes), and one-image IDX test sets for `typegrad eval`.

    image_files.py digit PREFIX INDEX [MNIST_DIR]   PREFIX.pgm (P5), PREFIX.inverted.pgm (255 - b),
                                                    PREFIX.p2.pgm, PREFIX.png,
                                                    PREFIX.rgb.png, PREFIX.16bit.png,
                                                    PREFIX.29x28.png, PREFIX.damaged.png
    image_files.py many DIR COUNT [MNIST_DIR]       DIR/0000.pgm ... (P5)
    image_files.py idx DIR LABEL IMAGE.pgm          DIR/t10k-{images-idx3,labels-idx1}-ubyte
"""
import gzip
import math
import os
import random
import struct
import sys
import zlib

SIDE = 28


def mnist_test_images(directory, count):
    """The first `count` images of MNIST's test set, each a bytes of 784 pixels."""
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
                assert magic == 0x803 and rows == SIDE and cols == SIDE, path
                return [f.read(SIDE * SIDE) for _ in range(min(n, count))]
    sys.exit(f"image_files.py: no t10k-images-idx3-ubyte[.gz] in {directory}")


def drawn_images(count, seed=5):
    """Digit-like strokes (white on black, blurred edges): when MNIST is not at hand."""
    rng = random.Random(seed)
    images = []
    for _ in range(count):
        pixels = [0.0] * (SIDE * SIDE)
        points = [(rng.uniform(6, 22), rng.uniform(5, 23)) for _ in range(rng.randint(2, 5))]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for t in range(41):
                cx, cy = x0 + (x1 - x0) * t / 40, y0 + (y1 - y0) * t / 40
                for y in range(max(0, int(cy) - 3), min(SIDE, int(cy) + 4)):
                    for x in range(max(0, int(cx) - 3), min(SIDE, int(cx) + 4)):
                        d = math.hypot(x - cx, y - cy)
                        pixels[y * SIDE + x] = max(pixels[y * SIDE + x], min(1.0, max(0.0, 2.0 - d)))
        images.append(bytes(int(round(255 * p)) for p in pixels))
    return images


def images(count, mnist_dir):
    return mnist_test_images(mnist_dir, count) if mnist_dir else drawn_images(count)


def write_p5(path, pixels, width=SIDE, height=SIDE):
    with open(path, "wb") as f:
        f.write(b"P5\n# written by tests/cli/image_files.py\n%d %d\n255\n" % (width, height) + bytes(pixels))


def write_p2(path, pixels):
    rows = [" ".join(str(p) for p in pixels[r * SIDE:(r + 1) * SIDE]) for r in range(SIDE)]
    with open(path, "w") as f:
        f.write("P2\n# a comment\n%d %d\n255\n%s\n" % (SIDE, SIDE, "\n".join(rows)))


def read_p5(path):
    with open(path, "rb") as f:
        data = f.read()
    header = data.split(b"\n", 4)  # magic, comment, size, maxval, raster
    assert header[0] == b"P5" and header[2] == b"%d %d" % (SIDE, SIDE) and header[3] == b"255", path
    return header[4][: SIDE * SIDE]


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bytes(rows, width, height, bit_depth, color_type):
    """A PNG of the given raw rows (filter type 0 before each)."""
    raw = b"".join(b"\x00" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def write_pngs(prefix, pixels):
    rows = [bytes(pixels[r * SIDE:(r + 1) * SIDE]) for r in range(SIDE)]
    good = png_bytes(rows, SIDE, SIDE, 8, 0)
    with open(prefix + ".png", "wb") as f:
        f.write(good)
    # RGB with R = G = B: PIL's luma of (v, v, v) is v, so it must classify exactly as the gray one.
    with open(prefix + ".rgb.png", "wb") as f:
        f.write(png_bytes([bytes(v for p in row for v in (p, p, p)) for row in rows], SIDE, SIDE, 8, 2))
    with open(prefix + ".16bit.png", "wb") as f:
        f.write(png_bytes([bytes(v for p in row for v in (p, p)) for row in rows], SIDE, SIDE, 16, 0))
    with open(prefix + ".29x28.png", "wb") as f:
        f.write(png_bytes([row + b"\x00" for row in rows], SIDE + 1, SIDE, 8, 0))
    with open(prefix + ".damaged.png", "wb") as f:
        f.write(good[: len(good) // 2])  # cut in the middle of IDAT


def write_idx(directory, label, pixels):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 1, SIDE, SIDE) + bytes(pixels))
    with open(os.path.join(directory, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, 1) + bytes([label]))


def main(argv):
    if len(argv) >= 3 and argv[0] == "digit":
        index = int(argv[2])
        pixels = images(index + 1, argv[3] if len(argv) > 3 else None)[index]
        write_p5(argv[1] + ".pgm", pixels)
        write_p5(argv[1] + ".inverted.pgm", bytes(255 - p for p in pixels))  # for predict --invert
        write_p2(argv[1] + ".p2.pgm", pixels)
        write_pngs(argv[1], pixels)
    elif len(argv) >= 3 and argv[0] == "many":
        os.makedirs(argv[1], exist_ok=True)
        for i, pixels in enumerate(images(int(argv[2]), argv[3] if len(argv) > 3 else None)):
            write_p5(os.path.join(argv[1], "%04d.pgm" % i), pixels)
    elif len(argv) == 4 and argv[0] == "idx":
        write_idx(argv[1], int(argv[2]), read_p5(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
