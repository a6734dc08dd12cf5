"""Dunning: the emails of a recovery campaign, the hosted card-update links they carry,
and the warnings sent before a card expires (DESIGN §7)."""
