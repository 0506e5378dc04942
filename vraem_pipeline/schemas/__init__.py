"""pandera models: the one place for staging column types, rules and descriptions.

The data dictionary, `COMMENT ON`, the staging DDL and each source's blocking asset check are generated from
these schemas. Check names are the rule names quarantine rows carry.
"""
