"""Recover: decline classes, retry cadences and the caps no retry may break (DESIGN §6)."""
