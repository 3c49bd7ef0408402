"""Image files of ``deepfab sem``: 8- and 16-bit PNG and TIFF round trips, and the refusals."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from deepfab.errors import DataError, UsageError
from deepfab.sem.image_io import read_image, to_codes, write_image


def _write(path, codes):
    if path.suffix == ".png":
        Image.fromarray(codes).save(path)
    else:
        tifffile.imwrite(path, codes, photometric="minisblack")


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("bits", [8, 16])
def test_round_trip_keeps_every_code_the_depth_and_the_format(tmp_path, suffix, bits):
    codes = np.random.default_rng(bits).integers(0, 2 ** bits, (37, 53)).astype(np.uint8 if bits == 8 else np.uint16)
    codes[0, :2] = (0, 2 ** bits - 1)                                      # both ends of the range
    src = tmp_path / f"in{suffix}"
    _write(src, codes)
    f = read_image(src)
    assert (f.bits, f.format, f.pixels.dtype, f.pixels.shape) == (bits, "png" if suffix == ".png" else "tiff",
                                                                  np.float32, (37, 53))
    np.testing.assert_allclose(f.pixels, codes / (2 ** bits - 1), atol=1e-7)   # float in [0, 1]: code / max
    out = write_image(tmp_path / f"out{suffix}", f.pixels, like=f)
    back = np.asarray(Image.open(out)) if suffix == ".png" else tifffile.imread(out)
    assert back.dtype == codes.dtype
    np.testing.assert_array_equal(back, codes)


def test_codes_are_rounded_and_clipped():
    np.testing.assert_array_equal(to_codes(np.array([[-0.1, 0.0, 0.5 / 255, 0.6 / 255, 1.0, 1.7]]), 8),
                                  [[0, 0, 0, 1, 255, 255]])                  # 0.5 rounds to even
    assert to_codes(np.full((1, 1), 0.5), 16)[0, 0] == 32768 and to_codes(np.zeros((1, 1)), 16).dtype == np.uint16


def test_output_format_must_match_the_input(tmp_path):
    src = tmp_path / "a.png"
    _write(src, np.zeros((8, 8), np.uint8))
    with pytest.raises(UsageError, match="must be one too"):
        write_image(tmp_path / "b.tif", read_image(src).pixels, like=read_image(src))


def _colour(n: int = 8) -> np.ndarray:
    """An (n, n, 3) uint8 image whose channels differ: a colour image."""
    g = np.arange(n * n, dtype=np.uint8).reshape(n, n)
    return np.dstack([g, g, 255 - g])


@pytest.mark.parametrize("name, make, words", [
    ("rgb.png", lambda p: Image.fromarray(_colour()).save(p), "colour"),
    ("rgba.png", lambda p: Image.fromarray(np.dstack([_colour()[..., 0]] * 3 + [np.full((8, 8), 9, np.uint8)])).save(p),
     "colour"),                                                          # equal channels but transparent
    ("pal.png", lambda p: Image.fromarray(np.zeros((8, 8), np.uint8)).convert("P").save(p), "colour"),
    ("rgb.tif", lambda p: tifffile.imwrite(p, _colour(), photometric="rgb"), "colour"),
    ("float.tif", lambda p: tifffile.imwrite(p, np.zeros((8, 8), np.float32)), "float32"),
    ("stack.tif", lambda p: [tifffile.imwrite(p, np.zeros((8, 8), np.uint8), append=True) for _ in range(2)],
     "2 pages"),
    ("text.png", lambda p: p.write_text("not an image"), "not a readable PNG"),
    ("text.tif", lambda p: p.write_text("not an image"), "not a readable TIFF"),
    ("missing.png", lambda p: None, "no such file"),
])
def test_refusals_say_what_was_expected_and_what_was_got(tmp_path, name, make, words):
    path = tmp_path / name
    make(path)
    with pytest.raises(DataError, match=words) as exc:
        read_image(path)
    assert "\n" not in str(exc.value) and "grayscale" in str(exc.value) or words == "no such file"


@pytest.mark.parametrize("name, bits", [("g.png", 8), ("ga.png", 8), ("g.tif", 8), ("g16.tif", 16)])
def test_rgb_with_equal_channels_is_the_grayscale_it_holds(tmp_path, name, bits):
    """Grayscale saved as RGB (or opaque RGBA): the same pixels as the grayscale file, said in ``note``."""
    codes = np.random.default_rng(1).integers(0, 2 ** bits, (19, 23)).astype(np.uint8 if bits == 8 else np.uint16)
    rgb = np.dstack([codes] * 3 + ([np.full_like(codes, 255)] if name == "ga.png" else []))
    path, gray = tmp_path / name, tmp_path / f"gray{name[-4:]}"
    if name.endswith(".png"):
        Image.fromarray(rgb).save(path)
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    _write(gray, codes)
    f, g = read_image(path), read_image(gray)
    assert "three equal channels" in f.note and g.note == "" and (f.bits, f.format) == (g.bits, g.format)
    np.testing.assert_array_equal(f.pixels, g.pixels)


def test_unknown_suffix_is_refused(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(b"\xff\xd8")
    with pytest.raises(UsageError, match=r"\.png, \.tif, \.tiff"):
        read_image(p)
