"""Image loading for vision models: checks, decoding and normalisation.

Every image is built here with Pillow (no binary fixtures); the few crafted headers are
made by rewriting the IHDR chunk of a PNG Pillow wrote.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from tactful.io import images
from tactful.io.images import (
    IMAGE_SUFFIXES,
    MAX_SIDE,
    ImageError,
    Picture,
    content_free_image,
    image_from_field,
    is_image_path,
    load_image,
    read_image_file,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def decoded(picture: Picture) -> Image.Image:
    """The picture's bytes decoded, checked against what the Picture says they are."""
    img = Image.open(io.BytesIO(picture.data))
    img.load()
    assert img.size == (picture.width, picture.height)
    assert Image.MIME[img.format] == picture.mime
    return img


def png_with_header_size(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR claims ``width`` x ``height``: a decompression-bomb header."""
    data = encode(Image.new("RGB", (1, 1)), "PNG")
    start = 8 + 8  # signature, then the IHDR chunk's length and type
    body = struct.pack(">II", width, height) + data[start + 8 : start + 13]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return data[:start] + body + crc + data[start + 17 :]


def noise(size: tuple[int, int]) -> Image.Image:
    """An image that does not compress, so truncating its file loses pixel data."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


# Passthrough


@pytest.mark.parametrize(
    ("image", "fmt", "name", "mime"),
    [
        (Image.new("RGBA", (300, 200), (10, 20, 30, 128)), "PNG", "a.png", "image/png"),
        (Image.new("RGB", (640, 480), RED), "JPEG", "a.jpg", "image/jpeg"),
    ],
)
def test_small_png_and_jpeg_are_sent_byte_for_byte(tmp_path: Path, image: Image.Image, fmt: str, name: str, mime: str) -> None:
    data = encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    picture = read_image_file(write(tmp_path / name, data))
    assert picture.data == data
    assert (picture.mime, picture.width, picture.height, picture.source_format) == (mime, *image.size, fmt)


def test_png_at_exactly_max_side_is_not_touched() -> None:
    data = encode(Image.new("L", (MAX_SIDE, 10)), "PNG")
    assert load_image(data, "edge.png").data == data


# Conversion


@pytest.mark.parametrize("fmt", ["WEBP", "BMP", "TIFF"])
def test_other_formats_become_png_of_the_same_size(tmp_path: Path, fmt: str) -> None:
    params = {"lossless": True} if fmt == "WEBP" else {}
    path = write(
        tmp_path / f"a.{fmt.lower()}", encode(Image.new("RGB", (120, 80), RED), fmt, **params)
    )
    picture = read_image_file(path)
    img = decoded(picture)
    assert (picture.mime, picture.source_format, img.format) == ("image/png", fmt, "PNG")
    assert img.size == (120, 80)
    assert img.convert("RGB").getpixel((5, 5)) == RED


def test_animated_gif_sends_its_first_frame_only() -> None:
    frames = [Image.new("RGB", (64, 48), RED), Image.new("RGB", (64, 48), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2  # really animated
    picture = load_image(data, "anim.gif")
    img = decoded(picture)
    assert (picture.source_format, img.size) == ("GIF", (64, 48))
    assert getattr(img, "n_frames", 1) == 1
    assert img.convert("RGB").getpixel((10, 10)) == RED


def palette_with_transparency() -> Image.Image:
    img = Image.new("P", (40, 30), 0)  # index 0, transparent, must be used or GIF drops it
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    img.putpixel((0, 0), 1)
    img.info["transparency"] = 0
    return img


@pytest.mark.parametrize(
    ("make", "fmt", "mode"),
    [
        (lambda: Image.new("P", (40, 30), 3), "BMP", "RGB"),
        (palette_with_transparency, "GIF", "RGBA"),
        (lambda: Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "TIFF", "RGB"),
        (lambda: Image.new("I;16", (40, 30), 40000), "TIFF", "RGB"),
        (lambda: Image.new("F", (40, 30), 0.5), "TIFF", "RGB"),
        (lambda: Image.new("1", (40, 30), 1), "BMP", "RGB"),
        (lambda: Image.new("LA", (40, 30), (200, 100)), "WEBP", "RGBA"),
    ],
    ids=["palette", "palette-transparent", "cmyk", "16-bit", "float", "1-bit", "grey-alpha"],
)
def test_every_mode_converts_to_rgb_or_rgba(make, fmt: str, mode: str) -> None:
    picture = load_image(encode(make(), fmt), f"x.{fmt.lower()}")
    img = decoded(picture)
    assert (img.format, img.mode, img.size) == ("PNG", mode, (40, 30))


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white() -> None:
    picture = load_image(encode(Image.new("I;16", (8, 8), 40000), "TIFF"), "deep.tif")
    assert decoded(picture).getpixel((0, 0)) == (156, 156, 156)  # 40000 / 256, not 255


def test_cmyk_red_stays_red() -> None:
    picture = load_image(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "TIFF"), "c.tif")
    assert decoded(picture).getpixel((0, 0)) == RED


def test_a_large_png_is_downscaled_to_max_side_keeping_aspect() -> None:
    data = encode(Image.new("RGB", (5000, 1000), BLUE), "PNG")
    picture = load_image(data, "wide.png")
    img = decoded(picture)
    assert picture.data != data
    assert (picture.mime, picture.source_format) == ("image/png", "PNG")
    assert img.width == MAX_SIDE
    assert abs(img.height - 1000 * MAX_SIDE / 5000) <= 1


def test_a_large_jpeg_is_downscaled_on_its_long_side() -> None:
    picture = load_image(encode(Image.new("RGB", (1000, 3000), RED), "JPEG"), "tall.jpg")
    img = decoded(picture)
    assert (picture.mime, picture.source_format) == ("image/png", "JPEG")
    assert img.height == MAX_SIDE
    assert abs(img.width - 1000 * MAX_SIDE / 3000) <= 1


def test_exif_orientation_is_applied_when_converting() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: a portrait photo
    data = encode(Image.new("RGB", (3000, 1000), RED), "JPEG", exif=exif.tobytes())
    img = decoded(load_image(data, "phone.jpg"))
    assert img.height == MAX_SIDE and img.width < img.height


def test_conversion_is_deterministic() -> None:
    data = encode(noise((64, 64)), "WEBP", quality=80)
    first, second = load_image(data, "a.webp"), load_image(data, "a.webp")
    assert first.data == second.data
    assert first == second


# Limits


def test_over_max_pixels_is_refused_from_the_header(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000_000)
    path = write(tmp_path / "big.png", encode(Image.new("RGB", (1500, 1000)), "PNG"))

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(ImageError) as caught:
        read_image_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "1.5 megapixels, over the 1-megapixel limit; downscale it" in message


@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 10000), (10000, 10000), (100000, 100000)],
    ids=["over-our-limit", "pillow-warns", "pillow-refuses"],
)
def test_decompression_bomb_headers_are_refused(width: int, height: int) -> None:
    with pytest.raises(ImageError, match=r"^bomb\.png: .*over the 40-megapixel limit"):
        load_image(png_with_header_size(width, height), "bomb.png")


def test_pillows_bomb_warning_refuses_the_image(monkeypatch) -> None:
    # Raise our limit above Pillow's, so that only its warning, made an error, refuses.
    monkeypatch.setattr(images, "MAX_PIXELS", 150_000_000)

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("a bomb's pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(ImageError, match=r"^bomb\.png: image is over the 89\.5-megapixel limit"):
        load_image(png_with_header_size(10000, 10000), "bomb.png")


def test_bomb_header_message_gives_its_size() -> None:
    with pytest.raises(ImageError, match="image is 80 megapixels, over the 40-megapixel"):
        load_image(png_with_header_size(8000, 10000), "bomb.png")


def test_over_max_bytes_file_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 1000)
    path = write(tmp_path / "y.png", encode(noise((40, 40)), "PNG"))

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened before its size was checked")

    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(ImageError, match=r"y\.png: .* KB, over the 1000 bytes limit"):
        read_image_file(path)


def test_over_max_bytes_data_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 1000)
    with pytest.raises(ImageError, match="over the 1000 bytes limit"):
        load_image(encode(noise((40, 40)), "PNG"), "y.png")


def test_size_message_uses_megabytes() -> None:
    with pytest.raises(ImageError, match=r"^y\.jpg: 31\.2 MB, over the 20 MB limit"):
        load_image(b"\0" * int(31.2 * 1024 * 1024), "y.jpg")


# Broken and unsupported input


def test_truncated_png_is_refused(tmp_path: Path) -> None:
    data = encode(noise((200, 200)), "PNG")
    path = write(tmp_path / "cut.png", data[: len(data) // 2])
    with pytest.raises(ImageError, match=rf"^{path}: not a readable image \(.+\); check the file"):
        read_image_file(path)


def test_truncated_jpeg_is_refused() -> None:
    data = encode(noise((200, 200)), "JPEG")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(data[: len(data) // 2], "cut.jpg")


def test_random_bytes_are_refused() -> None:
    with pytest.raises(ImageError) as caught:
        load_image(os.urandom(4096), "x.png")
    assert (
        str(caught.value)
        == "x.png: not a readable image (cannot identify image file); check the file"
    )


@pytest.mark.parametrize("fmt", ["ICO", "PCX", "PPM", "TGA"])
def test_formats_pillow_reads_but_we_do_not_accept(fmt: str) -> None:
    data = encode(Image.new("RGB", (32, 32), RED), fmt)
    with pytest.raises(ImageError) as caught:
        load_image(data, "pic")
    assert str(caught.value) == f"pic: unsupported image format {fmt}; convert it to PNG or JPEG"


def test_heic_is_named_though_pillow_cannot_identify_it() -> None:
    data = struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0mif1heic" + b"\0" * 64
    with pytest.raises(ImageError, match=r"^photo\.heic: unsupported image format HEIF; convert"):
        load_image(data, "photo.heic")


def test_svg_is_named() -> None:
    with pytest.raises(ImageError, match="unsupported image format SVG"):
        load_image(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.png"
    with pytest.raises(ImageError, match=rf"^{path}: no such image file$"):
        read_image_file(path)


def test_directory_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=rf"^{tmp_path}: is a directory"):
        read_image_file(tmp_path)


def test_unreadable_file_names_the_path(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "secret.png", encode(Image.new("RGB", (2, 2)), "PNG"))

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)  # chmod would not stop a test run as root
    with pytest.raises(ImageError, match=rf"^{path}: permission denied; check"):
        read_image_file(path)


# JSONL fields


@pytest.fixture
def png_bytes() -> bytes:
    return encode(Image.new("RGB", (30, 20), BLUE), "PNG")


def test_field_data_url(png_bytes: bytes, tmp_path: Path) -> None:
    url = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    picture = image_from_field(url, "posts.jsonl:3", tmp_path)
    assert picture.data == png_bytes and picture.width == 30


def test_field_data_url_type_is_checked_by_content(tmp_path: Path) -> None:
    webp = encode(Image.new("RGB", (30, 20), BLUE), "WEBP")
    url = "data:image/png;base64," + base64.b64encode(webp).decode()
    picture = image_from_field(url, "posts.jsonl:3", tmp_path)
    assert (picture.source_format, picture.mime) == ("WEBP", "image/png")
    assert decoded(picture).format == "PNG"


def test_field_data_url_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(
        ImageError, match=r"^posts\.jsonl:3: data URL is not an image \(text/plain\)"
    ):
        image_from_field("data:text/plain;base64,aGVsbG8=", "posts.jsonl:3", tmp_path)


def test_field_raw_base64_with_line_breaks(png_bytes: bytes, tmp_path: Path) -> None:
    wrapped = base64.encodebytes(png_bytes).decode()  # 76-column lines, as some tools write
    assert "\n" in wrapped.strip()
    picture = image_from_field(wrapped, "posts.jsonl:4", tmp_path)
    assert picture.data == png_bytes


def test_field_relative_path_resolves_against_base_dir(
    png_bytes: bytes, tmp_path: Path, monkeypatch
) -> None:
    base = tmp_path / "corpus"
    (base / "photos").mkdir(parents=True)
    write(base / "photos" / "cat.png", png_bytes)
    monkeypatch.chdir(tmp_path)  # not the folder of the JSONL file
    picture = image_from_field("photos/cat.png", "posts.jsonl:5", base)
    assert picture.data == png_bytes


def test_field_absolute_path(png_bytes: bytes, tmp_path: Path) -> None:
    path = write(tmp_path / "cat.png", png_bytes)
    assert image_from_field(str(path), "p:1", tmp_path / "elsewhere").data == png_bytes


def test_field_existing_file_wins_over_base64(png_bytes: bytes, tmp_path: Path) -> None:
    write(tmp_path / "abcd", png_bytes)  # "abcd" is also valid base64
    assert image_from_field("abcd", "p:1", tmp_path).data == png_bytes


def test_field_file_errors_name_the_field_and_the_file(tmp_path: Path) -> None:
    write(tmp_path / "bad.png", b"not an image at all")
    with pytest.raises(ImageError, match=r"^p:2: bad\.png: not a readable image"):
        image_from_field("bad.png", "p:2", tmp_path)


@pytest.mark.parametrize("value", ["photos/missing.png", "missing.jpg", "dir/file"])
def test_field_missing_path(value: str, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^posts\.jsonl:6: no such image file: "):
        image_from_field(value, "posts.jsonl:6", tmp_path)


@pytest.mark.parametrize("value", ["hello world!", "not_base64?", "é"])
def test_field_garbage_string(value: str, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="neither an image file nor base64 image data"):
        image_from_field(value, "posts.jsonl:7", tmp_path)


def test_field_base64_that_is_not_an_image(tmp_path: Path) -> None:
    text = base64.b64encode(b"plain text, not pixels").decode()
    with pytest.raises(ImageError, match=r"^p:8: base64 image data: not a readable image"):
        image_from_field(text, "p:8", tmp_path)


def test_field_base64_over_the_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 1000)
    text = base64.b64encode(encode(noise((40, 40)), "PNG")).decode()
    with pytest.raises(ImageError, match="over the 1000 bytes limit"):
        image_from_field(text, "p:9", tmp_path)


def test_field_long_base64_is_not_taken_for_a_file_name(tmp_path: Path) -> None:
    data = encode(noise((100, 100)), "PNG")  # base64 far longer than NAME_MAX
    text = base64.b64encode(data).decode()
    assert "/" in text  # so it also "looks like a path"
    assert image_from_field(text, "p:10", tmp_path).data == data


@pytest.mark.parametrize(
    ("value", "type_name"), [(42, "int"), ({"a": 1}, "dict"), (None, "NoneType")]
)
def test_field_non_string(value: object, type_name: str, tmp_path: Path) -> None:
    with pytest.raises(ImageError) as caught:
        image_from_field(value, "posts.jsonl:11", tmp_path)
    message = str(caught.value)
    assert message.startswith("posts.jsonl:11: ") and message.endswith(f"not {type_name}")


def test_field_empty_string(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="image field is empty"):
        image_from_field("  ", "p:12", tmp_path)


# Small pieces


def test_base64_and_data_url(png_bytes: bytes) -> None:
    picture = load_image(png_bytes, "a.png")
    assert base64.b64decode(picture.base64(), validate=True) == png_bytes
    assert picture.data_url() == "data:image/png;base64," + picture.base64()
    assert "data=" not in repr(picture)  # megabytes of bytes stay out of reprs


def test_image_suffixes() -> None:
    assert {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"} == IMAGE_SUFFIXES
    assert is_image_path("a/B.JPG") and is_image_path("x.tiff")
    assert not is_image_path("posts.jsonl") and not is_image_path("png")


def test_content_free_image_is_plain_grey_and_deterministic() -> None:
    first, second = content_free_image(), content_free_image()
    assert first == second
    img = decoded(first)
    assert (img.format, img.mode, img.size) == ("PNG", "RGB", (224, 224))
    assert img.getcolors() == [(224 * 224, (128, 128, 128))]
    assert (first.mime, first.width, first.height) == ("image/png", 224, 224)
