"""ALFWorld on its real engine (``alfworld`` + TextWorld's PDDL backend).

``harness/ALFWorld-v0`` plays the real ALFWorld game files (user-supplied data);
``harness/ALFWorldGen-v0`` plays games generated here from the room layouts, goal library,
PDDL domain and grammar that the ``alfworld`` package ships (not the published test set).
Nothing heavy is imported until an env is made.
"""
