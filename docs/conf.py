"""Sphinx configuration of sigest's documentation."""

import os
import sys
from pathlib import Path

import sigest

# The benchmarks page includes tables read from benchmarks/results at build time.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import report  # noqa: E402

report.main(["--out", str(Path(__file__).resolve().parent / "generated" / "benchmarks")])

project = "sigest"
author = "sigest developers"
copyright = "2026, sigest developers"
version = release = sigest.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "auto_examples/*.pickle", "auto_examples/*.codeobj.json",
                    "generated/benchmarks/*"]  # included by benchmarks.md, not pages
autosummary_generate = True
templates_path = ["_templates"]
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]
intersphinx_mapping = {}

data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
os.environ.setdefault("SIGEST_DATA", str(data_dir))
os.environ.setdefault("MPLBACKEND", "Agg")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "show_memory": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sigest {version}"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}
html_static_path = ["_static"]
html_favicon = "_static/favicon.png"
html_sidebars = {"benchmarks": []}  # a single page: its wide tables get the room
# An explicit mode, so the theme does not log an error on a first visit.
html_context = {"default_mode": "light"}


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods on every estimator class; their docstrings
    # point into scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
