"""The application object tasks and services share (`App`: config, environment, clock, stores,
redactor, stop event) and the composition root that builds it from the settings. Sits right
above `storage`; what it holds from higher layers (alerts, channels) it names for type
checking only.
"""
