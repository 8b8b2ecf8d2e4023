"""Under `make asan`, the suite must run against the sanitized extension."""

import os

import gdlite


def test_extension_is_the_one_asked_for():
    ext_dir = os.environ.get("GDLITE_EXT_DIR")
    if ext_dir is None:
        assert os.path.dirname(gdlite._C.__file__) == os.path.dirname(gdlite.__file__)
    else:
        assert os.path.dirname(gdlite._C.__file__) == ext_dir
