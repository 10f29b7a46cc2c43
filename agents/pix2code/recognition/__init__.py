"""The recognition model: a support set in, grammar weights out (DreamCoder's guide, synthesis.md §7)."""

from agents.pix2code.recognition.model import RecognitionModel, load_recognition

__all__ = ["RecognitionModel", "load_recognition"]
