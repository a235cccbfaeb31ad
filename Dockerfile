# fakestack as a container, for CI services that want the fake beside the code under test:
#   docker build -t fakestack . && docker run --rm -p 8080:8080 fakestack
# then point your SDK at http://localhost:8080 (the dashboard is at /_fakestack/ui).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md LICENSE conftest_plugin.py ./
COPY fakestack ./fakestack
# Only what running needs (the runtime dependencies, no test extra).
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 fakestack \
    && rm -rf /src

USER fakestack
WORKDIR /home/fakestack
EXPOSE 8080

# Inside a container the server must listen on 0.0.0.0, so anyone who can reach the port
# can use the admin API (/_fakestack: reset, clock, fault plans, state). Issue 14 adds
# `--admin-token TOKEN` (and `--insecure-admin`) to `fakestack serve` for binds other than
# loopback; when `fakestack serve --help` lists them, add `--admin-token` with a secret
# from the environment, or `--insecure-admin` on a private CI network. This CMD predates
# those options and binds without a token.
CMD ["fakestack", "serve", "--host", "0.0.0.0", "--port", "8080"]
