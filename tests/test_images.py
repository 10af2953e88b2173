"""The bundled photos and any image file: names, shapes, bit depths, orientation, alpha,
range, dtype and clear errors. The odd files (16-bit, float, rotated, transparent) are built
by the tests themselves, in pytest's tmp_path."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from pooling_lab import images, rules

NAMES = ["astronaut", "chelsea", "coffee", "grace_hopper"]


def test_names_are_the_four_photos_sorted():
    assert images.names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_photo_loads_as_one_rgb_image_in_unit_range(name):
    x = images.load(name)
    assert x.ndim == 4 and x.shape[0] == 1 and x.shape[3] == 3
    assert max(x.shape[1:3]) <= 512
    assert x.dtype == np.float64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x.max() > 0.5 and x.min() < 0.1          # a real photo, not a blank


def test_path_points_at_an_existing_jpeg():
    photo = images.path("coffee")
    assert photo.is_file() and photo.suffix == ".jpg" and photo.stem == "coffee"


def test_grayscale_has_one_channel_and_is_the_luminance():
    rgb = images.load("chelsea")
    gray = images.load("chelsea", grayscale=True)
    assert gray.shape == (*rgb.shape[:3], 1)
    luminance = rgb @ np.array([0.299, 0.587, 0.114])           # (1, H, W, 3) -> (1, H, W)
    np.testing.assert_allclose(gray[..., 0], luminance, atol=1 / 255 + 1e-9)


def test_an_int_size_sets_the_longer_side_and_keeps_the_aspect():
    full = images.load("chelsea")                                # (1, 300, 451, 3)
    small = images.load("chelsea", size=128)
    assert small.shape == (1, round(300 * 128 / 451), 128, 3)
    portrait = images.load("grace_hopper", size=64)              # taller than wide
    assert portrait.shape[1] == 64 and portrait.shape[2] < 64
    assert full.shape[1:3] == (300, 451)


def test_a_pair_size_sets_both_sides():
    assert images.load("coffee", size=(40, 30), grayscale=True).shape == (1, 40, 30, 1)


@pytest.mark.parametrize("dtype", [np.float32, "float32", np.dtype(np.float32)])
def test_float32_on_request(dtype):
    x = images.load("astronaut", size=32, dtype=dtype)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, images.load("astronaut", size=32), atol=1e-6)


def test_loading_twice_gives_the_same_array():
    np.testing.assert_array_equal(images.load("coffee", size=50), images.load("coffee", size=50))


def test_an_unknown_name_lists_the_available_photos():
    with pytest.raises(ValueError) as error:
        images.load("dog")
    message = str(error.value)
    assert "name" in message and "'dog'" in message
    for name in NAMES:
        assert name in message
    with pytest.raises(ValueError, match="'cat'"):
        images.path("cat")


@pytest.mark.parametrize("size,error", [(0, ValueError), (-3, ValueError), ((10,), ValueError),
                                        ((10, 0), ValueError), (2.5, TypeError),
                                        ("big", TypeError), (True, TypeError),
                                        ((10, "2"), TypeError)])
def test_a_bad_size_is_named(size, error):
    with pytest.raises(error, match="size must be"):
        images.load("coffee", size=size)


def test_a_whole_float_size_means_that_int():
    assert images.load("coffee", size=(10, 2.0)).shape == (1, 10, 2, 3)


@pytest.mark.parametrize("dtype,error", [(np.int32, ValueError), (np.float16, ValueError),
                                         (int, ValueError), ("foo", TypeError),
                                         (None, TypeError)])
def test_a_bad_dtype_is_named(dtype, error):
    with pytest.raises(error, match="dtype must be numpy.float32 or numpy.float64"):
        images.load("coffee", size=8, dtype=dtype)


def test_grayscale_must_be_a_bool():
    with pytest.raises(TypeError, match="grayscale must be True or False; got 'yes'"):
        images.load("coffee", grayscale="yes")


def test_the_package_copy_is_searched_before_the_clone(tmp_path, monkeypatch):
    package_copy, clone, empty = (tmp_path / name for name in ("_images", "images", "empty"))
    for folder, gray in ((package_copy, 0), (clone, 255)):       # one "cat", black or white
        folder.mkdir()
        Image.new("L", (2, 2), gray).save(folder / "cat.jpg")
    empty.mkdir()
    monkeypatch.setattr(images, "SEARCH_DIRS", (package_copy, clone))
    assert images.path("cat") == package_copy / "cat.jpg"
    assert images.load("cat", grayscale=True).max() == 0.0           # the package copy's
    monkeypatch.setattr(images, "SEARCH_DIRS", (empty, clone))       # no photo: the next one
    assert images.load("cat", grayscale=True).min() == 1.0
    monkeypatch.undo()                  # and the real order: the installed copy, then the clone
    assert [folder.name for folder in images.SEARCH_DIRS] == ["_images", "images"]


def test_load_file_reads_any_image_file_like_a_bundled_photo(tmp_path):
    np.testing.assert_array_equal(images.load_file(images.path("coffee"), size=64),
                                  images.load("coffee", size=64))
    file = tmp_path / "tiny.png"
    Image.fromarray(np.array([[0, 255], [51, 102]], dtype=np.uint8)).save(file)
    x = images.load_file(file, grayscale=True)
    np.testing.assert_allclose(x[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]])
    assert x.shape == (1, 2, 2, 1)


# --------------------------------------------------------------------------------------------
# Any image file: bit depth, orientation, alpha, bad files (issue 10, items 5 and 8)
# --------------------------------------------------------------------------------------------

#: A 16-bit ramp over the whole range: row r, column c holds 4369 * (4 r + c), 0 to 65535.
RAMP = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4369)


@pytest.mark.parametrize("byte_order,mode", [("<u2", "I;16"), (">u2", "I;16B")])
def test_a_16_bit_file_is_scaled_by_65535(tmp_path, byte_order, mode):
    # Read as 8-bit, this ramp came back clipped: 15 of its 16 values as 1.0.
    file = tmp_path / "ramp.tif"
    Image.fromarray(RAMP.astype(byte_order)).save(file)
    with Image.open(file) as photo:
        assert photo.mode == mode
    x = images.load_file(file, grayscale=True)
    assert x.shape == (1, 4, 4, 1) and x.dtype == np.float64
    np.testing.assert_allclose(x[0, :, :, 0], np.arange(16).reshape(4, 4) / 15, rtol=1e-15)
    rgb = images.load_file(file)                      # one channel, repeated as RGB
    assert rgb.shape == (1, 4, 4, 3)
    np.testing.assert_array_equal(rgb, np.repeat(x, 3, axis=3))


def test_a_16_bit_png_and_a_32_bit_integer_file_read_as_16_bit(tmp_path):
    png = tmp_path / "ramp.png"
    Image.fromarray(RAMP).save(png)
    np.testing.assert_allclose(images.load_file(png, grayscale=True)[0, :, :, 0],
                               RAMP / 65535, rtol=1e-15)
    wide = tmp_path / "ramp32.tif"
    Image.fromarray(RAMP.astype(np.int32)).save(wide)
    with Image.open(wide) as photo:
        assert photo.mode == "I"
    np.testing.assert_allclose(images.load_file(wide, grayscale=True)[0, :, :, 0],
                               RAMP / 65535, rtol=1e-15)
    too_wide = tmp_path / "big32.tif"
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32)).save(too_wide)
    with pytest.raises(ValueError, match=r"integers from 0 to 70000 in Pillow's mode 'I'; only "
                                         r"16-bit data, 0..65535"):
        images.load_file(too_wide)


def test_a_16_bit_file_resized_stays_in_unit_range(tmp_path):
    file = tmp_path / "edge.png"
    edge = np.zeros((16, 16), dtype=np.uint16)
    edge[:, 8:] = 65535                                # a sharp edge: Lanczos rings past it
    Image.fromarray(edge).save(file)
    x = images.load_file(file, grayscale=True, size=6)
    assert x.shape == (1, 6, 6, 1)
    assert x.min() == 0.0 and x.max() == 1.0          # the ringing is clipped, not kept
    np.testing.assert_allclose(x[0, :, 0, 0], 0.0, atol=0.01)
    np.testing.assert_allclose(x[0, :, -1, 0], 1.0, atol=0.01)


def test_a_float_tiff_keeps_its_values(tmp_path):
    # Read as 8-bit, values in [0, 1] came back divided by 255.
    values = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, 0.125]], dtype=np.float32)
    file = tmp_path / "unit.tif"
    Image.fromarray(values).save(file)
    x = images.load_file(file, grayscale=True)
    np.testing.assert_array_equal(x[0, :, :, 0], values)
    # Outside [0, 1] the values come through unchanged (documented), not clipped.
    outside = np.array([[-0.5, 2.0]], dtype=np.float32)
    Image.fromarray(outside).save(file)
    np.testing.assert_array_equal(images.load_file(file)[0], np.repeat(outside[:, :, None], 3, 2))
    # Resized, a float file never leaves the range of its own values.
    Image.fromarray(np.kron(values, np.ones((4, 4), np.float32))).save(file)
    resized = images.load_file(file, grayscale=True, size=5, dtype=np.float32)
    assert resized.dtype == np.float32 and resized.shape == (1, 3, 5, 1)
    assert resized.min() >= 0.0 and resized.max() <= 1.0


def test_the_exif_orientation_is_applied(tmp_path):
    # Stored 8 rows by 16 columns, left half black, right half white, with the tag
    # "orientation 6": a viewer turns it 90 degrees clockwise, so the left half goes on top.
    stored = Image.new("L", (16, 8))                  # PIL sizes are (W, H)
    stored.paste(255, (8, 0, 16, 8))
    exif = Image.Exif()
    exif[0x0112] = 6
    file = tmp_path / "phone.png"
    stored.save(file, exif=exif)
    x = images.load_file(file, grayscale=True)
    assert x.shape == (1, 16, 8, 1)
    np.testing.assert_array_equal(x[0, :8, :, 0], 0.0)
    np.testing.assert_array_equal(x[0, 8:, :, 0], 1.0)
    assert images.load_file(file, size=4).shape == (1, 4, 2, 3)


def test_alpha_is_composited_onto_white(tmp_path):
    rgba = np.array([[[255, 0, 0, 255], [255, 0, 0, 0]],           # opaque red, invisible red
                     [[0, 0, 255, 102], [0, 0, 0, 255]]], np.uint8)  # 40 % blue, opaque black
    file = tmp_path / "alpha.png"
    Image.fromarray(rgba).save(file)
    x = images.load_file(file)
    # Over white: value = alpha * colour + (1 - alpha) * 1, rounded to 8 bits.
    expected = np.array([[[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]],
                         [[0.6, 0.6, 1.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_allclose(x[0], expected, atol=1 / 255)
    gray = images.load_file(file, grayscale=True)
    np.testing.assert_allclose(gray[0, :, :, 0], expected @ [0.299, 0.587, 0.114], atol=1 / 255)
    la = tmp_path / "la.png"                          # gray with alpha: the same rule
    Image.fromarray(np.array([[[0, 0], [0, 255]]], np.uint8), mode="LA").save(la)
    np.testing.assert_allclose(images.load_file(la, grayscale=True)[0, 0, :, 0], [1.0, 0.0])


def test_an_open_binary_file_is_read_too(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(RAMP).save(buffer, format="PNG")
    buffer.seek(0)
    np.testing.assert_allclose(images.load_file(buffer, grayscale=True)[0, :, :, 0],
                               RAMP / 65535, rtol=1e-15)


@pytest.mark.parametrize("file,error,message", [
    (None, TypeError, r"file must be a path \(str or pathlib.Path\) or an open binary file; "
                      r"got None of type NoneType"),
    (3, TypeError, r"file must be a path .*; got 3 of type int"),
])
def test_a_bad_file_argument_is_named(file, error, message):
    with pytest.raises(error, match=message):
        images.load_file(file)


def test_a_missing_file_a_folder_and_a_file_that_is_not_an_image(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"file must be an image file; got .*nope.png'"
                                                r", which does not exist"):
        images.load_file(tmp_path / "nope.png")
    with pytest.raises(ValueError, match=r"file must be an image file; got .*, which is not "
                                         r"a file"):
        images.load_file(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    with pytest.raises(ValueError, match=r"file must be an image file Pillow can read; got "
                                         r".*notes.txt"):
        images.load_file(text)


@pytest.mark.parametrize("bad", [None, 3, b"chelsea"])
def test_a_name_that_is_not_a_string_is_a_type_error(bad):
    with pytest.raises(TypeError, match=rf"name must be a string.*got {bad!r}"):
        images.load(bad)


@pytest.mark.parametrize("size,shape", [(10**9, "(1, 665188470, 1000000000, 3)"),
                                        ((10**5, 10**5), "(1, 100000, 100000, 3)")])
def test_a_size_over_the_bound_is_refused_before_resizing(size, shape):
    # Pillow raised a MemoryError with an empty message
    with pytest.raises(ValueError) as error:
        images.load_file(images.path("chelsea"), size=size)
    message = str(error.value)
    assert f"size {size!r}" in message and shape in message
    assert "LARGEST_ARRAY" in message


# --------------------------------------------------------------------------------------------
# Bombs, cut files and unreadable files (issue 20)
# --------------------------------------------------------------------------------------------

def noise_image_bytes(image_format):
    """A 64 x 48 RGB image of noise (which compresses badly, so cuts land in the pixels)."""
    pixels = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format)
    return buffer.getvalue()


def bomb_png(tmp_path, width, height):
    """A tiny PNG whose header (IHDR) claims ``width`` x ``height`` pixels, CRC mended."""
    data = bytearray(noise_image_bytes("PNG"))
    # 8 signature bytes, then the IHDR chunk: length (4), "IHDR" (4), width, height, ... CRC
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    file = tmp_path / "bomb.png"
    file.write_bytes(data)
    return file


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel is decoded: the refusals below come from the header."""
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda photo: pytest.fail("decoded"))


def test_a_bomb_is_refused_by_pillows_guard_as_a_value_error(tmp_path, no_decoding):
    # It raised PIL.Image.DecompressionBombError, neither ValueError nor OSError.
    file = bomb_png(tmp_path, 200_000, 200_000)
    with pytest.raises(ValueError, match=r"file '.*bomb.png' is refused from its header, "
                                         r"before decoding, by Pillow's guard \(PIL.Image."
                                         r"MAX_IMAGE_PIXELS\): Image size \(40000000000 "
                                         r"pixels\) exceeds limit of 178956970 pixels"):
        images.load_file(file)


@pytest.mark.parametrize("grayscale,shape,numbers", [
    (False, "(1, 200000, 200000, 3)", "120,000,000,000"),
    (True, "(1, 200000, 200000, 1)", "40,000,000,000")])
def test_a_bomb_past_largest_array_is_refused_from_its_header(tmp_path, monkeypatch,
                                                              no_decoding, grayscale, shape,
                                                              numbers):
    # With Pillow's guard lifted, the package's own limit still refuses it before decoding.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ValueError) as error:
        images.load_file(bomb_png(tmp_path, 200_000, 200_000), grayscale=grayscale)
    message = str(error.value)
    assert message.startswith(f"file '{tmp_path / 'bomb.png'}', 200000 x 200000 pixels by "
                              f"its header, would make an image (1, H, W, C) of shape {shape}")
    assert f"{numbers} numbers" in message and "LARGEST_ARRAY" in message
    assert f"{rules.LARGEST_ARRAY:,}" in message


def test_a_header_within_the_limits_is_decoded(tmp_path):
    # The same surgery with the true size: the refusals above come from the size alone.
    x = images.load_file(bomb_png(tmp_path, 64, 48))
    assert x.shape == (1, 48, 64, 3)
    np.testing.assert_array_equal(x, images.load_file(io.BytesIO(noise_image_bytes("PNG"))))


@pytest.mark.parametrize("image_format,kept,reason", [
    ("PNG", "half", "image file is truncated"),
    ("JPEG", "half", r"image file is truncated \(\d+ bytes not processed\)"),
    ("JPEG", 60, "Truncated File Read"),              # cut inside the header
], ids=["png-half", "jpeg-half", "jpeg-header"])
def test_a_cut_file_is_a_value_error_naming_it(tmp_path, image_format, kept, reason):
    # It was an OSError, where the docs say ValueError.
    data = noise_image_bytes(image_format)
    file = tmp_path / f"cut.{image_format.lower()}"
    file.write_bytes(data[:len(data) // 2 if kept == "half" else kept])
    with pytest.raises(ValueError, match=rf"file must be an image file Pillow can read; got "
                                         rf"'.*{file.name}', which Pillow cannot read "
                                         rf"\({reason}"):
        images.load_file(file)


def test_an_unreadable_file_is_a_value_error_naming_it(tmp_path):
    file = tmp_path / "ok.png"
    file.write_bytes(noise_image_bytes("PNG"))
    with open(file, "rb") as opened:
        os.close(opened.fileno())                     # every read now fails: EBADF
        with pytest.raises(ValueError, match=r"got <_io.BufferedReader name='.*ok.png'>, "
                                             r"which Pillow cannot read \(\[Errno 9\] Bad file "
                                             r"descriptor\)"):
            images.load_file(opened)
        with pytest.raises(OSError):                  # its own close fails too: here, not
            opened.close()                            # as a warning at garbage collection


def test_a_file_opened_in_text_mode_is_a_type_error(tmp_path):
    # It raised UnicodeDecodeError from inside Pillow.
    file = tmp_path / "ok.png"
    file.write_bytes(noise_image_bytes("PNG"))
    with open(file) as text:
        with pytest.raises(TypeError, match=r"file must be a path .* or an open binary file; "
                                            r"got <_io.TextIOWrapper .* of type TextIOWrapper"):
            images.load_file(text)
