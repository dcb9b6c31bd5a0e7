"""One module per delivery service (Slack, Discord) and the e-mail providers together in
`email/`. Each depends on the channel contract and the shared HTTP policy, never on another
channel.
"""
