"""Product pictures follow 1C: a changed file replaces, an unlisted one goes, an unchanged one
is not copied again, and no picture is ever attached twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.models import Product, ProductImage
from tests.importer.cml import Prod, import_xml, write

# Files are removed after the batch commits: the test needs real commits.
pytestmark = pytest.mark.django_db(transaction=True)

A, B, C = "import_files/aa/a.jpg", "import_files/bb/b.jpg", "import_files/cc/c.jpg"


def pictures(onec_id: str) -> dict[str, str]:
    return dict(ProductImage.objects.filter(product__onec_id=onec_id).values_list("source_path", "image"))


def resend(path: Path, content: bytes) -> None:
    """A new upload of the file: a new file (stored pictures may be hard links to the old one)."""
    path.unlink()
    path.write_bytes(content)


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_a_changed_picture_replaces_a_removed_one_goes_and_an_unchanged_one_stays(
    run_import, tmp_path: Path, media: Path
) -> None:
    folder = tmp_path / "x"
    for path, content in ((A, b"a-1"), (B, b"b-1"), (C, b"c-1")):
        write(folder, path, "")
        (folder / path).write_bytes(content)
    write(folder, "import.xml", import_xml([Prod("p", images=[A, B, C]), Prod("other", images=[B])]))
    run_import(folder)
    first = pictures("p")
    unchanged_file = media / first[C]
    unchanged_inode = unchanged_file.stat().st_ino

    resend(folder / A, b"a-2")  # same path, new picture
    write(folder, "import.xml", import_xml([Prod("p", images=[A, C], name="Новое имя"), Prod("other", images=[B])]))
    result = run_import(folder)

    now = pictures("p")
    assert set(now) == {A, C}
    assert (media / now[A]).read_bytes() == b"a-2"
    assert not (media / first[A]).exists()  # the replaced file is gone from disk
    assert now[C] == first[C] and unchanged_file.stat().st_ino == unchanged_inode  # not copied again
    assert (media / first[B]).exists()  # B left "p" but "other" still shows it
    assert ProductImage.objects.filter(product__onec_id="p").count() == 2
    counters = result.counters["images"]
    assert (counters["updated"], counters["removed"]) == (1, 1)

    write(folder, "import.xml", import_xml([Prod("p", images=[A, C], name="Новое имя"), Prod("other")]))
    run_import(folder)

    assert not (media / first[B]).exists()  # used by nothing any more: removed from disk
    assert pictures("other") == {}


def test_a_picture_file_changed_without_any_other_change_is_replaced(run_import, tmp_path: Path, media: Path) -> None:
    folder = tmp_path / "x"
    write(folder, A, "")
    (folder / A).write_bytes(b"v1")
    write(folder, "import.xml", import_xml([Prod("p", images=[A])]))
    run_import(folder)
    resend(folder / A, b"v2")

    run_import(folder)

    assert [(media / name).read_bytes() for name in pictures("p").values()] == [b"v2"]


def test_pictures_added_in_the_admin_stay(run_import, tmp_path: Path, media: Path) -> None:
    folder = tmp_path / "x"
    write(folder, A, "a")
    write(folder, "import.xml", import_xml([Prod("p", images=[A])]))
    run_import(folder)
    ProductImage.objects.create(product=Product.objects.get(onec_id="p"), image="products/by-hand.jpg")

    write(folder, "import.xml", import_xml([Prod("p", images=[], name="Без картинок")]))
    run_import(folder)

    assert list(ProductImage.objects.values_list("image", flat=True)) == ["products/by-hand.jpg"]


def test_a_picture_path_longer_than_its_column_is_skipped_and_reported(run_import, tmp_path: Path, media: Path) -> None:
    folder = tmp_path / "x"
    long_path = "import_files/" + "/".join(["папка" * 10] * 11) + "/a.jpg"  # 579 characters
    write(folder, long_path, "jpeg")
    write(folder, A, "jpeg")
    write(folder, "import.xml", import_xml([Prod("p", images=[long_path, A])]))

    result = run_import(folder)

    assert len(long_path) > 512
    assert result.status == result.Status.COMPLETED
    assert set(pictures("p")) == {A}
    assert result.counters["images"]["skipped"] == 1


def test_a_picture_whose_stored_name_would_be_too_long_is_stored_under_its_hash(
    run_import, tmp_path: Path, media: Path
) -> None:
    folder = tmp_path / "x"
    path = "import_files/" + "/".join(["папка" * 10] * 9) + "/" + "я" * 30 + ".jpg"  # fits, its name would not
    write(folder, path, "jpeg")
    write(folder, "import.xml", import_xml([Prod("p", images=[path])]))

    run_import(folder)

    assert 500 < len(path) <= 512
    (name,) = pictures("p").values()
    assert name.startswith("products/") and len(name) < 64
    assert (media / name).read_bytes() == b"jpeg"
