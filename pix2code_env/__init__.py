"""pix2code-gym environments. Importing this package registers every id with Gymnasium.

>>> import gymnasium as gym, pix2code_env
>>> env = gym.make("Pix2Code-Kandinsky-v0", subset="test")
"""

from pix2code_env.env import ConceptEnv
from pix2code_env.registration import ENV_SPECS, env_ids, env_spec, object_schema, register_all
from pix2code_env.scoring import bootstrap_ci, class_balanced_accuracy
from tasks.schema import ObjectSchema

register_all()

__all__ = [
    "ENV_SPECS", "ConceptEnv", "ObjectSchema", "bootstrap_ci", "class_balanced_accuracy", "env_ids", "env_spec",
    "object_schema",
]
