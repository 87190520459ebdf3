"""Image functions: each staged asset holds what its Dockerfile builds from, and installs what uv.lock pins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.constructs.api_function import FUNCTIONS_DIR, dockerfile_sources
from infra.constructs.layers import serving_layer_build
from infra.image_requirements import image_functions, locked_requirements, requirements_path
from infra.stacks.finscore_stack import STACK_NAME

IMAGE_FUNCTIONS = image_functions()
IDS = [spec.name for spec in IMAGE_FUNCTIONS]


def _image_assets(outdir: Path) -> list[tuple[Path, str]]:
    """(staged asset directory, Dockerfile path inside it) of every image asset the assembly lists."""
    manifest = json.loads((outdir / f"{STACK_NAME}.assets.json").read_text())
    return [
        (outdir / image["source"]["directory"], image["source"].get("dockerFile", "Dockerfile"))
        for image in manifest.get("dockerImages", {}).values()
    ]


@pytest.fixture(scope="module")
def image_assets(synthesized) -> dict[str, tuple[Path, str]]:
    return {Path(dockerfile).parent.name: (directory, dockerfile) for directory, dockerfile in _image_assets(
        synthesized.outdir)}


def test_every_image_function_has_one_image_asset(image_assets):
    assert sorted(image_assets) == sorted(spec.folder for spec in IMAGE_FUNCTIONS)


@pytest.mark.parametrize("spec", IMAGE_FUNCTIONS, ids=IDS)
def test_image_asset_holds_its_dockerfile_and_every_copy_source(spec, image_assets):
    directory, dockerfile = image_assets[spec.folder]
    # Given the asset cdk deploy hands to `docker build -f <dockerFile> <directory>`
    assert (directory / dockerfile).is_file()
    assert (directory / f"{dockerfile}.dockerignore").is_file()
    # Then every path the Dockerfile COPYs is there, with the files the repository holds under it
    for source in dockerfile_sources((directory / dockerfile).read_text()):
        staged, original = directory / source, FUNCTIONS_DIR.parent / source
        assert staged.exists(), source
        if original.is_dir():
            expected = {p.relative_to(original) for p in original.rglob("*.py") if "__pycache__" not in p.parts}
            assert expected <= {p.relative_to(staged) for p in staged.rglob("*.py")}, source


@pytest.mark.parametrize("spec", IMAGE_FUNCTIONS, ids=IDS)
def test_image_asset_holds_nothing_the_dockerfile_does_not_use(spec, image_assets):
    directory, dockerfile = image_assets[spec.folder]
    wanted = [dockerfile, f"{dockerfile}.dockerignore", *dockerfile_sources((directory / dockerfile).read_text())]
    files = [path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()]
    unused = [name for name in files if not any(name == w or name.startswith(w + "/") for w in wanted)]
    assert not unused
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]


@pytest.mark.parametrize("spec", IMAGE_FUNCTIONS, ids=IDS)
def test_image_requirements_are_what_uv_lock_exports(spec, context):
    build = serving_layer_build()
    expected = locked_requirements(spec, build.find_uv(), context["lambdaPythonVersion"])
    assert requirements_path(spec).read_text() == expected, "stale: run `make requirements`"


def test_images_with_lightgbm_install_the_openmp_runtime_it_links():
    lightgbm_images = [spec.folder for spec in IMAGE_FUNCTIONS if "\nlightgbm==" in requirements_path(spec).read_text()]
    assert lightgbm_images
    for folder in lightgbm_images:
        assert "dnf install -y libgomp" in (FUNCTIONS_DIR / folder / "Dockerfile").read_text(), folder
