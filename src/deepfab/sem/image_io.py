"""Grayscale SEM images on disk: 8- or 16-bit PNG or TIFF in, float in [0, 1] inside, the same depth and format out.

Used by ``deepfab sem denoise|upscale`` (lectures 10 and 11 teach what runs in between). A
microscope writes 8-bit or 16-bit grayscale; a restoration works on floats. ``read_image``
divides by the largest code of the file's depth (255 or 65535) and remembers the depth and the
format, ``write_image`` multiplies back, rounds to the nearest code and clips to the range, so
an image read and written unchanged is the same file content, bit for bit. Many microscopes and
viewers save a grayscale picture as RGB with three equal channels: that is read as the grayscale
it is (``SemFile.note`` says so) and written back as grayscale. A colour image (channels that
differ), a palette image, a float or 32-bit file, a stack of pages or anything that is not an image
is refused with one line that says what was expected and what was got (``DataError``).

    from deepfab.sem.image_io import read_image, write_image
    img = read_image("scan.tif")          # SemFile: img.pixels (H, W) float32 in [0, 1], img.bits, img.format
    write_image("scan_denoised.tif", img.pixels, like=img)   # the same depth and format as the input

PNG goes through Pillow (modes ``L`` and ``I;16``, or ``RGB``/``RGBA`` with equal channels and no
transparency), TIFF through tifffile (uint8 or uint16, one page, one sample per pixel, or RGB(A)
samples that are equal).

References: PNG specification (ISO/IEC 15948:2004), grayscale bit depths 8 and 16; Adobe, "TIFF
Revision 6.0", 1992; Pillow and tifffile documentation.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError
from ..io import check_input_file, write_atomic

FORMATS = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}
SUFFIXES = tuple(FORMATS)
MAX_CODE = {8: 255, 16: 65535}


@dataclass
class SemFile:
    """One grayscale image read from disk."""

    pixels: np.ndarray   # (H, W) float32 in [0, 1]: code / (2^bits - 1)
    bits: int            # 8 or 16
    format: str          # 'png' or 'tiff'
    path: Path
    note: str = ""       # how it was read, when not as stored (an RGB file of equal channels)


def image_format(path: str | Path) -> str:
    """'png' or 'tiff' from the file name's suffix; ``UsageError`` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: unknown image type {suffix or '(no extension)'!r}; expected a name ending in "
                         f"{', '.join(SUFFIXES)}")
    return FORMATS[suffix]


GRAY_RGB = "an RGB image with three equal channels, read and written as grayscale"


def _gray_of_rgb(a: np.ndarray) -> np.ndarray | None:
    """The one channel of an (H, W, 3 or 4) image whose colour channels are equal and whose alpha (if any)
    is opaque; None when it is a colour image."""
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype not in (np.uint8, np.uint16):
        return None
    if a.shape[2] == 4 and (a[..., 3] != np.iinfo(a.dtype).max).any():
        return None
    g = a[..., 0]
    return g if np.array_equal(g, a[..., 1]) and np.array_equal(g, a[..., 2]) else None


def _codes_png(path: Path) -> tuple[np.ndarray, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode in ("L", "I;16", "I;16B", "I;16L"):
                return np.asarray(im).astype(np.uint8 if mode == "L" else np.uint16), ""
            if mode == "I":                            # some writers' 16-bit grayscale: keep it only if it fits
                a = np.asarray(im)
                if a.min() >= 0 and a.max() <= 65535:
                    return a.astype(np.uint16), ""
            if mode in ("RGB", "RGBA"):
                g = _gray_of_rgb(np.asarray(im))
                if g is not None:
                    return g, GRAY_RGB
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: not a readable PNG image ({type(exc).__name__}); expected an 8- or 16-bit "
                        f"grayscale PNG or TIFF") from None
    kind = "a colour image" if mode in ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV") else f"mode {mode}"
    raise DataError(f"{path}: {kind} ({mode}); expected 8- or 16-bit grayscale (convert it to gray first)")


def _codes_tiff(path: Path) -> tuple[np.ndarray, str]:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            pages = len(tif.pages)
            page = tif.pages[0]
            samples, photometric = page.samplesperpixel, page.photometric
            a = page.asarray()
    except Exception as exc:                          # tifffile raises many kinds on a file that is not a TIFF
        raise DataError(f"{path}: not a readable TIFF image ({type(exc).__name__}); expected an 8- or 16-bit "
                        f"grayscale PNG or TIFF") from None
    if pages > 1:
        raise DataError(f"{path}: a stack of {pages} pages; expected one grayscale image (split the stack first)")
    note = ""
    if int(photometric) == 2 and (g := _gray_of_rgb(a)) is not None:          # RGB of equal channels
        a, samples, photometric, note = g, 1, 1, GRAY_RGB
    if samples > 1 or a.ndim != 2 or int(photometric) in (2, 3, 5, 6, 8):   # RGB, palette, CMYK, YCbCr, CIELab
        raise DataError(f"{path}: a colour image ({samples} samples per pixel, shape {a.shape}); expected 8- or "
                        f"16-bit grayscale (convert it to gray first)")
    if a.dtype not in (np.uint8, np.uint16):
        raise DataError(f"{path}: pixels of type {a.dtype}; expected 8- or 16-bit unsigned grayscale")
    if int(photometric) == 0:                         # MINISWHITE: 0 is white; store as ordinary grayscale
        raise DataError(f"{path}: a min-is-white TIFF; expected min-is-black grayscale")
    return a, note


def read_image(path: str | Path) -> SemFile:
    """The image at ``path`` as floats in [0, 1] with its bit depth and format; ``DataError`` if it is not
    an 8- or 16-bit grayscale PNG or TIFF."""
    path = check_input_file(path, "grayscale PNG or TIFF image (8- or 16-bit)")
    fmt = image_format(path)
    codes, note = _codes_png(path) if fmt == "png" else _codes_tiff(path)
    if codes.ndim != 2 or min(codes.shape) < 1:
        raise DataError(f"{path}: an image of shape {codes.shape}; expected (height, width)")
    bits = 8 if codes.dtype == np.uint8 else 16
    return SemFile((codes.astype(np.float64) / MAX_CODE[bits]).astype(np.float32), bits, fmt, path, note)


def to_codes(pixels: np.ndarray, bits: int) -> np.ndarray:
    """Floats in [0, 1] -> unsigned codes of ``bits`` (8 or 16): rounded to nearest, clipped to the range."""
    if bits not in MAX_CODE:
        raise UsageError(f"bits must be 8 or 16; got {bits}")
    x = np.asarray(pixels, np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise DataError(f"expected a finite (H, W) image to write; got shape {x.shape}")
    return np.clip(np.rint(x * MAX_CODE[bits]), 0, MAX_CODE[bits]).astype(np.uint8 if bits == 8 else np.uint16)


def write_image(path: str | Path, pixels: np.ndarray, like: SemFile | None = None, bits: int | None = None,
                fmt: str | None = None) -> Path:
    """Write (H, W) ``pixels`` in [0, 1] at the depth and format of ``like`` (or ``bits``, ``fmt``; the
    format defaults to the name's suffix, which must agree with it). Atomic: a kill leaves no half file."""
    path = Path(path)
    bits = like.bits if bits is None and like is not None else bits
    fmt = like.format if fmt is None and like is not None else fmt
    named = image_format(path)
    fmt = fmt or named
    if fmt != named:
        raise UsageError(f"{path}: the input is a {fmt.upper()} image, so the output must be one too; expected a "
                         f"name ending in {', '.join(s for s, f in FORMATS.items() if f == fmt)}")
    codes = to_codes(pixels, bits if bits is not None else 8)
    buf = io.BytesIO()                                # encoded in memory, then one atomic write
    if fmt == "png":
        from PIL import Image

        Image.fromarray(codes).save(buf, format="PNG")   # uint8 -> mode 'L', uint16 -> 'I;16'
    else:
        import tifffile

        tifffile.imwrite(buf, codes, photometric="minisblack")
    write_atomic(path, "wb", lambda f: f.write(buf.getvalue()))
    return path


__all__ = ["SemFile", "read_image", "write_image", "to_codes", "image_format", "FORMATS", "SUFFIXES"]
