"""The worked examples in qualkit.agreement's docstrings run and give the numbers they show.

Run here with :mod:`doctest` (rather than pytest's ``--doctest-modules``) so that the normal
test command checks them without pytest importing the rest of the package to collect modules.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import qualkit.agreement as agreement

MODULES = ["qualkit.agreement", *(f"qualkit.agreement.{m.name}" for m in pkgutil.iter_modules(agreement.__path__))]
# the statistics a researcher calls: each documents its parameters, result, formula, source and an example
STATISTICS = sorted({name for name in agreement.__all__
                     if inspect.isfunction(getattr(agreement, name)) and getattr(agreement, name).__name__ == name})


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_each_agreement_module_give_the_numbers_shown(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert runner.tries > 0, f"{name} has no example"


@pytest.mark.parametrize("name", STATISTICS)
def test_each_statistic_documents_parameters_returns_formula_source_and_example(name):
    doc = inspect.getdoc(getattr(agreement, name)) or ""
    sections = ("Parameters\n----------", "Returns\n-------", "Notes\n-----", "References\n----------",
                "Examples\n--------")
    missing = [s.split("\n")[0] for s in sections if s not in doc]
    assert missing == [], f"{name} lacks {', '.join(missing)}"
