"""Build a named object (an activation, a loss, an optimizer, a schedule) from a name or a
config dict.

``registry`` maps canonical names to classes, ``aliases`` other spellings to canonical names.
A spec is a name (``"adam"``), a config dict (``{"name": "adam", "beta1": 0.8}``) or an
instance of ``base``, returned as is. Every mistake gets a ConfigurationError naming it and
the valid names or options.
"""

from __future__ import annotations

import inspect
import sys

from .errors import ConfigurationError

__all__ = ["build", "family", "named_class", "modules_naming", "recorded_config", "register",
           "registered_modules"]

#: Each family's base class -> (kind, registry, aliases, built-in names); a family's module
#: adds itself when imported.
_FAMILIES: dict[type, tuple[str, dict, dict, frozenset]] = {}


def _a(word: str) -> str:
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def _public(base: type) -> str:
    """``npdeep.activations.Activation``: where users import ``base`` from."""
    module = base.__module__
    return f"{'npdeep.activations' if module == 'npdeep._activation_base' else module}." \
           f"{base.__name__}"


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
    if not isinstance(spec, str) and callable(spec):
        # NumPy 1.x ufuncs (np.tanh) and callable objects have a __name__ but no __qualname__
        name = (getattr(spec, "__qualname__", None) or getattr(spec, "__name__", None)
                or type(spec).__name__)
        raise ConfigurationError(
            f"{kind} must be a name or {_a(base.__name__)}, got the function {name}; for "
            f"{_a(kind)} of your own, subclass {_public(base)}"
            + (" and define learning_rate(self, epoch, lr0) (what Keras's "
               "LearningRateScheduler and PyTorch's LambdaLR take as a function)"
               if kind == "schedule" else " (its docstring says what to define)")
            + f", then pass an instance; valid names: {valid}")
    if not isinstance(spec, str):
        raise ConfigurationError(f"{kind} must be a name or {_a(base.__name__)}, got {spec!r}; "
                                 f"valid names: {valid}")
    key = aliases.get(spec.lower(), spec.lower())
    if key not in registry:
        also = f" (aliases: {', '.join(sorted(aliases))})" if aliases else ""
        raise ConfigurationError(
            f"unknown {kind} {spec!r}; valid names: {valid}{also}. Your own {base.__name__} "
            f"subclass? Register it first, in every process that names it or loads a file that "
            f"does: npdeep.register(YourClass) (command line: npdeep --import your_module ...); "
            f"worker processes (n_jobs, Dask) import only modules: for a class defined in a "
            f"script or notebook, pass an instance instead of its name")
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


def family(kind: str, base: type, registry: dict, aliases: dict) -> None:
    """Record a family's registry so :func:`register` can add subclasses of ``base`` to it."""
    _FAMILIES[base] = (kind, registry, aliases, frozenset(registry))


def register(cls: type) -> type:
    """Make a subclass of Activation, Loss, Optimizer or Schedule known by its ``name``.

    Usable as a class decorator. Model files, checkpoints and the estimators' parameters name
    their activations, losses, optimizers and schedules, so a file that names your class loads
    (and a checkpoint resumes) in a process that has registered it. The class's
    ``get_config()`` must return ``name`` and every argument of its ``__init__``: loading
    calls ``cls(**options)``. Registering the same class again, or a class of the same module
    and name (a notebook cell run again), replaces it; a built-in name is refused.
    """
    from . import activations, losses, optimizers, schedules  # noqa: F401  (their families)

    if not isinstance(cls, type):
        raise ConfigurationError(
            f"register takes a class, got {cls!r:.80}: pass the class itself (or decorate it "
            "with @npdeep.register), not an instance")
    base = next((b for b in cls.__mro__[1:] if b in _FAMILIES), None)
    if base is None:
        bases = ", ".join(b.__name__ for b in _FAMILIES)
        raise ConfigurationError(f"register takes a subclass of {bases}; {cls.__name__} is none")
    kind, registry, aliases, builtin = _FAMILIES[base]
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ConfigurationError(
            f"{cls.__name__} needs a class attribute name = '...' (the name files record for "
            f"{_a(kind)}), got {name!r:.80}")
    key = name.lower()
    if key in builtin or key in aliases:
        raise ConfigurationError(
            f"{_a(kind)} named {name!r} is built into npdeep; give {cls.__name__} another name")
    held = registry.get(key)
    if held is not None and held is not cls and \
            (held.__module__, held.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ConfigurationError(
            f"{kind} name {name!r} is already registered to {held.__module__}."
            f"{held.__qualname__}; give {cls.__name__} another name")
    registry[key] = cls
    return cls


def named_class(component) -> type | None:
    """The class that the name in ``component.get_config()`` loads (None: an unknown name)."""
    name = str(component.get_config().get("name", "")).lower()
    for base, (_, registry, aliases, _) in _FAMILIES.items():
        if isinstance(component, base):
            return registry.get(aliases.get(name, name))
    return None


def recorded_config(component) -> dict:
    """Return ``component.get_config()``, as a file records it, once sure that the name it
    records loads this class: a subclass of a built-in that kept its name (``adam``,
    ``sigmoid``) would load as the built-in, silently another model."""
    config = component.get_config()
    held = named_class(component)
    if held is not None and held is not type(component):
        cls = type(component).__name__
        kind = next(k for b, (k, *_) in _FAMILIES.items() if isinstance(component, b))
        raise ConfigurationError(
            f"{cls} would be saved as {kind} {config.get('name')!r}, which loads "
            f"{held.__qualname__}: give {cls} a name of its own (name = '...') and "
            f"npdeep.register it")
    return config


def modules_naming(values) -> list[str]:
    """The modules of the registered classes that ``values`` name (names, config dicts, lists
    of them), for a process that unpickles them to import: a grid search's worker knows the
    name only once the module that registers it has run there. ``__main__`` is left out."""
    modules: list[str] = []
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (list, tuple)):
            stack.extend(value)
            continue
        name = value.get("name") if isinstance(value, dict) else value
        if not isinstance(name, str):
            continue
        for _, registry, aliases, builtin in _FAMILIES.values():
            key = aliases.get(name.lower(), name.lower())
            cls = registry.get(key)
            if cls is not None and key not in builtin and cls.__module__ != "__main__" \
                    and cls.__module__ not in modules:
                modules.append(cls.__module__)
    return modules


def registered_modules() -> list[str]:
    """The modules of every class registered in this process, in the order registered.

    A grid search's worker sets the grid's parameters after unpickling the estimator: a name
    given only in the grid (``{"activation": ["softsign"]}``) is known there only once the
    module that registers it has run. ``__main__`` (which a worker cannot import) and modules
    no longer in ``sys.modules`` are left out.
    """
    modules: list[str] = []
    for _, registry, _, builtin in _FAMILIES.values():
        for key, cls in registry.items():
            module = cls.__module__
            if key not in builtin and module != "__main__" and module in sys.modules \
                    and module not in modules:
                modules.append(module)
    return modules
