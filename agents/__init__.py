"""Agents for pix2code-gym: the protocol, a registry, reference agents and the Pix2Code agent.

>>> from agents import make_agent
>>> agent = make_agent("prior", env_id="Pix2Code-Kandinsky-v0")
"""

from agents.base import Agent, Classifier, SequentialPlayer
from agents.registry import available_agents, make_agent

__all__ = ["Agent", "Classifier", "SequentialPlayer", "available_agents", "make_agent"]
