"""What the operator configures: the config file's keys and the environment's secrets and
switches, as pydantic models (validated, with one-sentence errors and did-you-mean warnings;
docs/CONFIGURATION.md is written from them). May import `core` and `observability`; opens no
store and sends nothing.
"""
