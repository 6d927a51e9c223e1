"""Renders the prompt templates in `prompts/` (Jinja2, shared fragments through `{% include %}`).

Rendering is strict: a missing template or a variable the template uses but the caller did not pass raises
`PromptError` naming both, instead of silently sending the model a prompt with a hole in it. The prompt version
recorded with every card and suggestion is `prompts/VERSION` plus a short hash of all template files, so an edited
template is visible in the audit trail even when nobody bumped the version.
"""
from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, UndefinedError

from copilot.engine.injection import fold

_DATA_TAG_RE = re.compile(r"[<>&]")
_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


class PromptError(RuntimeError):
    """A prompt template is missing, broken, or needs a variable that was not given."""


def default_prompts_dir() -> Path:
    """`prompts/` at the repository root (next to the `copilot` package), else the copy a wheel installs as
    data files under `<prefix>/share/omnicopilot/prompts`."""
    import sys

    candidates = [
        Path(__file__).resolve().parents[2] / "prompts",
        Path(sys.prefix) / "share" / "omnicopilot" / "prompts",
    ]
    for candidate in candidates:
        if (candidate / "VERSION").is_file():
            return candidate
    return candidates[0]


def escape_data(value: Any) -> str:
    """Customer text goes inside data tags; escaping `<`, `>` and `&` means it can never close the tag (nor write a
    chat-template token such as `<|im_start|>`). It is folded first (invisible characters removed, look-alike
    letters mapped to Latin where they pose as Latin), so the model reads what the agent reads."""
    return _DATA_TAG_RE.sub(lambda m: _ESCAPES[m.group(0)], fold(str(value)))


def escape_attr(value: Any) -> str:
    """Attribute values additionally lose quotes and line breaks."""
    return escape_data(value).replace('"', "&quot;").replace("\n", " ").replace("\r", " ")


class PromptRenderer:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_prompts_dir()
        self.env = Environment(
            loader=FileSystemLoader(str(self.directory)),
            undefined=StrictUndefined,
            autoescape=False,  # prompts are not HTML; data is escaped explicitly with the `data` filter
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,  # a fragment ends with its line break
        )
        self.env.filters["data"] = escape_data
        self.env.filters["attr"] = escape_attr

    def render(self, name: str, **variables: Any) -> str:
        try:
            template = self.env.get_template(name)
            return template.render(**variables).strip() + "\n"
        except TemplateNotFound as err:
            raise PromptError(f"prompt template {err.name!r} not found in {self.directory}") from err
        except UndefinedError as err:
            raise PromptError(f"prompt template {name!r} needs a variable that was not given: {err.message}") from err
        except TemplateSyntaxError as err:
            raise PromptError(f"prompt template {err.name or name!r} line {err.lineno}: {err.message}") from err

    @cached_property
    def version(self) -> str:
        """`<VERSION>+<hash of every template>`, at most 50 characters (the column that stores it)."""
        try:
            base = (self.directory / "VERSION").read_text(encoding="utf-8").strip()
        except OSError as err:
            raise PromptError(f"prompt directory {self.directory} has no VERSION file") from err
        digest = hashlib.sha256()
        for path in sorted(self.directory.rglob("*.j2")):
            digest.update(path.relative_to(self.directory).as_posix().encode())
            digest.update(path.read_bytes())
        return f"{base}+{digest.hexdigest()[:8]}"[:50]
