"""What ``pip install .`` ships: the wheel's and the sdist's metadata, the LICENSE, py.typed, the extras, the version.

The wheel and the sdist are built once, from a copy of the checkout's packaging files (so no
``build/`` or ``*.egg-info`` lands in the checkout), by the setuptools that pyproject.toml's
``build-system`` asks for, installed from the configured package index into a folder of its
own: the venv's setuptools may be older than the floor (77, the first to read an SPDX
``license`` and ``license-files``). The backend runs with ``python -S``, so nothing of the
venv's site-packages (an older setuptools, its distutils hook) is in its way.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

import chainrule as cr

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as the test extra's tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The test tools and the benchmark peers: never pulled in by the `all` extra.
TEST_ONLY = {"pytest", "hypothesis", "ruff", "mypy", "pillow", "array-api-strict"}
PEERS = {"jax", "torch", "tensorflow-cpu", "autograd"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    backend = tmp / "backend"
    requires = PYPROJECT["build-system"]["requires"]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(backend), *requires]
    run = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = tmp / "dist"
    out.mkdir()
    build = (
        "from setuptools import build_meta as b; "
        f"w = b.build_wheel({str(out)!r}); s = b.build_sdist({str(out)!r}); print('BUILT', w, s)"
    )
    run = subprocess.run(
        [sys.executable, "-S", "-c", build],
        cwd=source,
        env={"PYTHONPATH": str(backend), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    # The backend logs to stdout too: the names are on the line it printed last.
    _, wheel_name, sdist_name = run.stdout.strip().splitlines()[-1].split()
    return {"wheel": out / wheel_name, "sdist": out / sdist_name}


def _metadata(text: str) -> Message:
    return email.parser.Parser().parsestr(text)


@pytest.fixture(scope="module")
def wheel_files(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built["wheel"]) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.fixture(scope="module")
def metadata(wheel_files) -> Message:
    (name,) = [n for n in wheel_files if n.endswith(".dist-info/METADATA")]
    return _metadata(wheel_files[name].decode())


def test_license_is_an_spdx_expression_with_the_license_file(metadata, wheel_files):
    assert metadata["Metadata-Version"] >= "2.4"  # the version that has License-Expression
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["License"] is None  # the deprecated free-text field is gone
    # A license classifier next to License-Expression is an error in PEP 639.
    assert not any(c.startswith("License ::") for c in metadata.get_all("Classifier"))
    (license_path,) = [n for n in wheel_files if n.endswith(".dist-info/licenses/LICENSE")]
    text = wheel_files[license_path].decode()
    assert text.startswith("MIT License") and "Copyright (c) 2026 The chainrule developers" in text
    assert text == (ROOT / "LICENSE").read_text()


def test_sdist_carries_the_license_and_the_same_metadata(built):
    with tarfile.open(built["sdist"]) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        pkg_info = _metadata(tar.extractfile(f"{top}/PKG-INFO").read().decode())
        assert f"{top}/LICENSE" in names and f"{top}/src/chainrule/py.typed" in names
    assert pkg_info["License-Expression"] == "MIT" and pkg_info["Version"] == cr.__version__


def test_wheel_ships_the_library_with_py_typed_and_nothing_from_the_checkout(wheel_files):
    assert "chainrule/py.typed" in wheel_files
    assert "chainrule/__init__.py" in wheel_files and "chainrule/cli.py" in wheel_files
    tops = {name.split("/")[0] for name in wheel_files}
    assert tops == {"chainrule", f"chainrule-{cr.__version__}.dist-info"}  # no examples/, benchmarks/, tests/
    entry_points = next(v for k, v in wheel_files.items() if k.endswith("entry_points.txt")).decode()
    assert "chainrule = chainrule.cli:main" in entry_points


def test_version_has_one_source(metadata):
    # pyproject.toml reads it from chainrule/__init__.py: the two cannot disagree.
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "chainrule.__version__"}
    assert metadata["Version"] == cr.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", cr.__version__)


def test_classifiers_urls_and_keywords(metadata):
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3 :: Only" in classifiers
    assert "Topic :: Scientific/Engineering :: Mathematics" in classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert set(urls) == {"Repository", "Documentation"}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Documentation"].endswith("/docs")
    keywords = metadata["Keywords"].split(",")
    assert "automatic differentiation" in keywords and "tensorflow" in keywords
    assert metadata["Author"] == "The chainrule developers"
    # Placeholders, not a package registry's address.
    assert not re.search(r"pypi\.org|pythonhosted\.org", (ROOT / "pyproject.toml").read_text(), re.I)
    assert all(".invalid/" in url for url in urls.values())


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _expand(extra: str) -> set[str]:
    """The distributions an extra pulls in, following ``chainrule[...]`` self-references."""
    names: set[str] = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        self_ref = re.fullmatch(r"chainrule\[([\w,]+)\]", requirement)
        if self_ref:
            for inner in self_ref.group(1).split(","):
                names |= _expand(inner)
        else:
            names |= _requirement_names([requirement])
    return names


def test_all_extra_is_every_optional_feature_and_no_test_tool(metadata):
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(metadata.get_all("Provides-Extra")) == set(extras)
    # docs builds the site (a developer's tool, like test and bench); gpu needs a CUDA-matched wheel.
    features = set(extras) - {"all", "test", "bench", "gpu", "docs"}
    assert features == {"scipy", "examples", "tensorboard", "viz", "fast", "dask"}
    everything = _expand("all")
    assert everything == set().union(*(_expand(extra) for extra in features))
    assert {"numba", "numexpr", "scipy", "scikit-learn", "matplotlib", "tensorboard", "dask"} <= everything
    assert not everything & (TEST_ONLY | PEERS)
    assert not [name for name in everything if name.startswith("cupy")]  # gpu: a CUDA-matched wheel
    # What `all` brings is also what the tests install, so CI exercises every optional feature.
    assert everything <= _expand("test")
    requires = metadata.get_all("Requires-Dist")
    assert 'chainrule[dask,examples,fast,scipy,tensorboard,viz]; extra == "all"' in requires  # sorted there


def test_readme_quick_start_is_two_commands_and_shows_the_plain_install():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = re.search(r"```bash\n(.*?)```", quick_start, re.S).group(1)
    commands = first_block.strip().splitlines()
    assert len(commands) == 2
    assert commands[0].endswith("chainrule demo") and "pip install -e '.[test]'" in commands[0]
    # CI runs exactly the README's test command (.ci/run's last line).
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert commands[1] == ci_lines[-1]
    assert "pip install ." in quick_start  # without the test tools
    assert "pip install '.[fast]'" in quick_start and "numba" in quick_start.lower()
    assert "pip install '.[all]'" in quick_start
