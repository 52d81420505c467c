"""The environment the tests run in holds exactly the locked versions (requirements/, made by `./dev lock`)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked(path: Path) -> dict[str, str]:
    """Name -> version of every pin in a lock file whose environment marker holds here."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if not match:
            continue
        marker = match["marker"]
        if marker and not Marker(marker).evaluate():
            continue
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_every_installed_package_is_the_locked_version() -> None:
    lock = locked(ROOT / "requirements" / "dev.txt")
    have = installed()
    have.pop("netmgr", None)
    wrong = {name: (have[name], lock[name]) for name in have.keys() & lock.keys() if have[name] != lock[name]}
    assert not wrong, f"installed != locked (installed, locked): {wrong}; run ./dev setup"
    assert not have.keys() - lock.keys(), f"installed but not locked: {sorted(have.keys() - lock.keys())}"
    assert not lock.keys() - have.keys(), f"locked but not installed: {sorted(lock.keys() - have.keys())}"


def test_every_lock_line_carries_hashes() -> None:
    for name in ("dev.txt", "runtime.txt"):
        text = (ROOT / "requirements" / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", text)
        for block in blocks[1:]:
            assert "--hash=sha256:" in block, f"{name}: no hash for {block.splitlines()[0]}"


def test_the_runtime_lock_is_the_dev_lock_without_the_dev_tools() -> None:
    runtime = locked(ROOT / "requirements" / "runtime.txt")
    dev = locked(ROOT / "requirements" / "dev.txt")
    differ = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differ, f"runtime and dev locks disagree (runtime, dev): {differ}; run ./dev lock"


def test_every_dependency_pyproject_declares_is_locked_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = locked(ROOT / "requirements" / "runtime.txt")
    dev = locked(ROOT / "requirements" / "dev.txt")
    for lock, declared in ((runtime, project["dependencies"]), (dev, project["optional-dependencies"]["dev"])):
        for spec in declared:
            requirement = Requirement(spec)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{requirement.name} is declared in pyproject.toml but not locked; run ./dev lock"
            assert requirement.specifier.contains(lock[name], prereleases=True), (
                f"{requirement.name} {lock[name]} is outside pyproject.toml's {requirement.specifier}; run ./dev lock"
            )


OURS = ("netmgr", "collectors", "provisioning", "captive_portal")

#: Product packages that may import a development-only distribution: each is run only as its own process by
#: ``netmgr demo`` (``python -m …``), which checks first that the distribution is there and otherwise says in one
#: line how to get it. Nothing else in the product may import them (next test), so an installed netmgr without
#: the distribution works. Moving these distributions to a ``demo`` extra would empty this list.
DEMO_ONLY: dict[str, frozenset[str]] = {
    "netmgr.demo.simulators": frozenset({"asyncssh"}),  # the SSH device simulators
}


def product_imports() -> Iterator[tuple[Path, str]]:
    """(file, absolute module name) of every import statement in the product's own code."""
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    yield from ((path, alias.name) for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield path, node.module
                    yield from ((path, f"{node.module}.{alias.name}") for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    raise AssertionError(f"{path.relative_to(ROOT)}: relative import; the product imports absolutely")


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def demo_only_package(path: Path) -> str | None:
    module = module_of(path)
    return next((p for p in DEMO_ONLY if module == p or module.startswith(p + ".")), None)


def test_every_package_the_product_imports_is_a_runtime_dependency() -> None:
    """An installed netmgr (the image, `pip install netmgr`) has only the runtime lock: the product's own code
    must not import a development-only package, except the demo-only packages above, which may import only the
    development-only distributions listed for them."""
    runtime = locked(ROOT / "requirements" / "runtime.txt")
    dev = locked(ROOT / "requirements" / "dev.txt")
    distributions = metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for path, name in product_imports():
        top = name.split(".")[0]
        if top in OURS or top in sys.stdlib_module_names:
            continue
        dists = {canonicalize_name(d) for d in distributions.get(top, [top])}
        if dists & runtime.keys():
            continue
        allowed = DEMO_ONLY.get(demo_only_package(path) or "", frozenset())
        if dists & allowed and dists & dev.keys():
            continue
        missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported by the product but not in its runtime dependencies: {missing}"


def test_nothing_in_the_product_imports_a_demo_only_package() -> None:
    """What makes DEMO_ONLY safe: the demo starts those modules as processes, nobody imports them."""
    importers = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in product_imports()
        for package in DEMO_ONLY
        if (name == package or name.startswith(package + ".")) and demo_only_package(path) != package
    }
    assert not importers, f"demo-only packages must be started as processes, not imported: {sorted(importers)}"
