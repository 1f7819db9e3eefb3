"""The library as a Python user meets it: `import qualkit`, dir(), the public names, and type hints
that a type checker can read (the package ships py.typed)."""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import qualkit
import qualkit.api
import qualkit.errors


def test_dir_lists_every_public_name_before_any_is_used():
    code = ("import sys, qualkit\nnames = dir(qualkit)\n"
            "print(sorted(set(qualkit.__all__) - set(names)))\n"
            "print([m for m in ('pandas', 'numpy', 'yaml', 'docx', 'spacy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "[]"]  # nothing missing, nothing heavy loaded


def test_every_public_name_resolves_to_the_object_it_names():
    for name in qualkit.__all__:
        assert getattr(qualkit, name) is not None
    assert qualkit.Workspace is qualkit.api.Workspace
    assert qualkit.QualkitError is qualkit.errors.QualkitError
    assert set(qualkit.__all__) == set(qualkit._LAZY) | {"__version__"}


def test_an_unknown_name_is_an_attribute_error():
    try:
        qualkit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("qualkit.no_such_thing did not raise")


def test_errors_all_names_every_qualkit_error_and_nothing_else():
    defined = {name for name, obj in vars(qualkit.errors).items()
               if inspect.isclass(obj) and issubclass(obj, qualkit.errors.QualkitError)}
    assert sorted(qualkit.errors.__all__) == sorted(defined)


def test_the_facade_exports_workspace():
    assert qualkit.api.__all__ == ["Workspace"]


def _unannotated(func: object) -> list[str]:
    sig = inspect.signature(func)  # type: ignore[arg-type]
    missing = [p.name for p in sig.parameters.values() if p.name != "self" and p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_function_of_the_facade_and_errors_has_type_hints():
    functions = {f"Workspace.{name}": f for name, f in vars(qualkit.api.Workspace).items()
                 if inspect.isfunction(f) and not name.startswith("_")}
    for cls_name in qualkit.errors.__all__:
        cls = getattr(qualkit.errors, cls_name)
        for name, f in vars(cls).items():
            if inspect.isfunction(f) and (not name.startswith("_") or name in ("__init__", "__str__")):
                functions[f"{cls_name}.{name}"] = f
    assert len(functions) > 10
    assert {name: missing for name, f in functions.items() if (missing := _unannotated(f))} == {}


def test_the_package_is_marked_typed():
    assert (Path(qualkit.__file__).parent / "py.typed").is_file()
