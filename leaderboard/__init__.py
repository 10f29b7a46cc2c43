"""The harness side of pix2code-gym: the ``pix2code`` command today; suites, the evaluation harness,
submissions and the leaderboard pages build on :mod:`agents.evaluate` here."""
