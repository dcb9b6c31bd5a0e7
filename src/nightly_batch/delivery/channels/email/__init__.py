"""E-mail delivery: the message's parts (`content`), and the providers that send it (SendGrid,
Mailgun, SMTP) behind one channel.
"""
