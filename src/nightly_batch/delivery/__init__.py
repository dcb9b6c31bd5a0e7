"""Getting a digest to people: the channel contract, one module per service under `channels/`
(e-mail providers together), the factory and check-config checks, the shared HTTP retry
policy, host rules for URLs, and the fan-out that records every attempt before and after.
May import `runtime` and everything below it; channels never import each other.
"""
