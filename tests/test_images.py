"""The bundled photos: names, shapes, range, dtype and clear errors."""

import numpy as np
import pytest

from pooling_lab import images

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


@pytest.mark.parametrize("size", [0, -3, 2.5, "big", (10,), (10, 0), (10, 2.0), True])
def test_a_bad_size_is_named(size):
    with pytest.raises(ValueError, match="size must be"):
        images.load("coffee", size=size)


@pytest.mark.parametrize("dtype", [np.int32, np.float16, "foo", None, int])
def test_a_bad_dtype_is_named(dtype):
    with pytest.raises(ValueError, match="dtype must be numpy.float32 or numpy.float64"):
        images.load("coffee", size=8, dtype=dtype)


def test_grayscale_must_be_a_bool():
    with pytest.raises(ValueError, match="grayscale must be True or False; got 'yes'"):
        images.load("coffee", grayscale="yes")


def test_the_package_copy_is_searched_before_the_clone():
    package_dir = images.SEARCH_DIRS[0]
    assert package_dir.name == "_images" and package_dir.parent.name == "pooling_lab"
    assert images.SEARCH_DIRS[1].name == "images"


def test_load_file_reads_any_image_file_like_a_bundled_photo(tmp_path):
    from PIL import Image
    np.testing.assert_array_equal(images.load_file(images.path("coffee"), size=64),
                                  images.load("coffee", size=64))
    file = tmp_path / "tiny.png"
    Image.fromarray(np.array([[0, 255], [51, 102]], dtype=np.uint8)).save(file)
    x = images.load_file(file, grayscale=True)
    np.testing.assert_allclose(x[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]])
    assert x.shape == (1, 2, 2, 1)
