"""The `buzon` commands, by area; buzon/cli.py assembles them into one group.

Each command is a thin click function: it loads the settings, asks a buzon.runtime.Runtime for what it needs, and
prints. The domain modules are imported inside the commands (start-up time: `buzon --help` and every other command
load only what they use). Problems the user must fix are raised as buzon.config.ConfigError and printed by the group
as one line, exit 2 (buzon/commands/errors.py).
"""
