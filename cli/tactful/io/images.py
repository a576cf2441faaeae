"""Images for vision models: read, check and normalise them before they are sent.

Every image a user hands tactful (a file, a JSONL field with a path, a data URL or raw
base64) goes through ``load_image``, which decodes it fully with Pillow so that a broken
file fails here, naming the file, instead of as an opaque error from the model server.
PNG and JPEG that are small enough go out byte for byte; anything else is re-encoded as a
PNG of at most ``MAX_SIDE`` pixels a side, which every vision backend reads.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from base64 import b64decode, b64encode
from binascii import Error as Base64Error
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from PIL import Image, ImageOps

from tactful.errors import ImageError

__all__ = ["ImageError", "Picture", "content_free_image", "image_from_field", "is_image_path", "load_image",
           "read_image_file"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)

# Pillow format names. MPO is how Pillow names the JPEG files many cameras and phones
# write (a JPEG followed by extra views); its first image is an ordinary JPEG.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF"})
PASSTHROUGH_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg"}

CONTENT_FREE_SIDE = 224
CONTENT_FREE_GREY = (128, 128, 128)

# Pillow's format plugins do not agree on one exception type for corrupt input: besides
# OSError (which UnidentifiedImageError is) they raise these from deep inside a parser.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})

# ISO base media brands of formats Pillow cannot identify, so that the message can name
# the format (an iPhone's HEIC photo is the common case) instead of "cannot identify".
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


@dataclass(frozen=True)
class Picture:
    """An image ready for a vision model: the bytes to send and what they are."""

    data: bytes = field(repr=False)  # megabytes of it would swamp a repr in a traceback
    mime: str
    width: int
    height: int
    source_format: str

    def base64(self) -> str:
        """The data as standard base64 text, as the Ollama and OpenAI APIs take it."""
        return b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """The data as a ``data:`` URL, as OpenAI-style ``image_url`` parts take it."""
        return f"data:{self.mime};base64,{self.base64()}"


def is_image_path(path: str) -> bool:
    """Whether ``path`` names an image by its suffix (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def load_image(data: bytes, name: str) -> Picture:
    """Check, decode and normalise image bytes; ``name`` says where they came from."""
    _check_byte_size(len(data), name)
    try:
        # Turn Pillow's "maybe a decompression bomb" warning into an error: a warning
        # would let a crafted image go on to allocate gigabytes of pixels. Pillow warns
        # only above its own limit, which is over MAX_PIXELS, so should another thread's
        # catch_warnings undo this filter, the header check in _picture_from still holds.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                return _picture_from(img, data, name)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)  # whichever refused it
        raise ImageError(
            f"{name}: image is over the {_megapixels(limit)}-megapixel limit; downscale it"
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageError(_unreadable_message(data, name, exc)) from None


def read_image_file(path: str | Path) -> Picture:
    """Read and load the image file at ``path``; errors name the path."""
    path = Path(path)
    return _read_file(path, str(path))


def image_from_field(value: object, name: str, base_dir: Path) -> Picture:
    """Load the image a JSONL field gives: a ``data:`` URL, raw base64 or a file path.

    Relative paths resolve against ``base_dir``, the folder of the JSONL file. A string
    that names an existing file is a path, even if it would also decode as base64.
    """
    if not isinstance(value, str):
        raise ImageError(
            f"{name}: image must be a file path or base64 text, not {type(value).__name__}"
        )
    text = value.strip()
    if not text:
        raise ImageError(f"{name}: image field is empty; give a file path or base64 image data")
    if text[:5].lower() == "data:":
        return load_image(_decode_data_url(text, name), name)
    path = _resolve(text, base_dir)
    if _exists(path):
        return _read_file(path, f"{name}: {text}")
    decoded = _decode_base64(text, name)
    looks_like_path = is_image_path(text) or "/" in text or os.sep in text
    # Some paths ("photos/cat1") are also valid base64: bytes that are no image at all
    # mean the user more likely gave a path to a file that is not there.
    if decoded is not None and not (looks_like_path and not _pillow_identifies(decoded)):
        return load_image(decoded, f"{name}: base64 image data")
    if looks_like_path:
        raise ImageError(f"{name}: no such image file: {path}")
    raise ImageError(
        f"{name}: neither an image file nor base64 image data; give a file path or base64"
    )


def content_free_image() -> Picture:
    """A plain mid-grey PNG: an image with no content, to measure a model's bias on one."""
    img = Image.new("RGB", (CONTENT_FREE_SIDE, CONTENT_FREE_SIDE), CONTENT_FREE_GREY)
    return Picture(
        data=_encode_png(img),
        mime="image/png",
        width=CONTENT_FREE_SIDE,
        height=CONTENT_FREE_SIDE,
        source_format="PNG",
    )


def _picture_from(img: Image.Image, data: bytes, name: str) -> Picture:
    """Check an opened (header-only) image, decode it, and pass it on or convert it."""
    fmt = img.format or "unknown"
    if fmt not in ACCEPTED_FORMATS:
        raise ImageError(_unsupported_message(name, fmt))
    width, height = img.size
    # Image.open has read only the header: refuse huge images before any pixel is decoded.
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{name}: image is {_megapixels(width * height)} megapixels, over the "
            f"{_megapixels(MAX_PIXELS)}-megapixel limit; downscale it"
        )
    img.load()  # decode it all now, so a truncated file fails here and names the file
    if fmt in PASSTHROUGH_MIME and max(width, height) <= MAX_SIDE:
        return Picture(data, PASSTHROUGH_MIME[fmt], width, height, fmt)
    out = _shrink(_to_rgb(_upright(img)))
    return Picture(_encode_png(out), "image/png", out.width, out.height, fmt)


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, which re-encoding to PNG would otherwise drop."""
    try:
        return ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError):
        return img  # a damaged EXIF block is no reason to refuse the pixels


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to RGB, or RGBA when the image has transparency."""
    if img.mode in _SIXTEEN_BIT_MODES or img.mode in ("I", "F"):
        img = _to_8bit(img)
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        return img.convert("RGBA")
    return img.convert("RGB")


def _to_8bit(img: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit and float grey to 8 bits; a plain convert clips it to white."""
    if img.mode == "F":
        low, high = cast(tuple[float, float], img.getextrema())  # one band: (min, max)
        scale = 255 / (high - low) if high > low else 0.0
        return img.point(lambda v: (v - low) * scale).convert("L")
    img = img.convert("I")
    _, high = cast(tuple[int, int], img.getextrema())  # one band: (min, max)
    if high <= 255:
        return img.convert("L")
    return img.point(lambda v: v * (1 / 256)).convert("L")  # 16-bit range to 8-bit


def _shrink(img: Image.Image) -> Image.Image:
    """Downscale so that the longest side is at most MAX_SIDE, keeping the aspect ratio."""
    if max(img.size) > MAX_SIDE:
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return img


def _encode_png(img: Image.Image) -> bytes:
    """PNG bytes with no metadata, so the same pixels always give the same bytes."""
    buffer = io.BytesIO()
    # No ICC profile: Pillow would copy the source's, which is wrong after a plain
    # CMYK-to-RGB conversion, and the decoders vision servers use ignore it anyway.
    img.save(buffer, format="PNG", icc_profile=None)
    return buffer.getvalue()


def _read_file(path: Path, label: str) -> Picture:
    """Read an image file, checking its size first; errors start with ``label``."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(f"{label}: is a directory, not an image file")
        _check_byte_size(info.st_size, label)
        with path.open("rb") as handle:
            # Bounded read: a pipe or device reports no size, and could grow past the limit.
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise ImageError(f"{label}: no such image file") from None
    except PermissionError:
        raise ImageError(f"{label}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot read the file ({exc.strerror or exc})") from None
    return load_image(data, label)


def _decode_data_url(text: str, name: str) -> bytes:
    """The bytes of a ``data:image/...;base64,`` URL; the content, not the URL, says the type."""
    header, comma, payload = text.partition(",")
    if not comma:
        raise ImageError(f"{name}: malformed data URL (no comma); use data:image/png;base64,...")
    params = header[5:].split(";")
    if not params[0].strip().lower().startswith("image/"):
        raise ImageError(f"{name}: data URL is not an image ({params[0] or 'no type'})")
    if "base64" not in (p.strip().lower() for p in params[1:]):
        raise ImageError(f"{name}: data URL is not base64-encoded; use data:image/png;base64,...")
    decoded = _decode_base64(payload, name)
    if decoded is None:
        raise ImageError(f"{name}: data URL holds invalid base64; check the field")
    return decoded


def _decode_base64(text: str, name: str) -> bytes | None:
    """Strictly decoded base64 (whitespace allowed), or None if ``text`` is not base64."""
    compact = "".join(text.split())
    # Check the size before decoding, so an oversized field is not decoded into memory.
    _check_byte_size(len(compact) * 3 // 4, name)
    try:
        decoded = b64decode(compact, validate=True)
    except (Base64Error, ValueError):
        return None
    return decoded or None


def _resolve(text: str, base_dir: Path) -> Path:
    """The path a field names: ``~`` expanded, relative paths taken from ``base_dir``."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


def _exists(path: Path) -> bool:
    """Whether anything is at ``path``; a base64 string is often too long to be a file name."""
    try:
        return path.exists()
    except (OSError, ValueError):  # ENAMETOOLONG, or a NUL character in the text
        return False


def _pillow_identifies(data: bytes) -> bool:
    """Whether Pillow recognises ``data`` as an image of any format, from its header alone."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)):
                return True
    except Image.DecompressionBombError:
        return True  # an image, and load_image will say why it is refused
    except _DECODE_ERRORS:
        return False


def _check_byte_size(size: int, name: str) -> None:
    if size > MAX_IMAGE_BYTES:
        raise ImageError(
            f"{name}: {_size_text(size)}, over the {_size_text(MAX_IMAGE_BYTES)} limit; "
            "downscale or compress it"
        )


def _unreadable_message(data: bytes, name: str, exc: BaseException) -> str:
    """The message for bytes Pillow cannot decode, naming the format when it is known."""
    sniffed = _sniff_unidentified_format(data)
    if sniffed and isinstance(exc, Image.UnidentifiedImageError):
        return _unsupported_message(name, sniffed)
    return f"{name}: not a readable image ({_short_reason(exc)}); check the file"


def _short_reason(exc: BaseException) -> str:
    """Pillow's reason in one line, without the in-memory buffer's repr it sometimes adds."""
    if isinstance(exc, Image.UnidentifiedImageError):
        return "cannot identify image file"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sniff_unidentified_format(data: bytes) -> str | None:
    """Name common image formats Pillow cannot open, from their first bytes."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "HEIF"
        if brand in _AVIF_BRANDS:
            return "AVIF"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "SVG"
    return None


def _unsupported_message(name: str, fmt: str) -> str:
    return f"{name}: unsupported image format {fmt}; convert it to PNG or JPEG"


def _megapixels(pixels: int) -> str:
    """Megapixels to one decimal ("80", "1.5"); more digits only for tiny test limits."""
    mp = pixels / 1_000_000
    return f"{mp:.1f}".removesuffix(".0") if mp >= 0.1 else f"{mp:.2g}"


def _size_text(size: int) -> str:
    """A byte count as the user thinks of it: "31.2 MB", "900 KB", "12 bytes"."""
    mib, kib = 1024 * 1024, 1024
    if size >= mib:
        return f"{size / mib:.1f}".removesuffix(".0") + " MB"
    if size >= kib:
        return f"{size / kib:.1f}".removesuffix(".0") + " KB"
    return f"{size} bytes"
