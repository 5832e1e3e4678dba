"""Cases for the conv, pool and rnn primitives (filled as the families land)."""

WINDOW_CASES: list = []
