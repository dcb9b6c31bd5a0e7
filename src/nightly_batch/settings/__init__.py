"""What the operator configures: the config file's keys (validated, with one-sentence errors and
did-you-mean warnings) and the environment's secrets and switches. May import `core` and
`observability`; opens no store and sends nothing.
"""
