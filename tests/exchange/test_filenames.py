"""File names 1C sends, normalised as Bitrix does (protocol.md §2.3), and every name that could
reach outside the session's upload folder refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exchange.services.uploads import UnsafeFileName, normalise_archive_entry, normalise_filename


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("import.xml", "import.xml"),
        ("import0_1.xml", "import0_1.xml"),
        ("import___a1b2c3d4-0000-1111-2222-333344445555.xml", "import___a1b2c3d4-0000-1111-2222-333344445555.xml"),
        ("import_files/ab/abcdef_0123.jpg", "import_files/ab/abcdef_0123.jpg"),
        ("import_files\\ab\\abcdef_0123.jpg", "import_files/ab/abcdef_0123.jpg"),
        ("import.xml/", "import.xml"),
        ("  offers.xml  ", "offers.xml"),
        ("import_files//ab/./x.jpg", "import_files/ab/x.jpg"),
        # 1C on Linux (Bitrix: "This check for 1c server on linux")
        ("/tmp/v8_ABCD_1.xml", "v8_ABCD_1.xml"),
        ("/tmp/import_files/ab/x.jpg", "import_files/ab/x.jpg"),
        ("upload/1c/webdata/import.xml", "import.xml"),
        ("upload/1c/webdata/import_files/ab/x.jpg", "import_files/ab/x.jpg"),
        # 1C on Windows sending its temp path (BXFORUM)
        ("C:\\v8_8789_c.xml", "v8_8789_c.xml"),
        ("C:\\Users\\1C\\AppData\\Local\\Temp\\v8_1A2B_3.xml", "v8_1A2B_3.xml"),
        ("c:/temp/webdata/import_files/ab/x.jpg", "import_files/ab/x.jpg"),
        ("\\\\server\\share\\orders-42.xml", "orders-42.xml"),
        ("Фото товара.jpg", "Фото товара.jpg"),
    ],
)
def test_names_1c_sends_are_normalised(sent: str, stored: str) -> None:
    assert normalise_filename(sent) == stored


UNSAFE_NAMES = [
    "",
    "   ",
    "/",
    "..",
    "../import.xml",
    "import_files/../../etc/passwd",
    "import_files/ab/../../../x.xml",
    "..\\..\\windows\\win.ini",
    "/tmp/../etc/passwd",
    "/etc/passwd",
    "/var/www/shop/settings.py",
    "import\x00.xml",
    "import.xml\x00.jpg",
    "line\nbreak.xml",
    "C:\\",
    "import_files/ab/x.jpg:stream",
    ".htaccess",
    "import_files/.htaccess",
    "web.config",
    "WEB.CONFIG",
    ".user.ini",
    ".hidden.xml",
    "shell.php",
    "shell.PHP",
    "shell.php5",
    "shell.phtml",
    "x.php.jpg",
    "import_files/ab/evil.phar",
    "run.py",
    "run.pl",
    "run.cgi",
    "run.sh",
    "page.asp",
    "page.aspx",
    "page.jsp",
    "setup.exe",
    "x" * 256 + ".xml",
    "a/" * 600 + "x.xml",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeFileName):
        normalise_filename(name)


@pytest.mark.parametrize(
    "entry",
    ["../evil.xml", "/etc/passwd", "C:\\evil.xml", "C:evil.xml", "\\\\host\\x.xml", "a/../../b.xml", ".htaccess"],
)
def test_archive_entries_may_not_name_absolute_or_escaping_paths(entry: str) -> None:
    with pytest.raises(UnsafeFileName):
        normalise_archive_entry(entry)


def test_archive_entries_keep_their_folders() -> None:
    assert normalise_archive_entry("import_files\\ab\\x.jpg") == "import_files/ab/x.jpg"


def _stays_inside(base: Path, name: str) -> bool:
    target = os.path.normpath(os.path.join(base, name))
    return target.startswith(str(base) + os.sep)


# Names built from the pieces that matter to path handling, plus arbitrary text.
name_text = st.lists(
    st.sampled_from(
        [
            "/",
            "\\",
            ".",
            "..",
            ":",
            "C:",
            "a",
            "x.xml",
            " ",
            "~",
            "\x00",
            "\n",
            "tmp",
            "/tmp/",
            "upload/1c/webdata",
            "import_files",
            "%2e",
            "\u2024",
            "\uff0e",
        ]
    ),
    max_size=12,
).map("".join) | st.text(max_size=40)


@given(name_text)
@example("../x")
@example("/tmp/../../x")
@example("C:\\..\\..\\x")
@example("import_files/../../x")
@settings(max_examples=600, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_normalised_name_ever_escapes_the_folder(name: str) -> None:
    base = Path("/srv/exchange/session")
    for normalise in (normalise_filename, normalise_archive_entry):
        try:
            result = normalise(name)
        except UnsafeFileName:
            continue
        assert result
        assert "\x00" not in result
        assert not result.startswith("/")
        assert ".." not in result.split("/")
        assert _stays_inside(base, result)
