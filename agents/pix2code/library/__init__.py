"""Library learning for the Pix2Code agent: library files, inside–outside, compression with
stitch-core, and the wake–sleep loop (``pix2code train pix2code``)."""

from agents.pix2code.library.library import Invention, Library, LibraryError

__all__ = ["Invention", "Library", "LibraryError"]
