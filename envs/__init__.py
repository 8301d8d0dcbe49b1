"""Gymnasium text environments of the harness; importing this registers every ``harness/`` id."""

from envs.registration import register_all

register_all()
