"""``deepfab logs``: parse your own log files into event templates (and, later, score them for anomalies).

    deepfab logs parse FILE --format FORMAT --out CSV [--force]

The parser is ``deepfab.aiops.drain`` (a Drain-style fixed-depth tree), the format syntax
``deepfab.aiops.logformat``; lecture 16 (AIOps) teaches both.
"""
