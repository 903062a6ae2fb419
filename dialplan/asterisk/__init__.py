"""The local Asterisk 22 sandbox: a debootstrap root, rendered per-instance configs, supervised processes."""
