"""Build a named object (an activation, a loss, an optimizer, a schedule) from a name or a
config dict.

``registry`` maps canonical names to classes, ``aliases`` other spellings to canonical names.
A spec is a name (``"adam"``), a config dict (``{"name": "adam", "beta1": 0.8}``) or an
instance of ``base``, returned as is. Every mistake gets a ConfigurationError naming it and
the valid names or options.
"""

from __future__ import annotations

import inspect

from .errors import ConfigurationError

__all__ = ["build"]


def _a(word: str) -> str:
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def build(spec, kind: str, base: type, registry: dict, aliases: dict):
    """Return ``registry[name](**options)`` for ``spec``, or ``spec`` itself when a ``base``.

    ``kind`` is the word errors use (``'activation'``, ``'optimizer'``...).
    """
    if isinstance(spec, base):
        return spec
    valid = ", ".join(registry)
    config: dict = {}
    if isinstance(spec, dict):
        config = dict(spec)
        if "name" not in config:
            raise ConfigurationError(f"{_a(kind)} config dict needs a 'name' key, got "
                                     f"{spec!r:.100}; valid names: {valid}")
        spec = config.pop("name")
    if isinstance(spec, type) and issubclass(spec, base):
        raise ConfigurationError(
            f"{kind} must be a name or {_a(base.__name__)}, got the class {spec.__name__}: "
            f"pass {spec.__name__}() (with its options); valid names: {valid}")
    if not isinstance(spec, str):
        raise ConfigurationError(f"{kind} must be a name or {_a(base.__name__)}, got {spec!r}; "
                                 f"valid names: {valid}")
    key = aliases.get(spec.lower(), spec.lower())
    if key not in registry:
        also = f" (aliases: {', '.join(sorted(aliases))})" if aliases else ""
        raise ConfigurationError(f"unknown {kind} {spec!r}; valid names: {valid}{also}")
    cls = registry[key]
    options = list(inspect.signature(cls).parameters) if config else []
    unknown = [n for n in config if n not in options]
    if unknown:
        raise ConfigurationError(  # the estimators' set_params says it the same way
            f"invalid options for {kind} {key!r}: {unknown!r:.100} (its options: "
            f"{', '.join(options) or 'none'})"
            + ("; the learning rate is fit's learning_rate" if
               {"lr", "learning_rate"} & set(unknown) else ""))
    return cls(**config)
