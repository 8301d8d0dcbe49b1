"""Rubric models (Co-ReAct style): rubric texts and templates, the rubric scorer, the
rubric agents and distillation of a judge into a rubric scorer."""
