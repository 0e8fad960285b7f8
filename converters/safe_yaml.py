"""YAML read safely: safe types only, no aliases (no alias bombs), nesting and numbers bounded
by :mod:`mafmt.limits`. Imported only when a YAML file is read (PyYAML costs about 20 ms to
import, paid otherwise by every conversion)."""

from __future__ import annotations

from typing import Any

import yaml

from mafmt import limits
from mafmt.errors import FormatError, LimitError

__all__ = ["load"]


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses aliases (no alias bombs) and nesting deeper than
    :data:`mafmt.limits.MAX_JSON_DEPTH`: ``[``/``{`` nesting is refused as it is scanned
    (the scanner's time grows with the square of it), block nesting as it is composed."""

    _depth = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= limits.MAX_JSON_DEPTH:
            raise LimitError(f"nested deeper than {limits.MAX_JSON_DEPTH} levels", line=self.get_mark().line + 1)
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed", event.start_mark)
        if self._depth >= limits.MAX_JSON_DEPTH:
            raise LimitError(f"nested deeper than {limits.MAX_JSON_DEPTH} levels",
                             line=self.peek_event().start_mark.line + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_long_int(self, node: Any) -> Any:
        """An integer, not longer than :data:`mafmt.limits.MAX_NUMBER_CHARS` characters."""
        if len(node.value) > limits.MAX_NUMBER_CHARS:
            raise LimitError(f"a number of {len(node.value)} characters (the limit is {limits.MAX_NUMBER_CHARS})",
                             line=node.start_mark.line + 1)
        return self.construct_yaml_int(node)


_NoAliasLoader.add_constructor("tag:yaml.org,2002:int", _NoAliasLoader.construct_long_int)


def load(text: str, file: str | None = None) -> Any:
    """YAML data: safe types only, no aliases, bounded nesting.

    Raises:
        FormatError: not YAML, or it uses aliases.
        LimitError: nested too deeply.
    """
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except LimitError as exc:
        raise LimitError(exc.reason, file=file, line=exc.line) from None
    except RecursionError:
        raise LimitError("YAML nested too deeply", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise FormatError(f"not valid YAML: {limits.clip(problem, 120)}", file=file,
                          line=mark.line + 1 if mark is not None else None) from None
