"""Find agents by name: built-ins, the ``pix2code.agents`` entry-point group, or ``module:Class``."""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any

from agents.base import Agent

ENTRY_POINT_GROUP = "pix2code.agents"

#: Built-in agents, also reachable when the package is used from a source tree without installing.
BUILTIN_AGENTS: dict[str, str] = {
    "random": "agents.reference:RandomAgent",
    "prior": "agents.reference:PriorAgent",
    "oracle-strong": "agents.oracles:StrongOracle",
    "oracle-weak": "agents.oracles:WeakOracle",
    "pix2code": "agents.pix2code.agent:Pix2CodeAgent",
    "protonet": "agents.neural.agent:ProtoNetAgent",
    "transformer": "agents.neural.agent:TransformerAgent",
    "ppo": "agents.neural.ppo:PPOAgent",
}


def available_agents() -> dict[str, str]:
    """Agent name -> ``module:Class`` for every agent this installation knows."""
    found = dict(BUILTIN_AGENTS)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return dict(sorted(found.items()))


def _load(target: str) -> type:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"agent reference {target!r} is not of the form 'module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # a console script does not put the working directory on sys.path; an agent module
        # beside the user (``pix2code evaluate my_agent:Agent``) is what they mean
        if error.name != module_name.split(".")[0] or os.getcwd() in sys.path:
            raise ValueError(f"cannot import module {module_name!r} for agent {target!r}: {error}") from error
        sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except ImportError as again:
            raise ValueError(f"cannot import module {module_name!r} for agent {target!r}: {again}") from again
    except ImportError as error:
        raise ValueError(f"cannot import module {module_name!r} for agent {target!r}: {error}") from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r} (agent {target!r})") from None


def agent_class(name: str) -> type:
    """Resolve a registered name or a ``module:Class`` string to an Agent subclass."""
    known = available_agents()
    if name in known:
        cls = _load(known[name])
    elif ":" in name:
        cls = _load(name)
    else:
        raise ValueError(f"unknown agent {name!r}; expected one of {list(known)} or 'module:Class'")
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise TypeError(f"{name!r} resolves to {cls!r}, which is not an agents.base.Agent subclass")
    return cls


def make_agent(name: str, env_id: str | None = None, **kwargs: Any) -> Agent:
    """Build an agent by name; ``env_id`` lets it load what was trained for that environment."""
    return agent_class(name)(env_id=env_id, **kwargs)
