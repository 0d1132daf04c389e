"""Which packages the wheel holds; everything else is in pyproject.toml.

The repository keeps the editor's data files in the top-level ``resources/`` folder; the wheel
carries them as the package ``storyboard.resources`` (fonts, styles, model presets, the built-in
model, icons), which ``storyboard.core.resources`` finds with ``importlib.resources``. Mapping a
folder outside ``storyboard/`` into it needs a computed package list, hence this file.
"""

from setuptools import find_namespace_packages, find_packages, setup

DATA = "storyboard.resources"

setup(
    packages=[
        *find_packages(include=["storyboard", "storyboard.*", "inference", "inference.*"]),
        DATA,
        *(f"{DATA}.{name}" for name in find_namespace_packages("resources")),
    ],
    package_dir={DATA: "resources"},
    package_data={DATA: ["**/*"], "": ["*.json"]},
    # the reader of the toy world's pictures only scores benchmarks and training
    exclude_package_data={DATA: ["**/__pycache__/*", "models/toyworld-reader.safetensors"]},
)
