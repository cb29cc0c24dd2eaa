"""Alert delivery: a durable outbox drained by a notifier into channels
(email over SMTP, Slack incoming webhooks), with retries, throttling and digests.

Lifecycle: the service (or ``newswatch process``) *enqueues* alerts into the
outbox, a SQLite file, before anything is sent; the notifier (``newswatch
notify``, or a thread of ``newswatch run``) sends what is due and marks it
sent right after the channel accepted it. Delivery guarantee: every alert
reaches every channel of its rule, retried with backoff while the channel is
down; a restart resends nothing already marked sent. The one window left is a
crash between the channel's acceptance and the mark (milliseconds), where the
alert is sent again: email carries a deterministic Message-ID so clients fold
that copy; nothing is ever dropped to avoid it.
"""
