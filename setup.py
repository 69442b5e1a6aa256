"""setuptools hook: the user docs (docs/*.md and their screenshots) go into wheels.

They ship as package data of `resources` (resources/docs), where the Help
menu's viewer finds them (`app.helpmenu.docs_dir`); a source checkout and its
editable install read docs/ in place. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DOCS = ("*.md", "screenshots/*.png")


class BuildWithDocs(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads docs/ where it is
            return
        target = Path(self.build_lib) / "resources" / "docs"
        for pattern in DOCS:
            for source in sorted((ROOT / "docs").glob(pattern)):
                destination = target / source.relative_to(ROOT / "docs")
                destination.parent.mkdir(parents=True, exist_ok=True)
                self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildWithDocs})
