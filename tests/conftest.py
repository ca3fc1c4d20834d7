import os

from hypothesis import settings

# CI: more examples, no deadline (the machine is shared and noisy); locally: quick.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
