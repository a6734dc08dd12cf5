"""billing (being written)."""


def run_wall_clock(state):
    return None
